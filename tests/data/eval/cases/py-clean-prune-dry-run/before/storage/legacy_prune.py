"""Deprecated: use storage.prune instead. Kept for the old cron entry until it is removed."""

from __future__ import annotations

import warnings

from storage.prune import main as _main


def main() -> int:
    warnings.warn(
        "storage.legacy_prune is deprecated; run `python -m storage.prune`",
        DeprecationWarning,
        stacklevel=2,
    )
    return _main()


if __name__ == "__main__":
    raise SystemExit(main())
