# ruff: noqa: E501 - the labelled cases are a table, one case to a row
"""The analyzers measured: precision and recall on a labelled set of small cases (each bug with
a clean twin), and the time they add to a review of the 20-file `context` PR."""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import time
from dataclasses import dataclass

import common
from bench_context import pr_files

from bot.review.analyzers.base import Options
from bot.review.analyzers.run import analyze, head_texts
from bot.review.changes import Diff, parse_file
from bot.review.chunks import FileContext

SWITCHES = {"ruff": Options(), "secrets": Options()}


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    bad: str  # the file as the PR adds it, with the bug
    finds: str  # the source the analyzers must name ("ruff F821", "secrets AWSAccessKey")
    line: int  # on this line
    clean: str  # its twin without the bug: no finding at all
    also: tuple[tuple[str, int], ...] = ()  # other findings the bug rightly causes


def py(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# Credential-shaped strings assembled at run time: this file must not itself look leaked.
def _k(*parts: str) -> str:
    return "".join(parts)


AWS = _k("AKIA", "IOSFODNN7", "EXAMPLE")
GITHUB = _k("ghp_", "Ab3dE6gH9jK2mN5p", "Q8sT1vW4yZ7bC0eF3hJ6")
GITLAB = _k("glpat-", "Xy7Zk2Lm9Qw4Er8Ty1Ui")
SLACK = _k("xoxb-", "1234567890-", "0987654321098-", "AbCdEfGhIjKlMnOpQrStUvWx")
STRIPE = _k("sk_live_", "4eC39HqLyjWDarjtT1zdp7dc")
SENDGRID = _k("SG.", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr")
PRIVATE = _k("-----BEGIN RSA ", "PRIVATE KEY-----")
NPM = _k("//registry.npmjs.org/:_authToken=", "npm_", "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6")
TWILIO = _k("AC", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6")
BASIC = _k("https://admin:", "s3cr3tPassw0rd", "@db.internal.example.com/app")

CASES = (
    Case("undefined name, typo", "a.py", py("def total(rows):", "    return sum(rowz)"),
         "ruff F821", 2, py("def total(rows):", "    return sum(rows)")),
    Case("undefined name, missing import", "b.py", py("def now():", "    return datetime.now()"),
         "ruff F821", 2, py("import datetime", "", "", "def now():", "    return datetime.datetime.now()")),
    Case("undefined name in f-string", "c.py", py("def hi(name):", '    return f"hi {nme}"'),
         "ruff F821", 2, py("def hi(name):", '    return f"hi {name}"')),
    Case("undefined name after rename", "d.py", py("def area(width, height):", "    return width * heigth"),
         "ruff F821", 2, py("def area(width, height):", "    return width * height")),
    Case("undefined exception class", "e.py", py("def parse(s):", "    try:", "        return int(s)", "    except ValueErorr:", "        return None"),
         "ruff F821", 4, py("def parse(s):", "    try:", "        return int(s)", "    except ValueError:", "        return None")),
    Case("unused import hides a typo", "f.py", py("import json", "", "", "def load(s):", "    return jsno.loads(s)"),
         "ruff F821", 5, py("import json", "", "", "def load(s):", "    return json.loads(s)"),
         also=(("ruff F401", 1),)),
    Case("unused import, module never used", "g.py", py("import os", "import sys", "", "", "def argv():", "    return sys.argv"),
         "ruff F401", 1, py("import sys", "", "", "def argv():", "    return sys.argv")),
    Case("unused from-import after refactor", "h.py", py("from pathlib import Path, PurePath", "", "", "def home():", "    return Path.home()"),
         "ruff F401", 1, py("from pathlib import Path", "", "", "def home():", "    return Path.home()")),
    Case("unused variable hides a missed return", "i.py", py("def double(x):", "    result = x * 2", "    return x"),
         "ruff F841", 2, py("def double(x):", "    result = x * 2", "    return result")),
    Case("mutable default list", "j.py", py("def add(item, into=[]):", "    into.append(item)", "    return into"),
         "ruff B006", 1, py("def add(item, into=None):", "    into = [] if into is None else into", "    into.append(item)", "    return into")),
    Case("mutable default dict", "k.py", py("def cache(key, store={}):", "    return store.setdefault(key, len(store))"),
         "ruff B006", 1, py("def cache(key, store=None):", "    store = {} if store is None else store", "    return store.setdefault(key, len(store))")),
    Case("mutable default set", "l.py", py("def seen(x, found=set()):", "    found.add(x)", "    return found"),
         "ruff B006", 1, py("def seen(x, found=None):", "    found = set() if found is None else found", "    found.add(x)", "    return found")),
    Case("call in a default", "m.py", py("import time", "", "", "def stamp(at=time.time()):", "    return at"),
         "ruff B008", 4, py("import time", "", "", "def stamp(at=None):", "    return time.time() if at is None else at")),
    Case("closure over a loop variable", "n.py", py("def makers():", "    out = []", "    for i in range(3):", "        out.append(lambda: i)", "    return out"),
         "ruff B023", 4, py("def makers():", "    out = []", "    for i in range(3):", "        out.append(lambda i=i: i)", "    return out")),
    Case("is with a literal", "o.py", py("def empty(s):", '    return s is ""'),
         "ruff F632", 2, py("def empty(s):", '    return s == ""')),
    Case("does not parse", "p.py", py("def broken(:", "    return 1"),
         "ruff invalid-syntax", 1, py("def broken():", "    return 1")),
    Case("shell=True with data", "q.py", py("import subprocess", "", "", "def grep(word):", '    return subprocess.run(f"grep {word} log", shell=True)'),
         "ruff S602", 5, py("import subprocess", "", "", "def grep(word):", '    return subprocess.run(["grep", word, "log"], check=False)')),
    Case("Popen shell=True", "r.py", py("from subprocess import Popen", "", "", "def start(cmd):", "    return Popen(cmd, shell=True)"),
         "ruff S602", 5, py("from subprocess import Popen", "", "", "def start(args):", "    return Popen(args)")),
    Case("os.system with input", "s.py", py("import os", "", "", "def ping(host):", '    return os.system("ping -c1 " + host)'),
         "ruff S605", 5, py("import subprocess", "", "", "def ping(host):", '    return subprocess.run(["ping", "-c1", host], check=False)')),
    Case("os.popen with input", "t.py", py("import os", "", "", "def who(user):", '    return os.popen("id " + user).read()'),
         "ruff S605", 5, py("import subprocess", "", "", "def who(user):", '    return subprocess.run(["id", user], capture_output=True, check=False).stdout')),
    Case("AWS access key", "u.py", py(f'AWS_ACCESS_KEY_ID = "{AWS}"'),
         "secrets AWSAccessKey", 1, py("import os", 'AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]')),
    Case("GitHub token", "v.py", py(f'GITHUB = "{GITHUB}"'),
         "secrets GitHubToken", 1, py("import os", 'GITHUB = os.environ.get("GITHUB_TOKEN", "")')),
    Case("GitLab token", "w.yml", py("gitlab:", f"  token: {GITLAB}"),
         "secrets GitLabToken", 2, py("gitlab:", "  token: ${GITLAB_TOKEN}")),
    Case("Slack bot token", "x.js", py(f'const slack = new WebClient("{SLACK}");'),
         "secrets SlackToken", 1, py("const slack = new WebClient(process.env.SLACK_TOKEN);")),
    Case("Stripe live key", "y.rb", py(f'Stripe.api_key = "{STRIPE}"'),
         "secrets StripeAccessKey", 1, py('Stripe.api_key = ENV.fetch("STRIPE_KEY")')),
    Case("SendGrid key", "z.env", py(f"SENDGRID_API_KEY={SENDGRID}"),
         "secrets SendGridAPIKey", 1, py("SENDGRID_API_KEY=")),
    Case("private key", "deploy/id_rsa.pem", py(PRIVATE, "MIIEowIBAAKCAQEA", "-----END RSA PRIVATE KEY-----"),
         "secrets PrivateKey", 1, py("# the deploy key comes from the vault at run time")),
    Case("npm token", ".npmrc", py(NPM),
         "secrets NPMtokens", 1, py("//registry.npmjs.org/:_authToken=${NPM_TOKEN}")),
    Case("Twilio account", "tw.py", py(f'TWILIO_SID = "{TWILIO}"'),
         "secrets TwilioAPIKey", 1, py("import os", 'TWILIO_SID = os.environ["TWILIO_SID"]')),
    Case("password in a URL", "db.py", py(f'DATABASE_URL = "{BASIC}"'),
         "secrets BasicAuthCredentials", 1, py("import os", 'DATABASE_URL = os.environ["DATABASE_URL"]')),
    Case("password keyword", "conf.py", py('db_password = "Tr0ub4dor&3-horse"'),
         "secrets SecretKeyword", 1, py("import os", 'db_password = os.environ["DB_PASSWORD"]')),
    Case("API key keyword in yaml", "app.yaml", py("service:", '  api_key: "9f8e7d6c5b4a39281706f5e4d3c2b1a0"'),
         "secrets SecretKeyword", 2, py("service:", "  api_key: ${SERVICE_API_KEY}")),
)  # fmt: skip


def added(path: str, text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


async def found(path: str, text: str) -> list[tuple[str, int]]:
    diff = Diff()
    diff.add(parse_file(added(path, text)))
    result = await analyze(diff, head_texts(diff, {}, diff.paths), SWITCHES)
    assert not result.failures, result.failures
    return [(f.agent_type, f.line_start or 0) for f in result.findings]


async def scores() -> tuple[int, int, int, list[str]]:
    hits = extra = 0
    missed: list[str] = []
    for case in CASES:
        bad = await found(case.path, case.bad)
        if (case.finds, case.line) in bad:
            hits += 1
        else:
            missed.append(f"{case.name}: {bad}")
        extra += sum(1 for item in bad if item not in {(case.finds, case.line), *case.also})
        extra += len(await found(case.path, case.clean))
    return hits, extra, len(CASES), missed


async def context_seconds(runs: int = 5) -> tuple[float, int]:
    """The analyzers over the 20 modified files of the `context` bench, as a review runs them."""
    files, _ = pr_files()
    diff, heads = Diff(), {}
    for path, (old, new) in files.items():
        import difflib

        lines = difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
        diff.add(parse_file(f"diff --git a/{path} b/{path}\n" + "".join(lines)))
        heads[path] = FileContext(tuple(new.rstrip("\n").split("\n")))
    return await timed(diff, heads, runs)


def git_diff(repo: str, revisions: str) -> tuple[Diff, dict[str, FileContext]]:
    """A repository's diff over `revisions` (A..B), as a review reads it: the files parsed, and
    each changed file's head text as its context (git show B:path)."""
    base, head = revisions.split("..", 1)
    git = ["git", "-C", repo]
    text = subprocess.run([*git, "diff", base, head], capture_output=True, text=True,  # noqa: S603
                          check=True, errors="replace").stdout  # fmt: skip
    diff, heads = Diff(), {}
    for section in re.split(r"(?m)^(?=diff --git )", text):
        if section.startswith("diff --git "):
            diff.add(parse_file(section))
    for changed in diff.files:
        shown = subprocess.run([*git, "show", f"{head}:{changed.path}"], capture_output=True,  # noqa: S603
                               text=True, check=False, errors="replace")  # fmt: skip
        if shown.returncode == 0:
            heads[changed.path] = FileContext(tuple(shown.stdout.rstrip("\n").split("\n")))
    return diff, heads


async def timed(diff: Diff, heads: dict[str, FileContext], runs: int) -> tuple[float, int]:
    """The median time of the analyzers over `diff` as a review runs them; findings kept."""
    texts = head_texts(diff, heads, diff.paths)
    times, count = [], 0
    for _ in range(runs):
        started = time.monotonic()
        result = await analyze(diff, texts, SWITCHES)
        times.append(time.monotonic() - started)
        count = len(result.findings)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git", metavar="REPO", help="also time a repository's diff")
    parser.add_argument("--range", default="7.0..8.5.0", help="its revisions, A..B "
                        "(default: click's 7.0..8.5.0, 221 files)")  # fmt: skip
    args = parser.parse_args()
    hits, extra, total, missed = asyncio.run(scores())
    seconds, kept = asyncio.run(context_seconds())
    precision = hits / (hits + extra) if hits + extra else 1.0
    for line in missed:
        common.note("missed:", line)
    common.emit(
        "analyzers",
        [
            common.row("labelled cases (each with a clean twin)", total, "", ">= 30", total >= 30),
            common.row("recall on added lines", f"{hits / total:.0%}", f"{hits}/{total}"),
            common.row(
                "precision (clean twins and extras count)", f"{precision:.0%}", f"{extra} extra"
            ),
            common.row("time added, 20-file context PR (median of 5)", f"{seconds:.2f}", "s"),
            common.row("findings kept on its added lines", kept),
            *git_rows(args.git, args.range),
        ],
    )


def git_rows(repo: str | None, revisions: str) -> list[dict]:
    if repo is None:
        return []
    diff, heads = git_diff(repo, revisions)
    seconds, kept = asyncio.run(timed(diff, heads, runs=3))
    what = f"{len(diff.files)}-file diff {revisions}"
    return [
        common.row(f"time added, {what} (median of 3)", f"{seconds:.2f}", "s"),
        common.row(f"findings kept on its added lines, {what}", kept),
    ]


if __name__ == "__main__":
    main()
