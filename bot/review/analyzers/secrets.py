"""detect-secrets for every file, run as `python -m bot.review.analyzers.secrets FILE...` in the
sandbox. What leaves the subprocess is the kind of secret and its line, never the secret: not
in a comment, a log line or a row."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.review.analyzers.base import Hit, Options, Run

NAME = "secrets"
DOCS = "https://github.com/Yelp/detect-secrets#currently-supported-plugins"
# The providers' formats and the `password = "..."` keyword. The entropy detectors are left
# out: a hash in a lock file, a test vector or a UUID trips them far more often than a key.
PLUGINS = (
    "ArtifactoryDetector", "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "CloudantDetector", "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector",
    "IbmCloudIamDetector", "IbmCosHmacDetector", "JwtTokenDetector", "KeywordDetector",
    "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector",
    "PypiTokenDetector", "SendGridDetector", "SlackDetector", "SoftlayerDetector",
    "SquareOAuthDetector", "StripeDetector", "TelegramBotTokenDetector", "TwilioKeyDetector",
)  # fmt: skip
MAX_FILE_CHARS = 1_000_000


def scan(paths: list[str]) -> list[dict[str, object]]:
    """Each secret found: path, line, plugin and kind. Runs in the subprocess."""
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    found: list[dict[str, object]] = []
    config = {"plugins_used": [{"name": name} for name in PLUGINS]}
    with transient_settings(config):
        for path in paths:
            collection = SecretsCollection()
            collection.scan_file(path)
            for secrets in collection.data.values():
                for secret in secrets:
                    found.append({"path": path, "line": secret.line_number, "kind": secret.type})
    return found


KEYWORD = "Secret Keyword"  # the generic detector: a provider's on the same line says more


class Secrets:
    name = NAME
    added_only = True  # a secret is on its line (a private key's starts there)

    def takes(self, path: str) -> bool:
        return True

    def command(self, texts: Mapping[str, str], options: Options) -> Run:
        files = {f"src/{p}": text for p, text in texts.items() if len(text) <= MAX_FILE_CHARS}
        argv = (sys.executable, "-s", "-m", "bot.review.analyzers.secrets", *files)
        return Run(argv, files, seconds=60.0)

    def hits(self, stdout: str, root: Path) -> list[Hit]:
        out = []
        items = json.loads(stdout or "[]")
        provider = {(i["path"], i["line"]) for i in items if i["kind"] != KEYWORD}
        for item in items:
            kind = str(item["kind"])
            if kind == KEYWORD and (item["path"], item["line"]) in provider:
                continue  # one finding a line: the provider's
            rule = kind.replace(" ", "")
            out.append(
                Hit(
                    path=str(item["path"]).removeprefix("src/"),
                    line=int(item["line"]),
                    rule=rule,
                    message=f"{kind}: a credential committed in the code. Revoke it at its "
                    "provider, and read it from the environment or a secret store instead.",
                    severity="critical",
                    docs=DOCS,
                )
            )
        return out


if __name__ == "__main__":
    json.dump(scan(sys.argv[1:]), sys.stdout)
