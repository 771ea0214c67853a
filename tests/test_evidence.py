"""Findings that carry their evidence, through a whole review with FakeGemini answers written
for each rule: the verifier may lower a severity (never raise it) and judges the suggestion,
a suggestion is a one-click block only when it was kept and the file still parses with it,
two agents' differently worded findings of one problem become one, and a finding on lines the
PR did not change stays only when its evidence names a changed line."""

from __future__ import annotations

import json

from bot.review.agents import AgentAnswer, ModelFinding
from bot.review.gemini import json_schema
from bot.review.verify import Verdict, VerifyAnswer
from bot.store.findings_table import FindingRepo
from tests.fakes.gemini import listed_findings
from tests.reviewing import OWNER, REPO, finding, open_pull, run_review, summary_of

# NEW_APP (tests/reviewing.py): lines 6-9 are added, line 9 is `    return eval(user_input)`;
# line 5, `    return os.system(command)`, is an unchanged context line of the same hunk.
EVIDENCE = "Line 9 `return eval(user_input)` runs the request's text as Python."


def comments(fake_github) -> list[str]:
    return [c["body"] for c in fake_github.review_comments(OWNER, REPO, 7)]


def conclusion(fake_github, pull) -> str:
    (check_run,) = fake_github.check_runs(OWNER, REPO, pull.head_sha)
    return check_run["conclusion"]


def test_the_schema_asks_for_the_evidence_before_the_severity_and_the_confidence_last():
    item = json_schema(AgentAnswer)["properties"]["findings"]["items"]

    order = ["file_path", "line_start", "line_end", "title", "evidence", "description"]
    order += ["severity", "suggestion", "confidence"]
    assert list(item["properties"]) == order
    assert item["required"] == order, "a defaulted field would be written after the rest"
    assert "propertyOrdering" not in json.dumps(json_schema(AgentAnswer)), "not JSON Schema"


def test_the_verifier_is_asked_for_the_severity_and_the_suggestions_worth_before_its_reason():
    item = json_schema(VerifyAnswer)["properties"]["verdicts"]["items"]

    order = ["id", "keep", "severity", "suggestion_ok", "confidence", "reason"]
    assert item["required"] == list(item["properties"]) == order
    assert Verdict.model_validate({"id": 1, "keep": True, "confidence": 1, "reason": ""})


def test_an_answer_stored_before_the_evidence_existed_still_parses():
    stored = {"file_path": "app.py", "line_start": 9, "line_end": 9, "severity": "high"}
    parsed = ModelFinding.model_validate(stored | {"title": "t", "description": "d"})

    assert (parsed.evidence, parsed.confidence) == ("", None)


async def test_the_evidence_is_stored_shown_inline_and_given_to_the_verifier(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(evidence=EVIDENCE, confidence=0.8, suggestion="    return int(user_input)\n")
    ]

    review = await run_review(services, pull)

    (body,) = comments(fake_github)
    assert "**Evidence:** Line 9 `return eval(user_input)` runs" not in body  # escaped
    assert "**Evidence:** Line 9" in body and "runs the request's text as Python." in body
    (listed,) = listed_findings(fake_gemini.requests_of("verifier")[0].prompt)
    assert listed["evidence"] == EVIDENCE
    assert listed["suggestion"] == "    return int(user_input)\n"
    assert listed["agent_confidence"] == 0.8
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert (stored["evidence"], stored["model_confidence"]) == (EVIDENCE, 0.8)
    assert (stored["suggestion_kept"], stored["offered"]) == (True, True)
    assert "```suggestion\n    return int(user_input)\n```" in body


async def test_a_suggestion_that_breaks_the_syntax_is_not_offered_as_a_block(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(evidence=EVIDENCE, suggestion="    return int(user_input\n")
    ]

    review = await run_review(services, pull)

    (body,) = comments(fake_github)
    assert "```suggestion" not in body
    assert "A possible fix, to adapt" in body and "```\n    return int(user_input\n```" in body
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert (stored["suggestion_kept"], stored["offered"]) == (True, False)


