"""Second Look without hosting the App: a local diff or branch reviewed from the command line
(`python -m bot review --diff/--git`), a PR reviewed without publishing (`--dry-run`), and
GitHub Actions (`python -m bot action`). All of them run bot/pipeline.py, as the App does."""
