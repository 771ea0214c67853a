"""Incremental reviews: only what changed since the last review, findings carried and resolved."""

from __future__ import annotations

from bot.store.findings_table import FindingRepo
from tests.reviewing import (
    NEW_APP,
    OLD_APP,
    OWNER,
    REPO,
    finding,
    many_files,
    open_pull,
    run_review,
)


async def test_incremental_review_sends_only_the_changed_file(services, fake_github, fake_gemini):
    files = many_files(5)
    pull = open_pull(fake_github, files=files)
    fake_gemini.findings["bugs"] = [
        finding("pkg/module_001.py", line=2, severity="high", title="Doubled twice")
    ]
    await run_review(services, pull, "opened")
    fake_gemini.requests.clear()
    pull.push({"pkg/module_003.py": "VALUE = 3\nDOUBLE = 3 * 2\nTRIPLE = 9\n"})

    second = await run_review(services, pull, "synchronize")

    assert {p for r in fake_gemini.requests for p in r.files} == {"pkg/module_003.py"}
    assert second.stats["incremental"] is True
    stored = await FindingRepo(services.pool).for_review(second.id)
    assert [(f["title"], f["carried_from"] is not None) for f in stored] == [
        ("Doubled twice", True)
    ]
    body = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    assert "Doubled twice" in body and "carried forward" in body


async def test_force_push_gives_a_full_review(services, fake_github, fake_gemini):
    pull = open_pull(fake_github, files=many_files(3))
    await run_review(services, pull, "opened")
    fake_gemini.requests.clear()
    pull.push({"pkg/module_000.py": "VALUE = 0\nDOUBLE = 0\n"}, force=True)

    second = await run_review(services, pull, "synchronize")

    assert second.stats["incremental"] is False
    assert {p for r in fake_gemini.requests for p in r.files} == set(many_files(3))


async def test_unchanged_finding_is_posted_inline_once_and_a_fixed_one_resolves(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github, files={"app.py": (OLD_APP, NEW_APP), "b.py": ("", "x = 1\n")})
    eval_finding = finding("app.py", line=9, title="eval of user input")
    fake_gemini.findings["security"] = [eval_finding]
    await run_review(services, pull, "opened")
    # Second push: app.py changes above the flagged line, which moves down but is the same.
    pull.push({"app.py": "# header\n" + NEW_APP})
    fake_gemini.findings["security"] = [finding("app.py", line=10, title="eval of user input")]
    await run_review(services, pull, "synchronize")
    # Third push: the eval is fixed.
    pull.push({"app.py": "# header\n" + NEW_APP.replace("eval(", "int(")})
    fake_gemini.findings["security"] = []

    await run_review(services, pull, "synchronize")

    bodies = [c["body"] for c in fake_github.review_comments(OWNER, REPO, 7)]
    assert len(bodies) == 1, "the unchanged finding was commented on once"
    summary = fake_github.comments(OWNER, REPO, 7)[0]["body"]
    assert "Resolved since the last review (1)" in summary
    assert "~~eval of user input~~" in summary
