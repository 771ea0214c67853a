"""Command line: serve | migrate | review | action | register | usage | eval.

The arguments parsed, then the module that owns the command called: bot/app (serve, review
OWNER/REPO#N, register), bot/tools (migrate, usage, eval), bot/standalone (review --diff/--git,
action)."""

from __future__ import annotations

import argparse
import os
import sys

from bot import version
from bot.app import serve
from bot.config import ConfigError
from bot.github.repo_config import FAIL_ON
from bot.output import FORMATS

# What only the App's server imports (the `server` extra); the command line and the Action
# run without them.
SERVER_PACKAGES = (
    "asyncpg",
    "pgserver",
    "psutil",
    "tzdata",
    "prometheus_client",
    "jinja2",
    "aiohttp_jinja2",
)
SERVER_COMMANDS = ("serve", "migrate", "register", "usage")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="second-look", description="Second Look")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the webhook server and the review tasks")
    commands.add_parser("migrate", help="apply database migrations and exit")
    review = commands.add_parser(
        "review",
        help="review a PR now (octo/widgets#12), a diff (--diff) or a branch (--git)",
        description="Exit status: 0 clean, 1 a finding at or above --fail-on, 2 a usage or "
        "configuration error, 3 the review could not run (Gemini unreachable, a quota).",
    )
    review.add_argument("pull", nargs="?", help="OWNER/REPO#NUMBER")
    what = review.add_mutually_exclusive_group()
    what.add_argument("--diff", metavar="FILE", help="a unified diff to review ('-': stdin)")
    what.add_argument("--git", metavar="BASE[..HEAD]", help="review this repository's branch")
    review.add_argument(
        "--dry-run",
        action="store_true",
        help="with OWNER/REPO#N: print what would be posted, post nothing",
    )
    review.add_argument(
        "--no-model",
        action="store_true",
        help="run the deterministic analyzers alone (ruff, secrets): no Gemini call, no key",
    )
    review.add_argument(
        "--format", choices=FORMATS, default="text", help="text (default), markdown, json or sarif"
    )
    review.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 on a finding this severe (default: the repo's fail_on)",
    )
    act = commands.add_parser("action", help="review the PR of a GitHub Actions event")
    act.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="fail the check on a finding this severe (default: the repo's)",
    )
    act.add_argument("--sarif", metavar="FILE", help="also write the findings as SARIF")
    register = commands.add_parser("register", help="register the App from app.yml")
    register.add_argument("--webhook-url", help="public URL of this server's /webhooks")
    register.add_argument("--org", help="register under this organization")
    register.add_argument("--name", help="the App's name (default: Second Look (<hostname>))")
    register.add_argument("--code", help="the code GitHub redirected with, to finish")
    register.add_argument("--github-url", help="default: GitHub's web address for GITHUB_API_URL")
    usage = commands.add_parser("usage", help="Gemini calls, tokens and cost per repo and day")
    usage.add_argument("--since", default="7d", help="how far back: Nd or Nh (default: 7d)")
    usage.add_argument("--repo", help="only this repository, OWNER/REPO")
    usage.add_argument("--format", choices=("text", "json"), default="text")
    evaluate = commands.add_parser("eval", help="score the review on labelled PRs (JSONL)")
    evaluate.add_argument(
        "file",
        nargs="?",
        help="one PR per line: diff, title, body, expected findings (default: the shipped set)",
    )
    evaluate.add_argument("--format", choices=("table", "json"), default="table")
    evaluate.add_argument(
        "--results",
        metavar="FILE",
        help="where each PR's result is saved, and read back to resume "
        "(default: .data/eval/<name of FILE>.results.jsonl)",
    )
    evaluate.add_argument("--fresh", action="store_true", help="forget saved results first")
    evaluate.add_argument(
        "--max-wait",
        type=float,
        metavar="SECONDS",
        help="wait out a Gemini quota up to this long; a longer wait stops the run, exit 75 "
        "(default: 600)",
    )
    evaluate.add_argument(
        "--parallel", type=int, metavar="N", help="PRs reviewed at once (default: 4)"
    )
    evaluate.add_argument(
        "--list",
        action="store_true",
        help="print one line per case: id, language, kind, source; review nothing",
    )
    evaluate.add_argument(
        "--compare",
        nargs=2,
        metavar=("A.yml", "B.yml"),
        help="run two configurations (model, agents, verify, thresholds, thinking_budget) on the "
        "same cases and report the difference B - A with its 95%% interval",
    )
    evaluate.add_argument(
        "--judge",
        action="store_true",
        help="a finding at a label's place is its issue when EVAL_JUDGE_MODEL says so "
        "(default: when its agent's kind is the case's)",
    )
    evaluate.add_argument(
        "--suite",
        choices=("martian",),
        help="martian: the public Martian benchmark's 50 PRs, read from GitHub (GITHUB_TOKEN)",
    )
    evaluate.add_argument("--limit", type=int, metavar="N", help="with --suite: the first N PRs")
    evaluate.add_argument("--repo", metavar="NAME", help="with --suite: one repository's PRs")
    evaluate.add_argument("--martian-data", help=argparse.SUPPRESS)  # tests: stand-in PRs
    args = parser.parse_args(argv)
    if args.command in SERVER_COMMANDS and not has_server(args.command):
        return 2
    one_line: tuple[type[Exception], ...] = (serve.CannotStart,)
    if has_server(args.command, quiet=True):  # the action and `review --diff` need no asyncpg
        from bot.store.connect import DatabaseUnreachable

        one_line += (DatabaseUnreachable,)
    try:
        if args.command == "serve":
            return serve.serve_or_set_up()
        if args.command == "migrate":
            from bot.tools import migrate

            return migrate.run()
        if args.command == "review":
            return review_command(review, args)
        if args.command == "action":
            from bot.standalone import action as action_command

            return action_command.run(args.fail_on, args.sarif)
        if args.command == "register":
            from bot.app import registration

            return registration.run(args)
        if args.command == "eval":
            from bot.tools import eval as eval_command

            return eval_command.command(args, parser)
        if args.command == "usage":
            from bot.tools import usage as usage_command

            return usage_command.show(args.since, args.repo, args.format)
    except ConfigError as exc:
        print(f"second-look: configuration error: {exc}", file=sys.stderr)
        return 2
    except one_line as exc:
        # One line, no traceback: the message names what failed and never a secret.
        print(f"second-look: {exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")  # exits: argparse knows every command


