"""The gidgethub Router and its handlers, one per event action: they decide what to review or
which job to run, and do nothing slow."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from gidgethub import routing, sansio

from bot.app.conversation import answers, commands
from bot.app.conversation.answers import AnswerJob
from bot.app.conversation.commands import CommandJob, PullRef, RerunJob
from bot.app.conversation.context import JobPayload
from bot.app.conversation.lifecycle import AccessJob, ClosedJob, InstallationJob
from bot.app.payloads import (
    CheckPull,
    CheckRunEvent,
    CheckSuiteEvent,
    Envelope,
    InstallationEvent,
    InstallationRepositoriesEvent,
    IssueCommentEvent,
    MemberEvent,
    MembershipEvent,
    OrganizationEvent,
    PullRequestEvent,
    RepositoryEvent,
    ReviewCommentEvent,
    TeamEvent,
    validate,
)
from bot.github.checks import CHECK_NAME
from bot.github.client import Identity
from bot.store.jobs import NewJob
from bot.store.queue import NewReview, Trigger, new_id

log = logging.getLogger(__name__)

router = routing.Router()

# An edit of these re-runs the review; a label or an assignee does not.
RERUN_ON_EDIT_OF = ("title", "body", "base")
REVIEWED_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review", "edited")

# The actions that change who has access to a repository (bot/app/conversation/access.py).
MEMBER_ACTIONS = ("added", "removed", "edited")
ORGANIZATION_ACTIONS = ("member_added", "member_removed")
MEMBERSHIP_ACTIONS = ("added", "removed")
TEAM_ACTIONS = ("added_to_repository", "removed_from_repository", "edited", "deleted")

# The model each delivery a handler acts on is validated against before any handler runs;
# every other delivery is checked as an Envelope (the fields recorded for it).
MODELS: dict[tuple[str, str], type[Envelope]] = {
    **{("pull_request", action): PullRequestEvent for action in (*REVIEWED_ACTIONS, "closed")},
    ("issue_comment", "created"): IssueCommentEvent,
    ("pull_request_review_comment", "created"): ReviewCommentEvent,
    ("check_run", "rerequested"): CheckRunEvent,
    ("check_suite", "rerequested"): CheckSuiteEvent,
    **{
        ("installation", action): InstallationEvent
        for action in ("created", "deleted", "suspend", "unsuspend")
    },
    **{
        ("installation_repositories", action): InstallationRepositoriesEvent
        for action in ("added", "removed")
    },
    **{("member", action): MemberEvent for action in MEMBER_ACTIONS},
    **{("organization", action): OrganizationEvent for action in ORGANIZATION_ACTIONS},
    **{("membership", action): MembershipEvent for action in MEMBERSHIP_ACTIONS},
    **{("team", action): TeamEvent for action in TEAM_ACTIONS},
}


def payload_of(event: sansio.Event) -> Envelope:
    """The delivery's payload, validated for what its handlers read (PayloadError if not)."""
    action = event.data.get("action")
    model = MODELS.get((event.event, action)) if isinstance(action, str) else None
    return validate(model or Envelope, event.data)


@dataclass
class Intake:
    """What handling one delivery decided: at most one review or one job to create."""

    review: NewReview | None = None
    job: NewJob | None = None


def review_head(payload: PullRequestEvent, intake: Intake, supersede: bool = True) -> None:
    """Ask for a review of the PR's head; it replaces the PR's earlier reviews.

    Whether a draft or an edit is reviewed depends on the repository's config, which only
    the review task reads: an `edited` review supersedes the others once it knows it runs.
    """
    pr, repository = payload.pull_request, payload.repository
    intake.review = NewReview(
        id=new_id(),
        installation_id=payload.installation.id,
        owner=repository.owner.login,
        repo=repository.name,
        pr_number=pr.number,
        head_sha=pr.head.sha,
        base_ref=pr.base.ref,
        trigger=Trigger(payload.action),
        draft=pr.draft,
        supersede=supersede,
    )


