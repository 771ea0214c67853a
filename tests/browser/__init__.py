"""Tests that drive a real browser (headless Chromium) against pages served on 127.0.0.1."""
