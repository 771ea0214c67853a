"""The container image and compose.yaml driven against FakeGitHub and FakeGemini on this
machine: `scripts/image-test` (`image`) and `scripts/compose-test` (`compose`) run this with the
project's venv after building the images. Each step that fails says what it saw, shows the
containers' logs, and exits 1; the calling script removes the containers whatever happens.

image:   PostgreSQL and the App each in a container on the host's network, the fakes on
         127.0.0.1; one signed delivery reviewed; SIGTERM with a review in flight.
compose: compose.yaml as an operator runs it (PostgreSQL, two App replicas, one published
         port), the fakes on the compose network's gateway; several deliveries, the replica
         running the reviews killed with SIGKILL, the other finishing them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.fakes.gemini import FakeGemini
from tests.fakes.github import FakeGitHub, make_rsa_keypair
from tests.fakes.loop import BackgroundLoop
from tests.payloads import WEBHOOK_SECRET, delivery, pull_request_payload
from tests.processes import free_port
from tests.reviewing import MARKER, NEW_APP, OLD_APP, OWNER, REPO, finding

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "4242"
GEMINI_KEY = "AIzaSy-image-test-key-0123456789abcd"
DATABASE, USER = "secondlook", "secondlook"
SHUTDOWN_TIMEOUT = 5  # the App's, in these tests: a SIGTERM with a review in flight waits this
T = TypeVar("T")


class Failed(Exception):
    """A step did not do what it must; the message says what was seen."""


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - podman, podman-compose or ip, our own arguments
        args, capture_output=True, text=True, env=env, timeout=300, check=False
    )


def podman(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    done = run("podman", *args, env=env)
    if check and done.returncode != 0:
        raise Failed(f"podman {' '.join(args[:3])} ... exited {done.returncode}: {done.stderr}")
    return done.stdout.strip()


def healthy(container: str) -> bool:
    """Whether the image's HEALTHCHECK passes in the container now."""
    return run("podman", "healthcheck", "run", container).returncode == 0


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.1) -> T:
    """Call `check` until it returns something truthy (that); Failed after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except Failed:  # a command that fails until the thing is up
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise Failed(f"{what}: not after {timeout:g} s")
        time.sleep(every)


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own URL
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def deliver(app_url: str, number: int, head_sha: str) -> str:
    """POST a signed pull_request `opened` delivery; the review id the App answers with."""
    payload = pull_request_payload("opened", number=number, head_sha=head_sha, owner=OWNER)
    body, headers = delivery(payload)
    request = urllib.request.Request(f"{app_url}/webhooks", data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        if answer.status != 202:
            raise Failed(f"delivery for PR {number} answered {answer.status}")
        return str(json.loads(answer.read())["review_id"])


def sql(container: str, query: str, port: int = 5432) -> list[list[str]]:
    """Rows of `query`, run by psql inside the PostgreSQL container (listening on `port`)."""
    psql = ["psql", f"--port={port}", "-U", USER, "-d", DATABASE, "-tAF", "|", "-c", query]
    out = podman("exec", container, *psql)
    return [line.split("|") for line in out.splitlines() if line]


class Fakes:
    """FakeGitHub and FakeGemini on a background loop of this process."""

    def __init__(self, host: str = "127.0.0.1", name: str | None = None) -> None:
        self.loop = BackgroundLoop()
        self.private_key, public_key = make_rsa_keypair()
        self.github = FakeGitHub(APP_ID, public_key)
        self.github.start(self.loop, host, name)
        self.gemini = FakeGemini()
        self.gemini.start(self.loop, host, name)
        self.gemini.findings["security"] = [finding()]  # so each review posts inline too

    def close(self) -> None:
        self.loop.close()

    def secrets(self) -> dict[str, str]:
        return {
            "GITHUB_PRIVATE_KEY": self.private_key,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GEMINI_API_KEY": GEMINI_KEY,
        }

    def settings(self) -> dict[str, str]:
        return {
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_API_URL": self.github.url,
            "GOOGLE_GEMINI_BASE_URL": self.gemini.url,
            "GEMINI_RPM": "100000",
            "PUSH_SETTLE_SECONDS": "0",
            "SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
        }

    def open_pull(self, number: int) -> str:
        files = {"app.py": (OLD_APP, NEW_APP)}
        return self.github.add_pull(OWNER, REPO, number, files=files).head_sha

    def published(self, number: int, head_sha: str) -> tuple[int, list[dict]] | None:
        """(summary comments, check runs) once the PR has a completed check run."""
        runs = self.github.check_runs(OWNER, REPO, head_sha)
        if not runs or any(run["status"] != "completed" for run in runs):
            return None
        comments = self.github.comments(OWNER, REPO, number)
        return sum(c["body"].startswith(MARKER) for c in comments), runs


def logs(*containers: str) -> None:
    for name in containers:
        out = podman("logs", "--tail", "40", name, check=False)
        print(f"--- the last lines of {name}'s log:\n{out}", file=sys.stderr)


# ------------------------------------------------------------------------------------ image


def image_test(app_image: str, postgres_image: str, prefix: str) -> None:
    fakes = Fakes()
    pg, app = f"{prefix}-postgres", f"{prefix}-app"
    try:
        _image_test(fakes, app_image, postgres_image, pg, app)
    except Failed:
        logs(pg, app)
        raise
    finally:
        fakes.close()


def _image_test(fakes: Fakes, app_image: str, postgres_image: str, pg: str, app: str) -> None:
    password = secrets.token_hex(16)
    pg_port, port = free_port(), free_port()
    # Secrets reach podman by name (`-e NAME`), from its environment: never on a command line.
    env = {**os.environ, **fakes.secrets(), "POSTGRES_PASSWORD": password}
    env["DATABASE_URL"] = f"postgresql://{USER}:{password}@127.0.0.1:{pg_port}/{DATABASE}"
    podman("run", "--detach", "--name", pg, "--network", "host", "--env", "POSTGRES_PASSWORD",
           "--env", f"POSTGRES_USER={USER}", "--env", f"POSTGRES_DB={DATABASE}",
           postgres_image, "-c", f"port={pg_port}", env=env)  # fmt: skip
    wait_for("PostgreSQL ready", lambda: sql(pg, "SELECT 1", pg_port) == [["1"]], 60, 0.5)

    names = [f"--env={name}" for name in (*fakes.secrets(), "DATABASE_URL")]
    values = [f"--env={k}={v}" for k, v in {**fakes.settings(), "PORT": str(port)}.items()]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    podman("run", "--detach", "--name", app, "--network", "host", "--stop-timeout", "35",
           *names, *values, app_image, env=env)  # fmt: skip
    wait_for("the App's /healthz 200", lambda: status_of(f"{url}/healthz") == 200, 120, 0.05)
    print(f"podman run to /healthz 200: {time.monotonic() - started:.1f} s")

    if not healthy(app):
        raise Failed("the image's HEALTHCHECK failed")
    uid = podman("exec", app, "id", "-u")
    if uid == "0":
        raise Failed("the App runs as root")
    print(f"HEALTHCHECK healthy; the App runs as uid {uid}")

    head = fakes.open_pull(1)
    started = time.monotonic()
    deliver(url, 1, head)
    comments, runs = wait_for("PR 1 reviewed", lambda: fakes.published(1, head), 90)
    inline = len(fakes.github.reviews(OWNER, REPO, 1))
    print(
        f"review: delivery to check run completed {time.monotonic() - started:.1f} s; "
        f"{comments} summary comment, {len(runs)} check run ({runs[0]['conclusion']}), "
        f"{inline} inline review"
    )
    if (comments, len(runs), inline) != (1, 1, 1):
        raise Failed(f"PR 1: {comments} summary comments, {len(runs)} check runs, {inline} inline")

    # SIGTERM while a review waits on Gemini: the process must give it SHUTDOWN_TIMEOUT, hand it
    # back to the queue and exit 0, well before the container's stop timeout.
    # Longer than the stop may take, and short enough for the fake to finish its answer then.
    fakes.gemini.latency = SHUTDOWN_TIMEOUT + 8.0
    seen = len(fakes.gemini.requests)
    review = deliver(url, 2, fakes.open_pull(2))
    wait_for("PR 2 asking Gemini", lambda: len(fakes.gemini.requests) >= seen + 4, 30)
    started = time.monotonic()
    podman("stop", "--time", "35", app)
    took = time.monotonic() - started
    code = podman("inspect", "--format", "{{.State.ExitCode}}", app)
    (row,) = sql(pg, f"SELECT status FROM reviews WHERE id = '{review}'", pg_port)  # noqa: S608 - our id
    print(
        f"SIGTERM with a review in flight: exited {code} after {took:.1f} s "
        f"(SHUTDOWN_TIMEOUT={SHUTDOWN_TIMEOUT}); the review handed back: {row[0]}"
    )
    if code != "0" or took > SHUTDOWN_TIMEOUT + 5 or row[0] != "pending":
        raise Failed("SIGTERM was not honoured within SHUTDOWN_TIMEOUT")


# ---------------------------------------------------------------------------------- compose

PRS = (1, 2, 3)
SLOW = 4.0  # FakeGemini's answer time while the first replica runs: killed mid-review
LEASE, RECLAIM = 6, 1  # the replicas' LEASE_SECONDS and RECLAIM_INTERVAL here
# SIGKILL to app-2 asking Gemini again, at most: a lease run out and a reclaim, with room to
# spare. Measured 0.5 to 1.3 s (the liveness lock frees the reviews at once).
FAILOVER = LEASE + RECLAIM + 3.0
# /sys/class/net/IF/addr_assign_type of an address someone set (the kernel's NET_ADDR_SET).
ADDRESS_SET = "3"


def compose_test(compose_file: Path, project: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="compose-test-"))
    fakes: Fakes | None = None
    try:
        # compose.yaml as written, in a folder of its own: the `.env` beside it is the test's,
        # and a checkout's own `.env` is left alone.
        shutil.copy(compose_file, workdir / "compose.yaml")
        fakes = _compose_test(workdir, project)
    except Failed:
        names = podman("ps", "-a", "--format", "{{.Names}}", "--filter", f"name={project}_")
        logs(*names.split())
        raise
    finally:
        if fakes is not None:
            fakes.close()
        shutil.rmtree(workdir, ignore_errors=True)


def pin_bridge_address(network: str) -> str:
    """Keep the compose network's bridge at the MAC address it has now; says what it did.

    Linux gives a bridge the lowest MAC address of its ports unless one was set on it.
    netavark before 1.9 (Debian 12's, which scripts/podman.sh installs) sets none, so when the
    killed replica's port had the lowest, the gateway's address changed under app-2, whose
    neighbour entry still named the old one: what it sent to the gateway (FakeGitHub,
    FakeGemini, aardvark-dns's names) was lost for about a minute (52 s, and over 60 s,
    measured), until the entry expired. Docker and netavark 1.9 set the bridge's address when
    they make it: so does this, just after, which is what the replicas meet in production there.
    """
    bridge = podman("network", "inspect", "--format", "{{.NetworkInterface}}", network)
    if not bridge or "/" in bridge:
        raise Failed(f"network {network}: no bridge named ({bridge!r})")
    sysfs = Path("/sys/class/net", bridge)
    if not sysfs.is_dir():  # rootless podman: the bridge is in a namespace of its own
        return f"network {network}: its bridge {bridge} is not on this host; its address left"
    if (sysfs / "addr_assign_type").read_text().strip() == ADDRESS_SET:
        return f"network {network}: its bridge {bridge} has an address set"
    address = (sysfs / "address").read_text().strip()
    done = run("ip", "link", "set", "dev", bridge, "address", address)
    if done.returncode != 0:
        raise Failed(f"the address of bridge {bridge} could not be set: {done.stderr.strip()}")
    return f"network {network}: its bridge {bridge} kept at {address} (netavark < 1.9 sets none)"


def compose(workdir: Path, project: str, *args: str) -> None:
    done = run("podman-compose", "-p", project, "-f", str(workdir / "compose.yaml"), *args)
    if done.returncode != 0:
        raise Failed(f"podman-compose {' '.join(args)}: {done.stdout}{done.stderr}")


def _compose_test(workdir: Path, project: str) -> Fakes:
    env_file = workdir / ".env"
    port = free_port()
    env_file.write_text(f"POSTGRES_PASSWORD={secrets.token_hex(16)}\nSECOND_LOOK_PORT={port}\n")
    env_file.chmod(0o600)
    pg, first, second = (f"{project}_{s}_1" for s in ("postgres", "app-1", "app-2"))
    compose(workdir, project, "up", "--detach", "--no-build", "postgres")
    wait_for("PostgreSQL healthy", lambda: healthy(pg), 60, 0.5)

    # The fakes listen where the replicas reach this machine: the network's gateway, which
    # they call host.containers.internal.
    networks = "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}"
    network = podman("inspect", "--format", networks, pg)
    gateway = podman(
        "network", "inspect", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}", network
    )
    print(pin_bridge_address(network))
    fakes = Fakes(gateway, "host.containers.internal")
    settings = {
        **fakes.secrets(),
        # One line, as env files hold it: the App reads `\n` escapes in the key.
        "GITHUB_PRIVATE_KEY": fakes.private_key.strip().replace("\n", "\\n"),
        **fakes.settings(),
        "LEASE_SECONDS": str(LEASE),
        "RECLAIM_INTERVAL": str(RECLAIM),
    }
    with env_file.open("a") as out:
        out.writelines(f"{name}={value}\n" for name, value in settings.items())

    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    compose(workdir, project, "up", "--detach", "--no-build")
    wait_for("app-1's /healthz 200", lambda: status_of(f"{url}/healthz") == 200, 120, 0.1)
    wait_for("app-2 healthy", lambda: healthy(second), 120, 0.5)
    print(f"podman-compose up to both replicas healthy: {time.monotonic() - started:.1f} s")

    fakes.gemini.latency = SLOW
    heads = {number: fakes.open_pull(number) for number in PRS}
    reviews = {deliver(url, number, heads[number]): number for number in PRS}
    wait_for("every review asking Gemini", lambda: len(fakes.gemini.requests) >= 4 * len(PRS), 30)
    # A lease owner is "hostname:pid:...", and a container's hostname is its own: which reviews
    # app-1 runs (app-2's reclaim may have claimed one first; that one is not taken over).
    hostname = podman("inspect", "--format", "{{.Config.Hostname}}", first)
    owners = dict(sql(pg, "SELECT id, lease_owner FROM reviews"))
    on_first = {review for review, owner in owners.items() if owner.startswith(hostname + ":")}
    if not on_first:
        raise Failed(f"app-1 runs none of the reviews: {owners}")
    podman("kill", "--signal", "KILL", first)
    killed = time.monotonic()
    fakes.gemini.latency = 0.5
    print(f"SIGKILL to app-1 running {len(on_first)} of the {len(PRS)} reviews, mid-review")

    asked = len(fakes.gemini.requests)
    wait_for("app-2 asking Gemini", lambda: len(fakes.gemini.requests) > asked, 60, 0.05)
    took = time.monotonic() - killed
    print(f"SIGKILL to app-2 asking Gemini again: {took:.1f} s")
    if took > FAILOVER:
        raise Failed(f"app-2 took {took:.1f} s to go on with the reviews (at most {FAILOVER:g} s)")
    for number in PRS:
        wait_for(f"PR {number} completed", lambda n=number: fakes.published(n, heads[n]), 90)
    print(f"SIGKILL to every review completed: {time.monotonic() - killed:.1f} s")

    rows = sql(pg, "SELECT id, pr_number, status, attempts FROM reviews ORDER BY pr_number")
    bad = []
    for review_id, number, status, attempts in rows:
        comments, runs = fakes.published(int(number), heads[int(number)]) or (0, [])
        inline = len(fakes.github.reviews(OWNER, REPO, int(number)))
        conclusions = ", ".join(run["conclusion"] for run in runs)
        print(
            f"PR {number}: review {status}, attempts {attempts}; {comments} summary comment, "
            f"{len(runs)} check run ({conclusions}), {inline} inline review"
        )
        if (status, comments, len(runs), inline) != ("completed", 1, 1, 1):
            bad.append(number)
        if review_id not in reviews or attempts != ("2" if review_id in on_first else "1"):
            bad.append(number)  # app-1's taken over once, by app-2; app-2's own not again
    if bad:
        raise Failed(f"PRs {sorted(set(bad))} were not finished exactly once by app-2")
    return fakes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    image = commands.add_parser("image")
    image.add_argument("--app-image", required=True)
    image.add_argument("--postgres-image", required=True)
    image.add_argument("--prefix", required=True, help="the containers' names start with it")
    comp = commands.add_parser("compose")
    comp.add_argument("--compose-file", type=Path, default=ROOT / "compose.yaml")
    comp.add_argument("--project", required=True)
    args = parser.parse_args()
    try:
        if args.command == "image":
            image_test(args.app_image, args.postgres_image, args.prefix)
        else:
            compose_test(args.compose_file, args.project)
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