@router.register("pull_request", action="opened")
async def on_opened(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="reopened")
async def on_reopened(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="synchronize")
async def on_synchronize(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="ready_for_review")
async def on_ready_for_review(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    review_head(payload, intake)


@router.register("pull_request", action="edited")
async def on_edited(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    if any(key in payload.changes for key in RERUN_ON_EDIT_OF):
        review_head(payload, intake, supersede=False)


@router.register("pull_request", action="closed")
async def on_closed(
    event: sansio.Event, payload: PullRequestEvent, intake: Intake, identity: Identity
) -> None:
    """Stop the PR's review; read the reactions on our comments one last time."""
    intake.job = pull_job(payload, ClosedJob(), payload.pull_request.number)


@router.register("issue_comment", action="created")
async def on_comment(
    event: sansio.Event, payload: IssueCommentEvent, intake: Intake, identity: Identity
) -> None:
    """A command in a PR comment by a person (never a bot, ours included)."""
    comment = payload.comment
    if payload.issue.pull_request is None or comment.user.bot:
        return
    parsed = commands.parse(comment.body, identity.slug)
    if parsed is None:
        return
    asked = CommandJob(
        comment_id=comment.id, command=parsed.name or "", word=parsed.word, login=comment.user.login
    )
    intake.job = pull_job(payload, asked, payload.issue.number)


@router.register("pull_request_review_comment", action="created")
async def on_review_comment(
    event: sansio.Event, payload: ReviewCommentEvent, intake: Intake, identity: Identity
) -> None:
    """A person's reply in a review thread (perhaps one of ours: the job finds out)."""
    comment = payload.comment
    if comment.in_reply_to_id is None or comment.user.bot:
        return
    pull = payload.pull_request
    reply = AnswerJob(
        comment_id=comment.id,
        root_id=comment.in_reply_to_id,
        login=comment.user.login,
        dismisses=answers.says_wrong(comment.body),
        head_sha=pull.head.sha,
    )
    intake.job = pull_job(payload, reply, pull.number)


def pull_job(payload: RepositoryEvent, job: JobPayload, number: int | None) -> NewJob:
    """A job about PR `number` of the delivery's repository (None: of no single PR)."""
    repository = payload.repository
    return job.new_job(payload.installation.id, (repository.owner.login, repository.name), number)


def _rerun(
    payload: RepositoryEvent, head_sha: str, pulls: list[CheckPull], external_id: str | None = None
) -> NewJob:
    refs = [PullRef(number=p.number, base_ref=p.base.ref) for p in pulls]
    rerun = RerunJob(head_sha=head_sha, external_id=_review_id(external_id), pulls=refs)
    return pull_job(payload, rerun, pulls[0].number if len(pulls) == 1 else None)


def _review_id(external_id: str | None) -> uuid.UUID | None:
    """Our check run's external_id is the review's id; anything else is not kept."""
    try:
        return uuid.UUID(external_id) if external_id else None
    except ValueError:
        return None


@router.register("check_run", action="rerequested")
async def on_check_run_rerequested(
    event: sansio.Event, payload: CheckRunEvent, intake: Intake, identity: Identity
) -> None:
    """The Re-run button of our check run: that head is reviewed again, in full."""
    run = payload.check_run
    if str(run.app.id) == identity.app_id and run.name == CHECK_NAME:
        intake.job = _rerun(payload, run.head_sha, run.pull_requests, run.external_id)


@router.register("check_suite", action="rerequested")
async def on_check_suite_rerequested(
    event: sansio.Event, payload: CheckSuiteEvent, intake: Intake, identity: Identity
) -> None:
    """ "Re-run all checks" of our suite: as the Re-run button."""
    suite = payload.check_suite
    if str(suite.app.id) == identity.app_id:
        intake.job = _rerun(payload, suite.head_sha, suite.pull_requests)


async def on_installation(
    event: sansio.Event, payload: InstallationEvent, intake: Intake, identity: Identity
) -> None:
    """Installed, removed, suspended or unsuspended: recorded; a removed one is not reviewed."""
    installation = payload.installation
    intake.job = InstallationJob(
        event="installation",
        action=payload.action,
        account=installation.account.login if installation.account else None,
        added=[r.full_name for r in payload.repositories],
    ).new_job(installation.id)


for _action in ("created", "deleted", "suspend", "unsuspend"):
    router.add(on_installation, "installation", action=_action)


async def on_repositories(
    event: sansio.Event,
    payload: InstallationRepositoriesEvent,
    intake: Intake,
    identity: Identity,
) -> None:
    """Repositories added to or removed from an installation: recorded."""
    intake.job = InstallationJob(
        event="installation_repositories",
        action=payload.action,
        added=[r.full_name for r in payload.repositories_added],
        removed=[r.full_name for r in payload.repositories_removed],
    ).new_job(payload.installation.id)


for _action in ("added", "removed"):
    router.add(on_repositories, "installation_repositories", action=_action)


def _access(
    payload: Envelope, event: str, repository: tuple[str, str] | None, login: str | None
) -> NewJob:
    """A job that forgets what was known of access: of `login` (None: everyone), on
    `repository` (None: every repository of the installation)."""
    assert payload.installation is not None and payload.action is not None
    access = AccessJob(event=event, action=payload.action, repository=repository, who=login)
    return access.new_job(payload.installation.id)


async def on_member(
    event: sansio.Event, payload: MemberEvent, intake: Intake, identity: Identity
) -> None:
    """A collaborator added, removed or changed: what we knew of them there is stale."""
    repository = payload.repository
    intake.job = _access(
        payload, "member", (repository.owner.login, repository.name), payload.member.login
    )


async def on_organization(
    event: sansio.Event, payload: OrganizationEvent, intake: Intake, identity: Identity
) -> None:
    """Someone joined or left the organization: their access changed on every repository."""
    user = payload.membership.user if payload.membership else None
    intake.job = _access(payload, "organization", None, user.login if user else None)


async def on_membership(
    event: sansio.Event, payload: MembershipEvent, intake: Intake, identity: Identity
) -> None:
    """Someone joined or left a team: their access changed wherever the team has some."""
    intake.job = _access(
        payload, "membership", None, payload.member.login if payload.member else None
    )


async def on_team(
    event: sansio.Event, payload: TeamEvent, intake: Intake, identity: Identity
) -> None:
    """A team's access to a repository changed (or the team did): everyone on it may differ."""
    repository = payload.repository
    where = (repository.owner.login, repository.name) if repository else None
    intake.job = _access(payload, "team", where, None)


for _event, _actions, _handler in (
    ("member", MEMBER_ACTIONS, on_member),
    ("organization", ORGANIZATION_ACTIONS, on_organization),
    ("membership", MEMBERSHIP_ACTIONS, on_membership),
    ("team", TEAM_ACTIONS, on_team),
):
    for _action in _actions:
        router.add(_handler, _event, action=_action)
