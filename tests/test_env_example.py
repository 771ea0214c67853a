"""`.env.example` names every setting the App and the command line read, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from dotenv import dotenv_values

from bot import config

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
# An entry: `NAME=value`, or commented out, `# NAME=value`.
ENTRY = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def settings_read() -> set[str]:
    """Every variable `serve` reads (the model behind Settings) and the command line's own."""
    names: set[str] = set()
    for model in (config._Environment, config._AccessEnvironment):
        names |= {str(field.validation_alias) for field in model.model_fields.values()}
    return names


def test_every_setting_has_an_entry_and_every_entry_is_a_setting():
    documented = ENTRY.findall(EXAMPLE.read_text(encoding="utf-8"))
    read = settings_read()

    assert sorted(read - set(documented)) == [], "settings without an entry in .env.example"
    assert sorted(set(documented) - read) == [], "entries in .env.example no setting reads"
    assert len(documented) == len(set(documented)), "an entry written twice"


def test_every_field_of_settings_is_read_from_a_variable():
    # So that comparing the variables above compares Settings itself.
    fields = {name for name in config.Settings.__dataclass_fields__}
    assert fields <= set(config._Environment.model_fields)


def test_the_example_as_written_is_valid_and_only_sets_the_app(tmp_path):
    values = dotenv_values(EXAMPLE)
    assert set(values) == {
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY_PATH",
        "GITHUB_WEBHOOK_SECRET",
        "GEMINI_API_KEY",
    }
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        found = ENTRY.match(line)
        if found and line.startswith("# "):
            # Each commented entry, uncommented alone, is a valid setting.
            entry = tmp_path / ".env"
            entry.write_text(
                'GITHUB_APP_ID=1\nGITHUB_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nx\\n'
                '-----END RSA PRIVATE KEY-----"\nGITHUB_WEBHOOK_SECRET=s\n' + line[2:] + "\n"
            )
            try:
                config.load_settings({}, entry)
            except config.ConfigError as exc:
                assert found.group(1) in {
                    "GITHUB_PRIVATE_KEY",
                    "GITHUB_PRIVATE_KEY_PATH",
                    "GITHUB_TOKEN",
                }, (line, str(exc))
