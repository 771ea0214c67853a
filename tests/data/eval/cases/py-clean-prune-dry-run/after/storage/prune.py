"""Delete build artifacts older than the retention window from the artifact bucket."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from storage.bucket import Bucket, Blob

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30
PROTECTED_PREFIXES = ("releases/",)


@dataclass
class PruneResult:
    deleted: int = 0
    freed_bytes: int = 0
    kept: int = 0
    dry_run: bool = False


def expired(blobs: Iterable[Blob], cutoff: datetime) -> Iterable[Blob]:
    for blob in blobs:
        if blob.name.startswith(PROTECTED_PREFIXES):
            continue
        if blob.updated < cutoff:
            yield blob


def prune(
    bucket: Bucket,
    retention: timedelta,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
) -> PruneResult:
    """Delete expired blobs; with `dry_run`, only count what would be deleted."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - retention
    result = PruneResult(dry_run=dry_run)
    blobs = list(bucket.list_blobs())
    for blob in expired(blobs, cutoff):
        if dry_run:
            log.info("would delete %s (%d bytes)", blob.name, blob.size)
        else:
            bucket.delete(blob.name)
        result.deleted += 1
        result.freed_bytes += blob.size
    result.kept = len(blobs) - result.deleted
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bucket")
    parser.add_argument("--days", type=int, default=DEFAULT_RETENTION_DAYS)
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = prune(Bucket(args.bucket), timedelta(days=args.days), dry_run=args.dry_run)
    log.info(
        "%s %d blobs (%.1f MiB), kept %d",
        "would delete" if result.dry_run else "deleted",
        result.deleted,
        result.freed_bytes / 2**20,
        result.kept,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
