"""First run: the setup pages register the App from its manifest, and `serve` then serves it.

And `register`, the same registration for a host without a browser.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from dotenv import dotenv_values

from bot.app.setup import SetupSettings, create_setup_app, read_settings
from bot.config import Settings, load_settings
from bot.github import manifest
from tests.fakes.github import FakeGitHub
from tests.payloads import WEBHOOK_SECRET, delivery
from tests.processes import CHECKOUT, app_env, free_port, run_bot


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][values.get("name", "")] = values.get("value", "")


def only_form(page: str) -> dict[str, Any]:
    parser = _Forms()
    parser.feed(page)
    assert len(parser.forms) == 1, page
    return parser.forms[0]


def same_origin(client) -> dict[str, str]:
    """The Origin a browser sends with a form posted from one of the test server's pages."""
    return {"Origin": str(client.make_url("/")).rstrip("/")}


def github_post(page: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The auto-submitted form's target, its query, and the manifest it posts."""
    form = only_form(page)
    target = form["action"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
    return target, query, json.loads(form["fields"]["manifest"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def setup_app(fake_github: FakeGitHub, workdir: Path, **kwargs: Any):
    settings = SetupSettings(github_api_url=fake_github.url or "", data_dir=workdir / "data")
    return create_setup_app(
        settings, dotenv=workdir / ".env", github_url="https://github.example", **kwargs
    )


async def test_setup_page_offers_the_default_name_and_base_url(
    aiohttp_client, fake_github, workdir
):
    client = await aiohttp_client(setup_app(fake_github, workdir))

    response = await client.get("/", headers={"Host": "review.example.com:8080"})

    assert response.status == 200
    assert response.content_type == "text/html"
    form = only_form(await response.text())
    assert form["action"] == "/setup"
    assert form["fields"] == {
        "access": "",
        "name": "Second Look (review.example.com)",
        "org": "",
        "base_url": "http://review.example.com:8080",
        "acknowledged": "http://review.example.com:8080",  # the warning below was shown
        "gemini_api_key": "",
    }
    assert "plain http://" in await response.text()


async def test_setup_page_escapes_a_hostile_host(aiohttp_client, fake_github, workdir):
    client = await aiohttp_client(setup_app(fake_github, workdir))

    response = await client.get("/", headers={"Host": '"><script>alert(1)</script>'})

    text = await response.text()
    assert response.status == 200
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert only_form(text)["fields"]["base_url"] == 'http://"><script>alert(1)</script>'


@pytest.mark.parametrize("org", ["", "octo-org"])
async def test_form_posts_the_manifest_with_a_state(aiohttp_client, fake_github, workdir, org):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    form = {"name": "Second Look (ci)", "org": org, "base_url": "https://bot.example.com/"}

    response = await client.post("/setup", data=form, headers=same_origin(client))

    assert response.status == 200
    page = await response.text()
    target, query, spec = github_post(page)
    where = f"/organizations/{org}" if org else ""
    assert target.split("?")[0] == f"https://github.example{where}/settings/apps/new"
    assert len(query["state"]) >= 32
    assert spec["name"] == "Second Look (ci)"
    assert spec["url"] == "https://bot.example.com"
    assert spec["hook_attributes"]["url"] == "https://bot.example.com/webhooks"
    assert spec["redirect_url"] == "https://bot.example.com/setup/callback"
    assert spec["default_permissions"]["pull_requests"] == "write"  # the rest from app.yml
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page

    again = await client.post("/setup", data=form, headers=same_origin(client))
    assert github_post(await again.text())[1]["state"] != query["state"]


@pytest.mark.parametrize(
    "form",
    [
        {"name": "", "org": "", "base_url": "https://bot.example.com"},
        {"name": "x" * 35, "org": "", "base_url": "https://bot.example.com"},
        {"name": "A", "org": "../evil", "base_url": "https://bot.example.com"},
        {"name": "A", "org": "", "base_url": "javascript:alert(1)"},
        {"name": "A", "org": "", "base_url": "https://bot.example.com/?x=1"},
    ],
)
async def test_form_refuses_what_github_could_not_use(aiohttp_client, fake_github, workdir, form):
    client = await aiohttp_client(setup_app(fake_github, workdir))

    response = await client.post("/setup", data=form, headers=same_origin(client))

    assert response.status == 400
    assert only_form(await response.text())["action"] == "/setup"  # the form again, to fix


async def start(client, **fields: str) -> str:
    response = await client.post(
        "/setup",
        data={"name": "Second Look (t)", "org": "", "base_url": "https://b.example", **fields},
        headers=same_origin(client),
    )
    return github_post(await response.text())[1]["state"]


@pytest.mark.parametrize("case", ["missing", "unknown", "expired", "used"])
async def test_callback_with_a_wrong_state_is_refused(aiohttp_client, fake_github, workdir, case):
    clock = Clock()
    registered: list[dict] = []
    client = await aiohttp_client(
        setup_app(fake_github, workdir, on_registered=registered.append, clock=clock)
    )
    state = await start(client)
    code = fake_github.manifest_code()
    if case == "used":
        await client.get("/setup/callback", params={"code": "nope", "state": state})
    if case == "expired":
        clock.now += 3601
    params = {"code": code} | ({} if case == "missing" else {"state": state})
    if case == "unknown":
        params["state"] = state[:-2] + "xx"

    response = await client.get("/setup/callback", params=params)

    assert response.status == 400
    text = await response.text()
    assert "Start again" in text
    assert not fake_github.find_requests("POST", f"/app-manifests/{code}/conversions")
    assert not (workdir / ".env").exists()
    assert registered == []


async def test_callback_exchanges_the_code_and_writes_the_credentials(
    aiohttp_client, fake_github, workdir, app_keys
):
    (workdir / ".env").write_text("GEMINI_API_KEY=kept\n# a comment\nGITHUB_APP_ID=\n")
    registered: list[dict] = []
    client = await aiohttp_client(setup_app(fake_github, workdir, on_registered=registered.append))
    state = await start(client)
    code = fake_github.manifest_code("Second Look <t>", webhook_secret="s3cret-from-github")

    response = await client.get("/setup/callback", params={"code": code, "state": state})

    assert response.status == 200, await response.text()
    page = await response.text()
    assert "Second Look &lt;t&gt; is registered" in page
    assert 'href="https://github.com/apps/second-look-t/installations/new"' in page
    assert "s3cret" not in page and "PRIVATE KEY" not in page
    key_file = workdir / "data" / "second-look-t.private-key.pem"
    assert key_file.read_text() == app_keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    env_file = workdir / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert dotenv_values(env_file) == {
        "GEMINI_API_KEY": "kept",
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY_PATH": str(key_file),
        "GITHUB_WEBHOOK_SECRET": "s3cret-from-github",
    }
    assert "# a comment" in env_file.read_text()
    assert [answer["id"] for answer in registered] == [4242]
    settings = load_settings({}, env_file)
    assert settings.github_private_key == app_keys[0]
    assert settings.github_webhook_secret == "s3cret-from-github"

    again = await client.get("/setup/callback", params={"code": code, "state": state})
    assert again.status == 409  # registered once; the site is about to close
    assert len(registered) == 1


GEMINI_KEY = "AIzaSyTheKey-for-the-setup-0123456789"


async def test_the_gemini_key_is_written_with_the_credentials_and_never_shown(
    aiohttp_client, fake_github, workdir, caplog
):
    (workdir / ".env").write_text("GEMINI_API_KEY=an-old-key\nPORT=9000\n")
    client = await aiohttp_client(setup_app(fake_github, workdir))
    form = await client.get("/")
    assert re.search(
        r'<input id="gemini_api_key" name="gemini_api_key" value="" type="password"',
        await form.text(),
    )
    state = await start(client, gemini_api_key=f"  {GEMINI_KEY} ")
    code = fake_github.manifest_code("Second Look (t)")

    with caplog.at_level("DEBUG"):
        response = await client.get("/setup/callback", params={"code": code, "state": state})

    page = await response.text()
    assert response.status == 200, page
    assert "The Gemini API key is in" in page and "too." in page
    assert "first review will fail" not in page
    env_file = workdir / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    written = dotenv_values(env_file)
    assert written["GEMINI_API_KEY"] == GEMINI_KEY  # the old one replaced
    assert written["PORT"] == "9000"
    assert written["GITHUB_APP_ID"] == "4242"
    assert GEMINI_KEY not in page
    assert GEMINI_KEY not in caplog.text
    assert "registered" in caplog.text and "with GEMINI_API_KEY" in caplog.text
    assert load_settings({}, env_file).gemini_api_key == GEMINI_KEY


async def test_without_a_gemini_key_the_registered_page_says_the_first_review_fails(
    aiohttp_client, fake_github, workdir
):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    state = await start(client, gemini_api_key="")
    code = fake_github.manifest_code("Second Look (t)")

    response = await client.get("/setup/callback", params={"code": code, "state": state})

    page = await response.text()
    text = html.unescape(page)
    assert response.status == 200, text
    assert "No Gemini API key is set: the first review will fail" in text
    assert f"<code>GEMINI_API_KEY=&lt;your key&gt;</code> to {workdir / '.env'}" in page
    assert "restart Second Look" in text and "https://aistudio.google.com/apikey" in text
    assert "GEMINI_API_KEY" not in dotenv_values(workdir / ".env")


async def test_an_empty_gemini_field_keeps_the_key_already_set(
    aiohttp_client, fake_github, workdir
):
    env_file = workdir / ".env"
    env_file.write_text("GEMINI_API_KEY=the-key-in-dotenv\n")
    settings = read_settings({}, env_file)
    assert (settings.gemini_key_set, settings.gemini_key_in_environment) == (True, False)
    settings = replace(settings, github_api_url=fake_github.url or "", data_dir=workdir / "data")
    client = await aiohttp_client(
        create_setup_app(settings, dotenv=env_file, github_url="https://github.example")
    )
    form = html.unescape(await (await client.get("/")).text())
    assert "A key is in .env already: leave this empty to keep it" in form
    state = await start(client)
    code = fake_github.manifest_code("Second Look (t)")

    response = await client.get("/setup/callback", params={"code": code, "state": state})

    text = await response.text()
    assert "Reviews use the GEMINI_API_KEY already set." in text
    assert "first review will fail" not in text
    assert dotenv_values(env_file)["GEMINI_API_KEY"] == "the-key-in-dotenv"


def test_read_settings_says_where_the_gemini_key_is():
    assert not read_settings({}, dotenv=None).gemini_key_set
    given = read_settings({"GEMINI_API_KEY": "k"}, dotenv=None)
    assert (given.gemini_key_set, given.gemini_key_in_environment) == (True, True)
    blank = read_settings({"GEMINI_API_KEY": ""}, dotenv=None)
    assert (blank.gemini_key_set, blank.gemini_key_in_environment) == (False, True)


async def test_a_key_the_environment_overrides_is_said_so(aiohttp_client, fake_github, workdir):
    settings = SetupSettings(
        github_api_url=fake_github.url or "",
        data_dir=workdir / "data",
        gemini_key_set=True,
        gemini_key_in_environment=True,
    )
    client = await aiohttp_client(
        create_setup_app(settings, dotenv=workdir / ".env", github_url="https://github.example")
    )
    state = await start(client, gemini_api_key=GEMINI_KEY)
    code = fake_github.manifest_code("Second Look (t)")

    response = await client.get("/setup/callback", params={"code": code, "state": state})

    text = await response.text()
    assert "but GEMINI_API_KEY in this server&#x27;s environment wins over it" in text
    assert dotenv_values(workdir / ".env")["GEMINI_API_KEY"] == GEMINI_KEY


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},  # a problem: the form again, 400
        {"base_url": "http://127.0.0.1:8080"},  # a warning: the form again, 200
    ],
    ids=["problem", "warning"],
)
async def test_a_form_sent_back_never_holds_the_gemini_key(
    aiohttp_client, fake_github, workdir, fields, caplog
):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    data = {**FORM, "gemini_api_key": GEMINI_KEY, **fields}

    with caplog.at_level("DEBUG"):
        response = await client.post("/setup", data=data, headers=same_origin(client))

    text = await response.text()
    assert response.status == (400 if "name" in fields else 200)
    assert only_form(text)["fields"]["gemini_api_key"] == ""
    assert GEMINI_KEY not in text and GEMINI_KEY not in caplog.text
    assert "Enter the Gemini API key again" in text


async def test_a_gemini_key_on_several_lines_is_refused(aiohttp_client, fake_github, workdir):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    data = {**FORM, "gemini_api_key": "AIza\nGITHUB_APP_ID=1"}

    response = await client.post("/setup", data=data, headers=same_origin(client))

    assert response.status == 400
    assert "one line of printable characters" in await response.text()


@pytest.mark.parametrize(
    ("base_url", "words"),
    [
        ("http://127.0.0.1:8080", ["loopback address", "plain http://", "cloudflared tunnel"]),
        ("https://localhost:8443", ["is this machine", "cloudflared tunnel"]),
        ("https://[::1]", ["::1 is a loopback address"]),
        ("https://10.0.0.5", ["private-network address", "GitHub Enterprise Server"]),
        ("https://review.corp.internal", ["a name only a local network resolves"]),
        ("http://review.example.com", ["plain http://"]),
    ],
)
async def test_a_public_url_github_cannot_reach_is_warned_of_then_taken(
    aiohttp_client, fake_github, workdir, base_url, words
):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    data = {**FORM, "base_url": base_url}

    warned = await client.post("/setup", data=data, headers=same_origin(client))

    text = html.unescape(await warned.text())
    assert warned.status == 200
    for word in words:
        assert word in text
    assert 'role="alert"' in text
    assert "settings/apps/new" not in text  # nothing sent to GitHub yet
    again = only_form(text)
    assert again["fields"]["base_url"] == base_url
    assert again["fields"]["acknowledged"] == base_url
    assert "Create the GitHub App anyway" in text

    taken = await client.post("/setup", data=again["fields"], headers=same_origin(client))

    assert taken.status == 200
    _, _, spec = github_post(await taken.text())
    assert spec["hook_attributes"]["url"] == f"{base_url}/webhooks"  # a warning, not a refusal


async def test_a_warning_shown_for_one_url_does_not_let_another_through(
    aiohttp_client, fake_github, workdir
):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    data = {**FORM, "base_url": "http://192.168.1.9", "acknowledged": "http://127.0.0.1:8080"}

    response = await client.post("/setup", data=data, headers=same_origin(client))

    text = await response.text()
    assert "private-network address" in text
    assert only_form(text)["fields"]["acknowledged"] == "http://192.168.1.9"
    assert not fake_github.find_requests("POST", "/app-manifests/")


async def test_a_reachable_public_url_has_no_warning(aiohttp_client, fake_github, workdir):
    client = await aiohttp_client(setup_app(fake_github, workdir))

    form = await client.get(
        "/", headers={"Host": "review.example.com", "X-Forwarded-Proto": "https"}
    )

    text = await form.text()
    assert only_form(text)["fields"]["base_url"] == "https://review.example.com"
    assert "acknowledged" not in only_form(text)["fields"]
    assert 'class="warning"' not in text
    assert "Create the GitHub App on GitHub" in text


async def test_healthz_answers_setup_to_anyone(aiohttp_client, fake_github, workdir):
    app = setup_app(fake_github, workdir, access="the-key")
    app.middlewares.insert(0, from_afar())
    client = await aiohttp_client(app)

    response = await client.get("/healthz")

    assert response.status == 200
    body = await response.json()
    assert body["status"] == "setup"
    assert "no GitHub App is configured" in body["setup"]
    assert "the-key" not in await response.text()


async def test_callback_with_a_used_code_says_to_start_again(aiohttp_client, fake_github, workdir):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    code = fake_github.manifest_code()
    await manifest.convert(fake_github.url or "", code)

    response = await client.get(
        "/setup/callback", params={"code": code, "state": await start(client)}
    )

    assert response.status == 502
    text = await response.text()
    assert "404" in text and "Start again" in text
    assert not (workdir / ".env").exists()


async def test_fake_github_conversion_is_single_use_and_expires(fake_github):
    url = fake_github.url or ""
    code = fake_github.manifest_code("Second Look (x)")
    answer = await manifest.convert(url, code)
    assert {
        "id",
        "slug",
        "name",
        "html_url",
        "pem",
        "webhook_secret",
        "client_id",
        "client_secret",
        "owner",
    } <= answer.keys()
    assert answer["slug"] == "second-look-x"
    expired = fake_github.manifest_code(ttl=-1)
    for used in (code, expired, "unknown"):
        with pytest.raises(manifest.ConversionError, match="404 Not Found"):
            await manifest.convert(url, used)


def test_write_credentials_replaces_the_app_settings_and_keeps_the_rest(tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text(
        'GITHUB_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nold\n-----END RSA PRIVATE KEY-----"\n'
        "export GITHUB_WEBHOOK_SECRET=old\nDATABASE_URL=postgresql://x/y\nPORT=9000"
    )
    answer = {"id": 7, "slug": "../a b", "pem": "pem", "webhook_secret": "w #1 $HOME"}

    key, _ = manifest.write_credentials(answer, tmp_path / "data dir", env)

    assert key == tmp_path / "data dir" / "-a-b.private-key.pem"
    assert dotenv_values(env, interpolate=False) == {
        "DATABASE_URL": "postgresql://x/y",
        "PORT": "9000",
        "GITHUB_APP_ID": "7",
        "GITHUB_PRIVATE_KEY_PATH": str(key),
        "GITHUB_WEBHOOK_SECRET": "w #1 $HOME",
    }


# The whole first run, in a `serve` process.


def first_run_env(base_settings: Settings, port: int, **extra: str) -> dict[str, str]:
    env = {**app_env(base_settings), "HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": "data"}
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"):
        del env[name]
    env.update(extra)
    return env


def start_serve(cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot", "serve"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def read(log: Path) -> str:
    return log.read_text()


async def wait_for(
    log: Path, process: subprocess.Popen, text: str, timeout: float = 30, times: int = 1
) -> str:
    """The log once `text` is in it `times` times."""
    deadline = time.monotonic() + timeout
    while read(log).count(text) < times:
        assert process.poll() is None, read(log)
        assert time.monotonic() < deadline, f"no {text!r}: {read(log)}"
        await asyncio.sleep(0.05)
    return read(log)


async def register_on_the_page(
    http: aiohttp.ClientSession, page: str, url: str, fake_github, gemini_api_key: str = ""
) -> str:
    """What a person does on the setup page at `page` of the server at `url`: post its form
    (the public URL as offered, warnings and all), create the App on GitHub, and come back to
    the callback; the page that says it is registered."""
    async with http.get(page) as response:
        assert response.status == 200
        form = only_form(await response.text())
    assert form["fields"]["base_url"] == url
    fields = {**form["fields"], "gemini_api_key": gemini_api_key}
    posted = {"data": fields, "headers": {"Origin": url}}  # as a browser's
    async with http.post(url + form["action"], **posted) as response:
        target, query, spec = github_post(await response.text())
    assert target.startswith(f"{fake_github.url}/settings/apps/new?state=")
    assert spec["redirect_url"] == f"{url}/setup/callback"
    # What GitHub does once the App is created: redirect the browser with a code.
    code = fake_github.manifest_code(spec["name"], manifest=spec, webhook_secret=WEBHOOK_SECRET)
    callback = {"code": code, "state": query["state"]}
    async with http.get(url + "/setup/callback", params=callback) as response:
        assert response.status == 200, await response.text()
        registered = await response.text()
    assert "is registered" in registered
    return registered


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_first_run_registers_the_app_and_serves_it_on_the_same_port(
    settings: Settings, fake_github: FakeGitHub, tmp_path: Path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = first_run_env(settings, port, GITHUB_APP_ID=" ")  # blank: unset, as `serve` reads it
    del env["GEMINI_API_KEY"]  # to be entered on the setup page
    process = start_serve(tmp_path, env, log)
    try:
        text = await wait_for(log, process, "to register one")
        listening, announced = text.strip().splitlines()
        assert listening.endswith(f" INFO bot: listening on 127.0.0.1:{port}"), text
        found = re.search(
            rf"open (http://127\.0\.0\.1:{port}/\?access=([\w-]+)) in a browser", announced
        )
        assert found is not None, text
        assert " INFO " in announced
        access = found.group(2)
        assert not (tmp_path / "data" / "setup-access-key").exists(), "text logs say it"
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/healthz") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "setup"
            page = await register_on_the_page(
                http, found.group(1), url, fake_github, gemini_api_key="AIzaFirstRunKey-0123"
            )
            assert "The Gemini API key is in .env too." in page
            assert "AIzaFirstRunKey" not in page

            await wait_for(log, process, f"listening on 127.0.0.1:{port}", times=2)
            async with http.get(url + "/healthz") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            body, headers = delivery({"zen": "Design for failure.", "hook_id": 1}, event="ping")
            async with http.post(url + "/webhooks", data=body, headers=headers) as response:
                assert response.status in (200, 202), await response.text()
        assert process.poll() is None  # the same process all along
        env = dotenv_values(tmp_path / ".env")
        assert env["GITHUB_APP_ID"] == settings.github_app_id
        assert env["GITHUB_PRIVATE_KEY_PATH"] == "data/second-look-127-0-0-1.private-key.pem"
        assert stat.S_IMODE((tmp_path / env["GITHUB_PRIVATE_KEY_PATH"]).stat().st_mode) == 0o600
        assert env["GEMINI_API_KEY"] == "AIzaFirstRunKey-0123"
        assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    finally:
        stop(process)
    assert process.returncode == 0, read(log)
    assert "Traceback" not in read(log)
    assert "AIzaFirstRunKey" not in read(log)
    assert read(log).count(access) == 1, "logged once, and never after registration"


async def test_with_json_logs_the_access_key_is_in_a_file_never_in_the_log(
    settings: Settings, fake_github: FakeGitHub, tmp_path: Path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    key_file = tmp_path / "data" / "setup-access-key"
    env = first_run_env(settings, port, LOG_FORMAT="json")
    process = start_serve(tmp_path, env, log)
    try:
        listening, line = (await wait_for(log, process, "to register one")).strip().splitlines()
        assert json.loads(listening)["message"] == f"listening on 127.0.0.1:{port}"
        entry = json.loads(line)
        assert entry["level"] == "INFO"
        assert entry["message"] == (
            f"no GitHub App configured: open {url}/ in a browser to register one (from another "
            "machine, add ?access= and the key in data/setup-access-key)"
        )
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        access = key_file.read_text().strip()
        assert len(access) >= 20 and access not in read(log)
        async with aiohttp.ClientSession() as http:
            page = f"{url}/?access={access}"
            async with http.get(page) as response:
                assert only_form(await response.text())["fields"]["access"] == access
            await register_on_the_page(http, page, url, fake_github)
            await wait_for(log, process, "listening on", times=2)
        assert not key_file.exists(), "the key is gone once the App is registered"
    finally:
        stop(process)
    assert process.returncode == 0, read(log)
    assert access not in read(log)
    assert all(json.loads(line) for line in read(log).splitlines())


def one_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    "present",
    [
        {"GITHUB_WEBHOOK_SECRET": "x"},
        {"GITHUB_APP_ID": "4242"},
        {"GITHUB_PRIVATE_KEY_PATH": "missing.pem"},
    ],
    ids=lambda p: next(iter(p)),
)
def test_some_app_settings_are_a_configuration_error_not_a_first_run(
    base_settings: Settings, tmp_path: Path, present: dict[str, str]
):
    result = run_bot(tmp_path, first_run_env(base_settings, free_port(), **present), "serve")

    assert result.returncode == 2
    # The error load_settings gives (a line per missing setting after the first), no setup.
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("second-look: configuration error: ")
    assert "not set" in result.stderr or "cannot be read" in result.stderr
    assert "to register one" not in result.stderr


def test_first_run_with_another_malformed_setting_stops(base_settings: Settings, tmp_path: Path):
    env = first_run_env(base_settings, free_port(), GEMINI_RPM="many")

    result = run_bot(tmp_path, env, "serve")

    assert result.returncode == 2
    assert one_line(result) == (
        "second-look: configuration error: GEMINI_RPM must be a whole number, got 'many'"
    )


# `register`, for a host without a browser.


def register_env(base_settings: Settings, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **CHECKOUT, **extra}


@pytest.mark.parametrize("status", [404, 422])
def test_register_with_a_bad_code_is_one_line(
    base_settings: Settings, fake_github: FakeGitHub, tmp_path: Path, status: int
):
    if status == 422:
        fake_github.fail_next("POST", "/app-manifests/", 422, body={"message": "Validation Failed"})
    env = register_env(base_settings, GITHUB_API_URL=fake_github.url or "")

    result = run_bot(tmp_path, env, "register", "--code", "0123456789abcdef0123")

    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"second-look: GitHub did not accept the code ({status} ")
    assert not (tmp_path / ".env").exists()


def test_register_with_github_unreachable_is_one_line(base_settings: Settings, tmp_path: Path):
    api = f"http://127.0.0.1:{free_port()}"

    result = run_bot(
        tmp_path, register_env(base_settings, GITHUB_API_URL=api), "register", "--code", "abc"
    )

    assert result.returncode == 1
    assert one_line(result).startswith(f"second-look: cannot reach GitHub at {api}: ")
    port = api.rsplit(":", 1)[1]
    assert one_line(result).endswith(  # the type and the host, not aiohttp's OS error repr
        f": ClientConnectorError: cannot connect to 127.0.0.1:{port} (Connection refused)"
    )


def test_register_reads_github_api_url_from_dotenv(
    base_settings: Settings, fake_github: FakeGitHub, tmp_path: Path
):
    (tmp_path / ".env").write_text(f"GITHUB_API_URL={fake_github.url}\nDATA_DIR=keys\n")
    code = fake_github.manifest_code("Second Look (ci)")

    result = run_bot(tmp_path, register_env(base_settings), "register", "--code", code)

    assert result.returncode == 0, result.stderr
    assert "App second-look-ci (id 4242) registered" in result.stdout
    assert fake_github.find_requests("POST", f"/app-manifests/{code}/conversions")
    env = dotenv_values(tmp_path / ".env")
    assert env["GITHUB_API_URL"] == fake_github.url
    assert env["GITHUB_PRIVATE_KEY_PATH"] == "keys/second-look-ci.private-key.pem"
    settings = read_settings({}, tmp_path / ".env")
    assert settings.app_configured


def test_register_writes_a_page_with_a_state_a_name_and_a_homepage(
    base_settings: Settings, tmp_path: Path
):
    env = register_env(base_settings, GITHUB_API_URL="https://ghe.example/api/v3")

    result = run_bot(
        tmp_path,
        env,
        "register",
        "--webhook-url",
        "https://bot.example.com/webhooks",
        "--name",
        "Ours",
        "--org",
        "octo",
    )

    assert result.returncode == 0, result.stderr
    target, query, spec = github_post((tmp_path / ".data" / "register.html").read_text())
    assert target.startswith("https://ghe.example/organizations/octo/settings/apps/new?state=")
    assert query["state"] in result.stdout
    assert spec["name"] == "Ours"
    assert spec["url"] == "https://bot.example.com"
    assert spec["hook_attributes"]["url"] == "https://bot.example.com/webhooks"
    assert spec["redirect_url"] == "https://bot.example.com/setup/callback"


def test_register_warns_of_a_webhook_url_github_cannot_reach(base_settings: Settings, tmp_path):
    result = run_bot(
        tmp_path,
        register_env(base_settings, PORT="9000"),
        "register",
        "--webhook-url",
        "http://192.168.1.9:9000/webhooks",
    )

    assert result.returncode == 0, result.stderr  # a warning, not a refusal
    first, second = result.stderr.strip().splitlines()
    assert first.startswith(
        "second-look: warning: GitHub sends webhooks to http://192.168.1.9:9000/webhooks and "
        "cannot reach it: 192.168.1.9 is a private-network address"
    )
    assert "`cloudflared tunnel --url http://localhost:9000`" in first
    assert second.startswith("second-look: warning: It is plain http://")
    assert (tmp_path / ".data" / "register.html").exists()


def test_register_names_the_app_after_the_host_by_default(base_settings: Settings, tmp_path):
    result = run_bot(
        tmp_path,
        register_env(base_settings),
        "register",
        "--webhook-url",
        "https://bot.example.com/webhooks",
    )

    assert result.returncode == 0, result.stderr
    _, _, spec = github_post((tmp_path / ".data" / "register.html").read_text())
    assert spec["name"] == manifest.default_name()
    assert spec["name"].startswith("Second Look (")
    assert len(spec["name"]) <= manifest.NAME_LIMIT


def from_afar(remote: str = "203.0.113.9"):
    """A middleware that makes every request come from another host."""

    @web.middleware
    async def middleware(request, handler):
        return await handler(request.clone(remote=remote))

    return middleware


async def test_from_another_host_the_setup_page_needs_the_logged_access_key(
    aiohttp_client, fake_github, workdir
):
    app = setup_app(fake_github, workdir, access="the-key")
    app.middlewares.insert(0, from_afar())
    client = await aiohttp_client(app)

    refused = await client.get("/")
    wrong = await client.get("/", params={"access": "not-the-key"})
    posted = await client.post("/setup", data={"name": "x", "org": "", "base_url": "http://a"})
    allowed = await client.get("/", params={"access": "the-key"})

    assert (refused.status, wrong.status, posted.status) == (403, 403, 403)
    assert "access key" in await refused.text()
    assert allowed.status == 200
    assert only_form(await allowed.text())["fields"]["access"] == "the-key"


FORM = {"name": "Second Look (t)", "org": "", "base_url": "https://b.example"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # what a no-referrer page, a sandbox or a file sends
        {"Origin": "http://127.0.0.1"},  # another port of this host is another site
        {"Referer": "https://evil.example/setup.html"},
        {},  # neither: no browser posts a form so
        {"Origin": "https://evil.example", "Referer": "SAME/"},  # Origin wins
    ],
)
async def test_a_post_from_another_site_is_refused(aiohttp_client, fake_github, workdir, headers):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    own = same_origin(client)["Origin"]
    headers = {k: v.replace("SAME", own) for k, v in headers.items()}

    response = await client.post("/setup", data=FORM, headers=headers)

    text = html.unescape(await response.text())
    assert response.status == 403
    assert "this server's own address" in text or "without an Origin" in text
    assert "settings/apps/new" not in text  # no manifest, no state handed out
    assert "<script" not in text


async def test_a_post_from_this_servers_pages_passes(aiohttp_client, fake_github, workdir):
    client = await aiohttp_client(setup_app(fake_github, workdir))
    own = same_origin(client)["Origin"]

    by_referer = await client.post("/setup", data=FORM, headers={"Referer": f"{own}/?access=k"})
    assert by_referer.status == 200
    assert github_post(await by_referer.text())[1]["state"]

    # Behind a TLS proxy that says so, on the default port (which browsers leave out).
    proxied = {
        "Host": "review.example.com",
        "X-Forwarded-Proto": "https",
        "Origin": "https://review.example.com:443",
    }
    assert (await client.post("/setup", data=FORM, headers=proxied)).status == 200


async def test_the_form_page_keeps_its_origin_for_its_own_post(
    aiohttp_client, fake_github, workdir
):
    client = await aiohttp_client(setup_app(fake_github, workdir))

    form = await client.get("/")
    manifest_page = await client.post("/setup", data=FORM, headers=same_origin(client))

    # no-referrer would make the browser post the form with `Origin: null`.
    assert form.headers["Referrer-Policy"] == "same-origin"
    assert manifest_page.headers["Referrer-Policy"] == "no-referrer"  # it posts to GitHub


async def test_behind_a_trusted_proxy_an_outsider_needs_the_key(
    aiohttp_client, fake_github, workdir
):
    settings = SetupSettings(
        github_api_url=fake_github.url or "",
        data_dir=workdir / "data",
        trusted_proxies=(ipaddress.ip_network("127.0.0.1"),),
    )
    app = create_setup_app(
        settings, dotenv=workdir / ".env", github_url="https://github.example", access="the-key"
    )
    client = await aiohttp_client(app)
    outsider = {"X-Forwarded-For": "203.0.113.9"}

    assert (await client.get("/", headers=outsider)).status == 403
    assert (await client.get("/", headers={"X-Forwarded-For": "127.0.0.1"})).status == 200
    keyed = await client.post(
        "/setup", data={**FORM, "access": "the-key"}, headers={**outsider, **same_origin(client)}
    )
    assert keyed.status == 200


async def test_an_undeclared_proxy_on_this_host_is_not_this_host(
    aiohttp_client, fake_github, workdir
):
    client = await aiohttp_client(setup_app(fake_github, workdir, access="the-key"))

    proxied = await client.get("/", headers={"X-Forwarded-For": "127.0.0.1"})

    assert proxied.status == 403 and "access key" in await proxied.text()


def test_read_settings_reads_trusted_proxies(tmp_path: Path):
    read = read_settings({"TRUSTED_PROXIES": "10.0.0.0/8"}, dotenv=None)
    assert read.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)
