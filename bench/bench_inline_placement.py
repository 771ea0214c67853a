"""Inline comments GitHub rejects and findings lost when the model flags every kind of line."""

from __future__ import annotations

from collections import Counter

import common

from bot.app.services import Services
from bot.app.worker import process_review
from bot.store import reviews
from tests.inert import shown
from tests.reviewing import placement_fixture, spread

FILES, NUMBER = 8, 1  # 5 findings a file, 10 for each of the 4 agents (their maxItems)
CONFIG = "max_inline_comments: 100\n"


async def run(fake: common.Fakes, database_url: str) -> reviews.Review:
    files, findings = placement_fixture(FILES)
    pull = fake.github.add_pull(common.OWNER, common.REPO, NUMBER, files=files)
    fake.github.set_content(common.OWNER, common.REPO, "main", ".github/second-look.yml", CONFIG)
    fake.gemini.findings.update(spread(findings))
    async with Services.open(common.settings(fake, database_url)) as services:
        review_id = await common.new_review(services.pool, pull)
        await process_review(review_id, services)
        review = await reviews.get(services.pool, review_id)
    assert review is not None
    return review


def main() -> None:
    common.stop_on_sigterm()
    with common.database() as database_url, common.fakes() as fake:
        review = common.run(run(fake, database_url))
        # What the model answered: FakeGemini returns each agent's scripted findings of the
        # files that agent saw (the 40 are dealt to the four agents, 10 a call).
        model = {}
        for agent, scripted in fake.gemini.findings.items():
            requests = [r for r in fake.gemini.requests if r.agent == agent and r.status == 200]
            sent = {path for r in requests for path in r.files}
            model.update({f["title"]: f for f in scripted if f["file_path"] in sent})
        comments = fake.github.comments(common.OWNER, common.REPO, NUMBER)
        inline = fake.github.review_comments(common.OWNER, common.REPO, NUMBER)
        rejected = fake.github.rejected_comments
    # What a reader sees: the markdown rendered (titles are escaped in the source).
    summary = "\n".join(shown(c["body"]) for c in comments)
    inline_text = "\n".join(shown(c["body"]) for c in inline)
    answered = list(model)
    lost = [t for t in answered if t not in summary and t not in inline_text]
    # An inline comment must carry the title of a finding on that very path and line.
    misplaced = [
        c
        for c in inline
        if not any(
            t in shown(c["body"])
            and model[t]["file_path"] == c["path"]
            and model[t]["line_start"] == c["line"]
            for t in answered
        )
    ]
    not_in_summary = [t for t in answered if t not in summary]
    for title in lost[:10]:
        common.note(f"lost: {title}")
    kinds = Counter(t.split(" in ")[0] for t in answered for c in inline if t in shown(c["body"]))
    common.note(f"inline comments by kind of line: {dict(kinds)}")
    moved = review.stats.get("moved")
    common.note(f"stats: {review.stats}; summary comments: {len(comments)}")
    row = common.row
    common.emit(
        "inline_placement",
        [
            row("findings answered by the model", len(answered), "findings"),
            row("inline comments posted", len(inline), "comments"),
            row("inline comments rejected by GitHub", rejected, "comments", "0", rejected == 0),
            row(
                "findings lost (in neither summary nor inline)",
                len(lost),
                "findings",
                "0",
                not lost,
            ),
            row(
                "findings missing from the summary",
                len(not_in_summary),
                "findings",
                "0",
                not not_in_summary,
            ),
            row(
                "inline comments not on their finding's line",
                len(misplaced),
                "comments",
                "0",
                not misplaced,
            ),
            row("findings moved to file level", moved, "findings"),
            row("summary comments", len(comments), "", "1", len(comments) == 1),
            row("review status", review.status, "", "completed", review.status == "completed"),
        ],
    )


if __name__ == "__main__":
    main()
