"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset."""

from __future__ import annotations

import json
import logging
import subprocess
import warnings
from pathlib import Path

import psutil

from bot.store.connect import DatabaseUnreachable

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) a pgserver cluster under data_dir/postgres and return its URI.

    PostgreSQL stops when the last process using the cluster exits normally; one that was
    killed (`kill -9`) is forgotten here, so the next one to exit stops it.
    """
    # platformdirs warns that XDG_RUNTIME_DIR is unset when pgserver's module is imported (it
    # asks for a runtime dir at class definition): the filter must come before the import.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver.postgres_server import PostgresServer, get_server  # only without DATABASE_URL

    path = (data_dir / "postgres").resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if path not in PostgresServer._instances:  # not already ours
            _forget_dead_handles(path)
        server = get_server(path, cleanup_mode="stop")
    except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
        reason = " ".join((str(exc) or type(exc).__name__).split())
        raise DatabaseUnreachable(
            f"cannot start the embedded PostgreSQL in {path}: {reason} (see {path / 'log'})"
        ) from exc
    log.info("embedded PostgreSQL running in %s", path)
    return server.get_uri()


HANDLES_FILE = ".handle_pids.json"


def _forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop from pgserver's handle list the processes that are gone; return their pids.

    pgserver records each process using the cluster in `.handle_pids.json` and stops
    PostgreSQL when the last one exits. A process killed with SIGKILL never takes itself off,
    so without this no later process is ever the last and PostgreSQL runs for good. Once the
    dead are dropped, pgserver reuses the PostgreSQL they left running, and stops it when the
    last live process exits.
    """
    from pgserver.postgres_server import PostgresServer

    handles = pgdata / HANDLES_FILE
    with PostgresServer._lock:  # the lock pgserver takes to read and write the list
        try:
            written = handles.stat().st_mtime
            pids = json.loads(handles.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            pids = None  # cut short by a kill mid-write: pgserver itself would fail on it
        if not isinstance(pids, list) or not all(isinstance(p, int) for p in pids):
            log.warning("embedded PostgreSQL: %s was unreadable; taken as empty", handles)
            handles.write_text("[]", encoding="utf-8")
            return []
        dead = [pid for pid in pids if not _alive_since(pid, written)]
        if dead:
            handles.write_text(json.dumps([p for p in pids if p not in dead]), encoding="utf-8")
            log.info(
                "embedded PostgreSQL: forgot %d process(es) that exited without stopping it "
                "(pid %s)",
                len(dead),
                ", ".join(map(str, dead)),
            )
    return dead


def _alive_since(pid: int, written: float) -> bool:
    """Whether `pid` is a live process that existed when the handle list was last written.

    A process created after that write has only reused the pid of one that is gone.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        # A second's slack: create_time is derived from the boot time, a whole second.
        return bool(process.create_time() <= written + 1)
    except psutil.AccessDenied:
        return True  # there, but not ours to inspect: keep it
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
