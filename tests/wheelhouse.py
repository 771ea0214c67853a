"""Offline installs for the tests that install Second Look as a user would (the Action's
lock, the server's wheel): the pinned packages of a lock, repacked as wheels from this
interpreter's own installed distributions, so pip needs no index."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What building Second Look from source needs (setuptools 65 asks for wheel).
BUILD = ("setuptools", "wheel", "packaging")


def repack(name: str, version: str, into: Path) -> None:
    """An installed distribution as a wheel again: its files under site-packages, a fresh
    RECORD. (Its console scripts are not carried: pip writes them from entry_points; a program
    it ships, such as ruff's binary, is.)"""
    dist = metadata.distribution(name)
    assert dist.version == version, (
        f"{name} {dist.version} installed, {version} locked: run scripts/lock"
    )
    info = next(str(f).split("/")[0] for f in dist.files or [] if ".dist-info/" in str(f))
    wheel = into / f"{re.sub(r'[-_.]+', '_', name)}-{version}-py3-none-any.whl"
    record = []
    # A program the distribution ships (ruff's binary) goes back in the wheel's scripts; a
    # console script is left to pip, which writes it from the entry points.
    console = {e.name for e in dist.entry_points if e.group == "console_scripts"}
    data_dir = f"{re.sub(r'[-_.]+', '_', name)}-{version}.data/scripts"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as out:
        for file in dist.files or []:
            path = str(file)
            if path.startswith("..") and "/bin/" in path and file.name not in console:
                data = Path(str(dist.locate_file(file))).read_bytes()
                path = f"{data_dir}/{file.name}"
                out.writestr(path, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                record.append(f"{path},sha256={digest.decode()},{len(data)}")
                continue
            if (
                path.startswith("..")
                or "__pycache__" in path
                or path.endswith(("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json"))
            ):
                continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            out.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        record.append(f"{info}/RECORD,,")
        out.writestr(f"{info}/RECORD", "\n".join(record) + "\n")


def pins(lock: Path) -> list[tuple[str, str]]:
    """The (name, version) pairs of a lock file written by scripts/lock."""
    pairs = []
    for line in lock.read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pairs.append((name, version))
    return pairs


def fill(into: Path, lock: Path) -> Path:
    """`into` holding the lock's packages and what a build from source needs."""
    build = [(name, metadata.version(name)) for name in BUILD]
    for name, version in [*pins(lock), *build]:
        repack(name, version, into)
    return into