def review_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """A PR with the App (published, as `serve` would); else without it (bot/standalone)."""
    if (args.pull is None) == (args.diff is None and args.git is None):
        parser.print_usage(sys.stderr)
        print(
            "second-look: review needs one of OWNER/REPO#N, --diff FILE, --git BASE",
            file=sys.stderr,
        )
        return 2
    if args.dry_run and args.pull is None:
        print(
            "second-look: --dry-run goes with OWNER/REPO#N (--diff and --git never post)",
            file=sys.stderr,
        )
        return 2
    if args.no_model and args.pull is not None and not args.dry_run:
        print("second-look: --no-model goes with --diff, --git or --dry-run", file=sys.stderr)
        return 2
    if args.pull is not None and not args.dry_run:
        if not has_server("review OWNER/REPO#N (without --dry-run)"):
            return 2
        from bot.app import manual

        return manual.run(args.pull, args.fail_on)
    from bot.standalone import cli

    return cli.run(args)


def has_server(command: str, *, quiet: bool = False) -> bool:
    """Whether the server's packages are installed; if not, one line saying what to install."""
    from importlib.util import find_spec

    missing = [name for name in SERVER_PACKAGES if find_spec(name) is None]
    if missing and not quiet:
        print(
            f"second-look: {command} needs the App's server packages ({', '.join(missing)} "
            "missing): pip install 'second-look[server]'",
            file=sys.stderr,
        )
    return not missing


def leave(status: int, command: str | None) -> None:
    """Exit with `status`. After `review` and `action`, whose output is written and whose
    sessions and tasks are closed, without the interpreter's teardown of every module and
    object: measured (bench/bench_local.py) 0.3 s of a 2.4 s `review --diff`."""
    if command in ("review", "action"):
        from bot import logs

        logs.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def entry() -> None:
    """The console script `second-look`, and `python -m bot`."""
    leave(main(), next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None))


if __name__ == "__main__":
    entry()