async def test_a_suggestion_the_verifier_says_is_wrong_is_left_out(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(evidence=EVIDENCE, suggestion="    return str(user_input)\n")
    ]
    fake_gemini.verdict = lambda item: {"suggestion_ok": False, "reason": "str is no fix"}

    await run_review(services, pull)

    (body,) = comments(fake_github)
    assert "str(user_input)" not in body


async def test_a_lowered_severity_changes_the_check_runs_conclusion(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="critical", evidence=EVIDENCE)]
    fake_gemini.verdict = lambda item: {"severity": "medium", "reason": "only admins call it"}

    review = await run_review(services, pull)

    assert conclusion(fake_github, pull) == "success", "fail_on is critical: medium passes"
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert stored["severity"] == "medium" and stored["verdict"] == "kept"
    assert "lowered from critical" in stored["verify_reason"]
    assert comments(fake_github)[0].startswith("🟡 **medium**")


async def test_a_raised_severity_is_ignored_and_said(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [finding(severity="low", evidence=EVIDENCE)]
    fake_gemini.verdict = lambda item: {"severity": "critical", "reason": "worse than it says"}

    review = await run_review(services, pull)

    assert conclusion(fake_github, pull) == "success", "still low: a raise is ignored"
    [stored] = await FindingRepo(services.pool).for_review(review.id)
    assert stored["severity"] == "low"
    assert "Raising it to critical was ignored" in stored["verify_reason"]


async def test_two_agents_wording_one_problem_differently_become_one(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(
            severity="critical",
            title="Arbitrary code execution via eval of user input",
            evidence="Line 9 `return eval(user_input)` passes the request's text to eval.",
        )
    ]
    fake_gemini.findings["bugs"] = [
        finding(
            severity="high",
            title="eval on untrusted user input runs arbitrary code",
            evidence="Line 9: `eval(user_input)` evaluates whatever the caller sends.",
        )
    ]

    review = await run_review(services, pull)

    (body,) = comments(fake_github)
    assert "Arbitrary code execution via eval of user input" in body, "the severer's wording"
    assert "(Also reported by the bugs agent.)" in body
    assert review.stats["findings"] == 1


async def test_two_agents_problems_on_the_same_lines_stay_two(services, fake_github, fake_gemini):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(
            title="Arbitrary code execution via eval of user input",
            evidence="Line 9 `return eval(user_input)` passes the request's text to eval.",
        )
    ]
    fake_gemini.findings["style"] = [
        finding(
            severity="low",
            line=8,
            line_end=9,
            title="Function name evaluate is too generic",
            evidence="Line 8 `def evaluate(user_input):` does not say what is evaluated.",
        )
    ]

    review = await run_review(services, pull)

    assert len(comments(fake_github)) == 2
    assert review.stats["findings"] == 2 and review.stats["merged"] == 0


async def test_a_finding_on_an_unchanged_line_needs_evidence_naming_a_changed_one(
    services, fake_github, fake_gemini
):
    pull = open_pull(fake_github)
    fake_gemini.findings["security"] = [
        finding(line=5, title="Shell injection in run", evidence="os.system runs a shell."),
        finding(
            line=5,
            title="run and evaluate both execute input",
            evidence="Line 9 adds `return eval(user_input)` beside run's os.system on line 5.",
        ),
        finding(
            line=5,
            title="os.system beside the new eval",
            evidence="Quotes the new `def evaluate(user_input):` next to it.",
        ),
    ]

    review = await run_review(services, pull)

    titles = {body.split(" · ")[1].split(" <sub>")[0] for body in comments(fake_github)}
    assert titles == {"run and evaluate both execute input", "os.system beside the new eval"}
    assert review.stats["untouched"] == 1
    (asked,) = fake_gemini.requests_of("verifier")
    weighed = {item["title"] for item in listed_findings(asked.prompt)}
    assert weighed == titles, "the verifier is not paid to weigh what check() drops"
    assert "1 finding(s) were only about lines this PR did not change" in summary_of(
        fake_github, pull.number
    )
