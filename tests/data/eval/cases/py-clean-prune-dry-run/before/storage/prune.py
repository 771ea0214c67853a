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


def expired(blobs: Iterable[Blob], cutoff: datetime) -> Iterable[Blob]:
    for blob in blobs:
        if blob.name.startswith(PROTECTED_PREFIXES):
            continue
        if blob.updated < cutoff:
            yield blob


def prune(bucket: Bucket, retention: timedelta, now: datetime | None = None) -> PruneResult:
    now = now or datetime.now(timezone.utc)
    cutoff = now - retention
    result = PruneResult()
    blobs = list(bucket.list_blobs())
    for blob in expired(blobs, cutoff):
        bucket.delete(blob.name)
        result.deleted += 1
        result.freed_bytes += blob.size
    result.kept = len(blobs) - result.deleted
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bucket")
    parser.add_argument("--days", type=int, default=DEFAULT_RETENTION_DAYS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = prune(Bucket(args.bucket), timedelta(days=args.days))
    log.info(
        "deleted %d blobs (%.1f MiB), kept %d",
        result.deleted,
        result.freed_bytes / 2**20,
        result.kept,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
