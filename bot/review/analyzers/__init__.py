"""Deterministic analyzers: tools that run on the head text of the changed files, each in a
sandboxed subprocess, whose findings on added lines join the agents' (see `run.py`)."""
