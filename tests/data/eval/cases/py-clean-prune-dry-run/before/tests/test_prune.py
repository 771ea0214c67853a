from datetime import datetime, timedelta, timezone

from storage.prune import prune
from tests.fakes import FakeBucket, blob

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def test_prune_deletes_only_expired():
    bucket = FakeBucket(
        [
            blob("ci/1234/app.tar.gz", size=100, age=timedelta(days=45), now=NOW),
            blob("ci/1299/app.tar.gz", size=100, age=timedelta(days=2), now=NOW),
        ]
    )
    result = prune(bucket, timedelta(days=30), now=NOW)
    assert result.deleted == 1
    assert bucket.names() == ["ci/1299/app.tar.gz"]


def test_prune_keeps_releases():
    bucket = FakeBucket([blob("releases/v1.0/app.tar.gz", size=1, age=timedelta(days=400), now=NOW)])
    assert prune(bucket, timedelta(days=30), now=NOW).deleted == 0
