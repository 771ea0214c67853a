"""The command-line tools around the App and the review: `migrate`, `usage` and `eval`."""
