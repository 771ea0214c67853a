"""Second Look: a self-hosted GitHub App that reviews pull requests with Gemini."""

__version__ = "0.1.0"
