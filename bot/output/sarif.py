"""The review as SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run; one rule per agent; one result per shown finding (withheld and dismissed findings
are not results). Locations are the new side of the diff, relative to the repository root
(`%SRCROOT%`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot import version
from bot.review.findings import Finding
from bot.review.markdown import clean

if TYPE_CHECKING:
    from bot.output import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/second-look/second-look"
FINGERPRINT_KEY = "secondLook/v1"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads a security-severity score: 9.0 and up is critical, 7.0 high,
# 4.0 medium, above 0 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "2.0"}
RULES = {
    "security": (
        "Security issue",
        "A vulnerability or unsafe handling of untrusted data, secrets or permissions, found by "
        "Second Look's security agent.",
    ),
    "bugs": (
        "Bug",
        "Code that does not do what it is meant to: wrong logic, unhandled errors, edge cases, "
        "found by Second Look's bugs agent.",
    ),
    "performance": (
        "Performance issue",
        "Work that is slower or costlier than it needs to be, found by Second Look's "
        "performance agent.",
    ),
    "style": (
        "Style issue",
        "Code that is harder to read or maintain than it needs to be, found by Second Look's "
        "style agent.",
    ),
}


def render_sarif(report: Report) -> str:
    """`as_sarif(report)`, indented, ending with a newline."""
    return json.dumps(as_sarif(report), indent=2) + "\n"


def as_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log: one run of Second Look over the diff."""
    summary = report.summary
    agents = rule_ids(summary.agents, summary.findings)
    index = {agent: i for i, agent in enumerate(agents)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "Second Look",
                "informationUri": INFORMATION_URI,
                "version": version(),
                "rules": [rule(agent) for agent in agents],
            }
        },
        "invocations": [invocation(report)],
        "results": [result(f, index[f.agent_type]) for f in summary.findings],
    }
    return {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}


def rule_ids(agents: Sequence[str], findings: Sequence[Finding]) -> list[str]:
    """The review's agents in order, then any other agent a finding names."""
    ids = list(dict.fromkeys(agents))
    ids += sorted({f.agent_type for f in findings} - set(ids))
    return ids


def rule(agent: str) -> dict[str, Any]:
    """The rule that stands for one agent's findings."""
    short, full = RULES.get(agent, (f"{agent} finding", f"A finding of the {agent} agent."))
    out: dict[str, Any] = {
        "id": agent,
        "name": agent,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
    }
    if agent == "security":
        out["properties"] = {"tags": ["security"]}
    return out


def result(finding: Finding, rule_index: int) -> dict[str, Any]:
    """One finding as a result on the new side of the diff."""
    message = clean(finding.title).strip()
    description = clean(finding.description).strip()
    if description:
        message += "\n\n" + description
    properties: dict[str, Any] = {"severity": finding.severity}
    evidence = clean(finding.evidence).strip()
    if evidence:
        properties["evidence"] = evidence
    if finding.agent_type == "security":
        properties["security-severity"] = SECURITY_SEVERITY[finding.severity]
    out: dict[str, Any] = {
        "ruleId": finding.agent_type,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": message or "(untitled)"},
        "locations": [location(finding)],
    }
    if finding.fingerprint:
        out["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    out["properties"] = properties
    return out


def location(finding: Finding) -> dict[str, Any]:
    """Where the finding is: its file, relative to the repository root, and its lines."""
    if finding.line_start is None:
        # A file-level finding: GitHub code scanning refuses a result without a region, so
        # it is shown on the file's first line.
        region = {"startLine": 1}
    else:
        end = finding.line_end if finding.line_end is not None else finding.line_start
        region = {"startLine": finding.line_start, "endLine": max(end, finding.line_start)}
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(finding.file_path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repository path: spaces and the rest percent-encoded."""
    return quote(path.lstrip("/"), safe="/")


def invocation(report: Report) -> dict[str, Any]:
    """Whether the review ran to the end, and what failed on the way."""
    summary = report.summary
    notifications = []
    if summary.error:
        notifications.append({"level": "error", "message": {"text": clean(summary.error)}})
    for agent, reason in sorted(summary.failed_agents.items()):
        notifications.append(
            {"level": "error", "message": {"text": f"The {agent} agent failed: {clean(reason)}"}}
        )
    out: dict[str, Any] = {
        "executionSuccessful": summary.status == "completed" and not summary.error,
    }
    if notifications:
        out["toolExecutionNotifications"] = notifications
    return out
