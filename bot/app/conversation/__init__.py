"""Talking to the reviewer: commands, the Re-run button, answers and dismissals in our
threads, reactions read back, threads resolved, installations; each a job (bot/store/jobs.py)."""
