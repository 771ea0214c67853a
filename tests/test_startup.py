"""Start-up: each failure is one line on stderr, and the embedded PostgreSQL outlives no one.

Every test runs `python -m bot serve` (or `migrate`, `review`) as a subprocess in a tmp dir, so
no developer `.env` is read, with an environment built here.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil
import pytest

from bot.config import Settings
from tests.conftest import run_sync
from tests.processes import Server, app_env, free_port, run_bot


def serve_env(settings: Settings, port: int | None = None, **extra: str) -> dict[str, str]:
    env = {**app_env(settings), "HOST": "127.0.0.1", "PORT": str(port or free_port())}
    env.update(extra)
    return env


def one_line(result: subprocess.CompletedProcess) -> str:
    """The only line the process wrote: on stderr, nothing on stdout, no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "listening on" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_port_in_use_is_one_line_and_nothing_listens(base_settings: Settings, tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_bot(tmp_path, serve_env(base_settings, port), "serve")

    assert result.returncode == 1
    assert one_line(result) == (
        f"second-look: cannot listen on 127.0.0.1:{port}: address already in use"
    )


@pytest.mark.parametrize(
    "command", [["serve"], ["migrate"], ["review", "octo/widgets#1"]], ids=lambda c: c[0]
)
def test_unreachable_database_is_one_line_without_the_password(
    base_settings: Settings, tmp_path: Path, command: list[str]
):
    port = free_port()  # bound then closed: nothing listens there
    url = f"postgresql://secondlook:hunter2@127.0.0.1:{port}/x"

    result = run_bot(tmp_path, serve_env(base_settings, DATABASE_URL=url), *command)

    assert result.returncode == 1
    assert "hunter2" not in result.stderr + result.stdout
    assert one_line(result) == (
        f"second-look: cannot reach the database at postgresql://secondlook@127.0.0.1:{port}/x: "
        "connection refused"
    )


ROLE = "secondlook_pw"


@pytest.fixture
def password_role(cluster_url: str) -> Iterator[str]:
    """A role that must log in with a password (scram) on the test cluster; its URL's server.

    The embedded cluster trusts every local connection, so a pg_hba.conf line for this one
    role is put first for the test and taken out after; other roles are not affected.
    """
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("edits pg_hba.conf: only on the suite's own throwaway cluster")

    async def hba_file() -> str:
        conn = await asyncpg.connect(cluster_url)
        try:
            await conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
            await conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'the-right-one-42'")
            return await conn.fetchval("SHOW hba_file")
        finally:
            await conn.close()

    async def reload(drop: bool = False) -> None:
        conn = await asyncpg.connect(cluster_url)
        try:
            await conn.execute("SELECT pg_reload_conf()")
            if drop:
                await conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        finally:
            await conn.close()

    hba = Path(run_sync(hba_file()))
    if not os.access(hba, os.W_OK):
        run_sync(reload(drop=True))
        pytest.skip(f"cannot make {ROLE} need a password: {hba} is not writable from here")
    original = hba.read_text()
    rules = f"local all {ROLE} scram-sha-256\nhost all {ROLE} all scram-sha-256\n"
    hba.write_text(rules + original)
    try:
        run_sync(reload())
        wrong = with_user(cluster_url, f"{ROLE}:wrong-hunter2")
        deadline = time.monotonic() + 10  # the postmaster reloads pg_hba.conf on its own time
        while not run_sync(refused(wrong)):
            assert time.monotonic() < deadline, "pg_hba.conf reload did not take effect"
            time.sleep(0.05)
        yield wrong
    finally:
        hba.write_text(original)
        run_sync(reload(drop=True))


async def refused(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except asyncpg.InvalidPasswordError:
        return True
    await conn.close()
    return False


def with_user(url: str, userinfo: str) -> str:
    """`url` with another user (and password) part."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{hosts}"))


def test_wrong_database_password_is_one_line_without_it(
    base_settings: Settings, tmp_path: Path, password_role: str
):
    result = run_bot(tmp_path, serve_env(base_settings, DATABASE_URL=password_role), "serve")

    assert result.returncode == 1
    assert "wrong-hunter2" not in result.stderr + result.stdout
    line = one_line(result)
    assert line == (
        f"second-look: cannot log in to the database at {with_user(password_role, ROLE)}: "
        f'password authentication failed for user "{ROLE}"'
    )


def key_file_env(settings: Settings, key_file: Path) -> dict[str, str]:
    env = serve_env(settings, GITHUB_PRIVATE_KEY_PATH=str(key_file))
    del env["GITHUB_PRIVATE_KEY"]
    return env


def test_key_file_that_is_not_a_pem_is_one_line(base_settings: Settings, tmp_path: Path):
    key_file = tmp_path / "app.pem"
    key_file.write_text("not a key\n")

    result = run_bot(tmp_path, key_file_env(base_settings, key_file), "serve")

    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith("second-look: configuration error: ")
    assert "GITHUB_PRIVATE_KEY" in line


def test_pem_that_does_not_load_is_one_line_without_the_key(
    base_settings: Settings, tmp_path: Path
):
    lines = base_settings.github_private_key.strip().splitlines()
    truncated = [*lines[:4], lines[-1]]  # the BEGIN and END lines, three lines of the body
    key_file = tmp_path / "app.pem"
    key_file.write_text("\n".join(truncated) + "\n")

    result = run_bot(tmp_path, key_file_env(base_settings, key_file), "serve")

    assert result.returncode == 2
    line = one_line(result)
    # Named by the variable that was set, with its file, not as GITHUB_PRIVATE_KEY.
    assert line == (
        f"second-look: configuration error: GITHUB_PRIVATE_KEY_PATH={key_file} cannot be "
        "loaded as a PEM private key (truncated or damaged?): download a new private key from "
        "the App's settings page"
    )
    for body_line in truncated[1:-1]:
        assert body_line not in result.stderr


# README's "Exit statuses of `serve`": each case run as a `serve` process, and the status it
# exits with must be the row of the table that names it.

README = Path(__file__).resolve().parents[1] / "README.md"


def exit_table() -> dict[int, str]:
    """README's table: exit status -> the text of its row."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit statuses of `serve`\n", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.fullmatch(r"\| (\d+) \| (.+) \|", line)
        if found:
            rows[int(found[1])] = found[2]
    return rows


def _pem(key: object, password: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization

    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _key_file(settings: Settings, tmp_path: Path, text: str) -> dict[str, str]:
    key_file = tmp_path / "app.pem"
    key_file.write_text(text)
    return key_file_env(settings, key_file)


def _damaged(settings: Settings) -> str:
    lines = settings.github_private_key.strip().splitlines()
    return "\n".join([*lines[:4], lines[-1]]) + "\n"


def _encrypted() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return _pem(rsa.generate_private_key(65537, 2048), b"a passphrase")


def _elliptic() -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return _pem(ec.generate_private_key(ec.SECP256R1()))


def _without(env: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != name}


def _dotenv(tmp_path: Path, text: str) -> None:
    (tmp_path / ".env").write_text(text)


# id: (the words of README's row that name the case, what the one line on stderr says)
EXIT_CASES = {
    "sigterm": ("stopped by SIGTERM", None),
    "sigint": ("SIGINT (Ctrl+C)", None),
    "sigterm-in-setup": ("while the setup page is served", None),
    "port-taken": ("the port is taken", "address already in use"),
    "host-unknown": ("`HOST` cannot be listened on", "cannot resolve"),
    "database-unreachable": ("the database is unreachable", "connection refused"),
    "embedded-cannot-start": ("the embedded PostgreSQL cannot start", "cannot start the embedded"),
    "setting-missing": ("a required setting not set while others are", "GITHUB_WEBHOOK_SECRET"),
    "setting-malformed": ("a malformed value", "GEMINI_RPM must be a whole number"),
    "dotenv-line": ("a line of `.env` that is not `KEY=VALUE`", ".env line 2: expected"),
    "key-unreadable": ("a private key that cannot be read", "GITHUB_PRIVATE_KEY_PATH=/"),
    "key-not-pem": ("is not a PEM", "GITHUB_PRIVATE_KEY_PATH=/"),
    "key-damaged": ("damaged", "GITHUB_PRIVATE_KEY_PATH=/"),
    "key-passphrase": ("encrypted with a passphrase", "GITHUB_PRIVATE_KEY is encrypted"),
    "key-not-rsa": ("not RSA", "GITHUB_PRIVATE_KEY_PATH=/"),
    "unknown-option": ("an unknown option", "unrecognized arguments"),
}


async def _stopped(settings: Settings, tmp_path: Path, case: str) -> subprocess.CompletedProcess:
    """`serve` stopped by a signal once it listens: the App, or the setup page."""
    blanks = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET")
    first_run = {name: "" for name in blanks} if case == "sigterm-in-setup" else {}
    server = Server(settings, tmp_path, **first_run)
    try:
        deadline = time.monotonic() + 30
        while "listening on" not in server.log.read_text():
            assert server.process.poll() is None, server.log.read_text()
            assert time.monotonic() < deadline, server.log.read_text()
            await asyncio.sleep(0.05)
        server.process.send_signal(signal.SIGINT if case == "sigint" else signal.SIGTERM)
        await asyncio.to_thread(server.process.wait, 30)
    finally:
        server.stop()
    log = server.log.read_text()
    assert ("to register one" in log) == bool(first_run), log
    return subprocess.CompletedProcess(server.process.args, server.process.returncode, "", log)


def _exit_case(settings: Settings, tmp_path: Path, case: str) -> subprocess.CompletedProcess:
    env = serve_env(settings)
    args = ["serve"]
    if case == "port-taken":
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            env["PORT"] = str(taken.getsockname()[1])
            return run_bot(tmp_path, env, *args)
    if case == "host-unknown":
        env["HOST"] = "no-such-host.invalid"
    elif case == "database-unreachable":
        env["DATABASE_URL"] = f"postgresql://secondlook@127.0.0.1:{free_port()}/x"
    elif case == "embedded-cannot-start":
        (tmp_path / "a-file").write_text("not a directory\n")
        env.update(DATABASE_URL="", DATA_DIR=str(tmp_path / "a-file"))
    elif case == "setting-missing":
        env = _without(env, "GITHUB_WEBHOOK_SECRET")
    elif case == "setting-malformed":
        env["GEMINI_RPM"] = "many"
    elif case == "dotenv-line":
        _dotenv(tmp_path, "PORT=8080\nthis is not a setting\n")
    elif case == "key-unreadable":
        env = key_file_env(settings, tmp_path / "missing.pem")
    elif case == "key-not-pem":
        env = _key_file(settings, tmp_path, "not a key\n")
    elif case == "key-damaged":
        env = _key_file(settings, tmp_path, _damaged(settings))
    elif case == "key-passphrase":
        env["GITHUB_PRIVATE_KEY"] = _encrypted()
    elif case == "key-not-rsa":
        env = _key_file(settings, tmp_path, _elliptic())
    elif case == "unknown-option":
        args.append("--port=1")
    return run_bot(tmp_path, env, *args)


@pytest.mark.parametrize("case", list(EXIT_CASES))
async def test_serve_exits_as_the_readme_table_says(
    base_settings: Settings, tmp_path: Path, case: str
):
    words, said = EXIT_CASES[case]
    if said is None:
        result = await _stopped(base_settings, tmp_path, case)
    else:
        result = await asyncio.to_thread(_exit_case, base_settings, tmp_path, case)

    table = exit_table()
    assert result.returncode in table, result.stderr
    assert words in table[result.returncode], (
        f"{case}: exit {result.returncode}, whose README row does not say {words!r}: "
        f"{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    if said is not None:
        assert said in result.stderr.strip().splitlines()[-1], result.stderr


def test_the_readme_table_has_a_case_run_for_every_row():
    table = exit_table()
    assert sorted(table) == [0, 1, 2]
    for status, row in table.items():
        assert any(words in row for words, _ in EXIT_CASES.values()), status


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def listening_only_when_bound(server: Server, timeout: float = 30) -> None:
    """Wait for `listening on`; once it is in the log, the port must take connections."""
    deadline = time.monotonic() + timeout
    expected = f"listening on 127.0.0.1:{server.port}"
    while expected not in server.log.read_text():
        assert server.process.poll() is None, server.log.read_text()
        assert time.monotonic() < deadline, f"no {expected!r}: {server.log.read_text()}"
        await asyncio.sleep(0.02)
    with socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass


async def test_embedded_postgres_left_by_kill_9_stops_with_the_next_process(
    base_settings: Settings, tmp_path: Path
):
    embedded = replace(base_settings, database_url=None)
    data_dir = tmp_path / "data"
    pgdata = data_dir / "postgres"
    handles = pgdata / ".handle_pids.json"
    servers: list[Server] = []
    postmaster = None
    try:
        first = Server(embedded, tmp_path, DATA_DIR=str(data_dir))
        servers.append(first)
        await listening_only_when_bound(first)
        await first.ready(timeout=30)
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        assert json.loads(handles.read_text()) == [first.process.pid]

        first.kill()
        assert running(postmaster)  # what kill -9 leaves: postgres, and a dead pid in the list
        assert json.loads(handles.read_text()) == [first.process.pid]

        second = Server(embedded, tmp_path, DATA_DIR=str(data_dir))
        servers.append(second)
        await listening_only_when_bound(second)
        await second.ready(timeout=30)
        assert json.loads(handles.read_text()) == [second.process.pid]
        second.stop()
        assert second.process.returncode == 0, second.log.read_text()

        deadline = time.monotonic() + 10
        while running(postmaster) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not running(postmaster), "the embedded postgres outlived every serve"
        assert not (pgdata / "postmaster.pid").exists()
        assert json.loads(handles.read_text()) == []
        log = second.log.read_text()
        assert "Traceback" not in log
        assert "XDG_RUNTIME_DIR" not in log  # the environment above has none set
        assert (
            f"forgot 1 process(es) that exited without stopping it (pid {first.process.pid})" in log
        )
    finally:
        for server in servers:
            server.stop()
        if postmaster is not None and running(postmaster):  # do not leave it to the machine
            psutil.Process(postmaster).terminate()


def test_a_database_password_is_known_as_written_and_decoded():
    from bot.store.connect import passwords

    assert passwords("postgresql://app:p%40ss@db:5432/x") == {"p%40ss", "p@ss"}
    assert passwords("postgresql://db/x?password=hunter2") == {"hunter2"}
    assert passwords("postgresql://app@db/x") == set()
