"""Second Look: a self-hosted GitHub App that reviews pull requests with Gemini."""

from importlib import metadata


def version() -> str:
    """The installed package's version (setup.cfg's, through the package metadata)."""
    try:
        return metadata.version("second-look")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"
