"""Check runs: create, update and read them, their annotations, and a commit's runs."""

from __future__ import annotations

import copy
import json
from typing import Any

from aiohttp import web

from tests.fakes.github.auth import Auth
from tests.fakes.github.errors import DOCS, GitHubError, _invalid, _not_found
from tests.fakes.github.http import _page_args
from tests.fakes.github.shapes import _now_iso
from tests.fakes.github.state import _Repo

MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_OUTPUT_TEXT = 65535
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)
ANNOTATION_LEVELS = ("notice", "warning", "failure")


class Checks(Auth):
    """The Checks API, validated the way GitHub validates it."""

    def check_runs(
        self, owner: str, repo: str, head_sha: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the check runs (output.annotations holds every annotation accumulated)."""
        with self._lock:
            state = self._peek(owner, repo)
            runs = []
            for run_id, run in state.check_runs.items():
                if head_sha is None or run["head_sha"] == head_sha:
                    run = copy.deepcopy(run)
                    run["output"]["annotations"] = copy.deepcopy(state.annotations[run_id])
                    runs.append(run)
            return runs

    def _check_output(self, output: Any, docs: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not isinstance(output, dict):
            raise _invalid(f"For 'properties/output', {json.dumps(output)} is not an object.", docs)
        for key in ("title", "summary"):
            if key not in output:
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        for key in ("summary", "text"):
            value = output.get(key)
            if isinstance(value, str) and len(value) > MAX_OUTPUT_TEXT:
                raise _invalid(
                    f"Only {MAX_OUTPUT_TEXT} characters are allowed; {len(value)} were supplied.",
                    docs,
                )
        annotations = output.get("annotations") or []
        if not isinstance(annotations, list):
            raise _invalid("For 'properties/annotations', it is not an array.", docs)
        if len(annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise _invalid(
                f"No more than {MAX_ANNOTATIONS_PER_REQUEST} items are allowed; "
                f"{len(annotations)} were supplied.",
                docs,
            )
        for item in annotations:
            if not isinstance(item, dict):
                raise _invalid(f"For 'items', {json.dumps(item)} is not an object.", docs)
            for key in ("path", "start_line", "end_line", "annotation_level", "message"):
                if key not in item:
                    raise _invalid(f'"{key}" wasn\'t supplied.', docs)
            for key in ("start_line", "end_line", "start_column", "end_column"):
                if key in item and (not isinstance(item[key], int) or isinstance(item[key], bool)):
                    raise _invalid(
                        f"For 'properties/{key}', {json.dumps(item[key])} is not an integer.", docs
                    )
            if item["annotation_level"] not in ANNOTATION_LEVELS:
                raise _invalid(
                    f"For 'properties/annotation_level', {json.dumps(item['annotation_level'])} "
                    f"is not one of {json.dumps(list(ANNOTATION_LEVELS))}.",
                    docs,
                )
            if item["start_line"] > item["end_line"]:
                raise GitHubError(
                    422,
                    "Validation Failed",
                    docs=docs,
                    errors=[
                        {
                            "resource": "CheckRun",
                            "code": "invalid",
                            "field": "annotations",
                            "message": "start_line must be less than or equal to end_line",
                        }
                    ],
                )
        fields = {k: output.get(k) for k in ("title", "summary", "text")}
        return fields, [dict(a) for a in annotations]

    def _apply_check(self, run: dict[str, Any], data: dict[str, Any], docs: str) -> list[dict]:
        for key, allowed in (("status", CHECK_STATUSES), ("conclusion", CHECK_CONCLUSIONS)):
            if key in data and data[key] is not None and data[key] not in allowed:
                raise _invalid(
                    f"For 'properties/{key}', {json.dumps(data[key])} is not one of "
                    f"{json.dumps(list(allowed))}.",
                    docs,
                )
        status = data.get("status", run["status"])
        conclusion = data.get("conclusion", run["conclusion"])
        if conclusion is not None:
            status = "completed"  # GitHub: a conclusion sets the status to completed
        if status == "completed" and conclusion is None:
            raise _invalid('"conclusion" wasn\'t supplied.', docs)
        annotations: list[dict[str, Any]] = []
        output = None
        if "output" in data:
            output, annotations = self._check_output(data["output"], docs)
        run["status"], run["conclusion"] = status, conclusion
        for key in ("name", "details_url", "external_id"):
            if key in data:
                run[key] = data[key]
        if "started_at" in data:
            run["started_at"] = data["started_at"]
        if status == "completed":
            run["completed_at"] = data.get("completed_at") or run["completed_at"] or _now_iso()
        if output is not None:
            for key, value in output.items():
                if value is not None:
                    run["output"][key] = value
        return annotations

    async def _create_check_run(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/checks/runs#create-a-check-run"
        state = self._authed(request, ("checks",), docs)
        data = await self._body(request)
        for key in ("name", "head_sha"):
            if not data.get(key):
                raise _invalid(f'"{key}" wasn\'t supplied.', docs)
        with self._lock:
            if data["head_sha"] not in state.commits:
                raise GitHubError(422, f"No commit found for SHA: {data['head_sha']}", docs=docs)
            run_id = self.next_id()
            full = f"{state.owner}/{state.name}"
            run: dict[str, Any] = {
                "id": run_id,
                "node_id": f"CR_{run_id}",
                "name": data["name"],
                "head_sha": data["head_sha"],
                "external_id": "",
                "url": f"{self._base_url(request)}/repos/{full}/check-runs/{run_id}",
                "html_url": f"https://github.com/{full}/runs/{run_id}",
                "details_url": None,
                "status": "queued",
                "conclusion": None,
                "started_at": _now_iso(),
                "completed_at": None,
                "output": {
                    "title": None,
                    "summary": None,
                    "text": None,
                    "annotations_count": 0,
                    "annotations_url": f"{self._base_url(request)}/repos/{full}"
                    f"/check-runs/{run_id}/annotations",
                },
                "check_suite": {"id": self.next_id()},
                "app": self._app_of(request),
                "pull_requests": [],
            }
            annotations = self._apply_check(run, data, docs)
            run["output"]["annotations_count"] = len(annotations)
            state.check_runs[run_id] = run
            state.annotations[run_id] = annotations
            return self._json(copy.deepcopy(run), 201)

    def _find_run(self, state: _Repo, request: web.Request) -> dict[str, Any]:
        run = state.check_runs.get(int(request.match_info["run"]))
        if run is None:
            raise _not_found()
        return run

    async def _update_check_run(self, request: web.Request) -> web.Response:
        docs = f"{DOCS}/checks/runs#update-a-check-run"
        state = self._authed(request, ("checks",), docs)
        data = await self._body(request)
        with self._lock:
            run = self._find_run(state, request)
            trial = copy.deepcopy(run)  # validate fully before changing anything
            annotations = self._apply_check(trial, data, docs)
            run.clear()
            run.update(trial)
            state.annotations[run["id"]].extend(annotations)
            run["output"]["annotations_count"] = len(state.annotations[run["id"]])
            return self._json(copy.deepcopy(run))

    async def _get_check_run(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            return self._json(copy.deepcopy(self._find_run(state, request)))

    async def _list_annotations(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        with self._lock:
            run = self._find_run(state, request)
            items = copy.deepcopy(state.annotations[run["id"]])
        return self._paginated(request, items)

    async def _commit_check_runs(self, request: web.Request) -> web.Response:
        state = self._authed(request)
        ref = request.match_info["ref"]
        with self._lock:
            sha = state.branches.get(ref, ref)
            runs = [copy.deepcopy(r) for r in state.check_runs.values() if r["head_sha"] == sha]
        name = request.query.get("check_name")
        if name:
            runs = [r for r in runs if r["name"] == name]
        per_page, page = _page_args(request)
        chunk = runs[(page - 1) * per_page : page * per_page]
        return self._json({"total_count": len(runs), "check_runs": chunk})
