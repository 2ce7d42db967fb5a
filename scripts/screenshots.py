"""Screenshots of every page and key state, light and dark, in each language (`scripts/screenshots`).

One server (the production build on one port, the embedded sandbox, a throwaway SQLite
database) and one Chromium. Each state is reached once per language, as a person would
(codes read from the sandbox outbox), then shot in both themes (emulated
`prefers-color-scheme`) at desktop size, and in English at 390 px too. Files are named
`<state>-<lang>-<theme>[-mobile].png`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from harness import PUMPING_OFF, free_port, migrate, stop, wait_until_up  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LANGUAGES = {"en": "en-US", "es": "es-ES", "ar": "ar"}
THEMES = ("light", "dark")
DESKTOP = {"width": 1280, "height": 860}
MOBILE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple quietly"  # noqa: S105 - the demo accounts' password


@contextmanager
def app_server() -> Iterator[str]:
    """The app as a deployer runs it, on a free port, with a database of its own."""
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{work / 'shots.db'}",
        "OTP_PROVIDER": "sandbox",
        "RATE_LIMIT_SEND_PER_IP": "1000/hour",
        "RATE_LIMIT_SEND_PER_PREFIX": "1000/hour",
        "RATE_LIMIT_VERIFY_PER_IP": "1000/hour",
        "RATE_LIMIT_LOGIN_PER_IP": "1000/hour",
        **PUMPING_OFF,  # one range gets many codes nobody enters
    }
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_BASE_URL"):
        env.pop(name, None)
    migrate(ROOT, env)
    log = work / "reflex.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own reflex, fixed arguments
            [
                str(ROOT / ".venv/bin/reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--backend-port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up([f"{url}/api/health", url], [process], log, 900)
        yield url
    finally:
        stop([process])


class Shooter:
    """Reaches each state in one page and writes its PNGs."""

    def __init__(self, page: Page, url: str, lang: str, out: Path, mobile: bool, numbers: Iterator[int]):
        self.page, self.url, self.lang, self.out, self.mobile, self.numbers = (
            page,
            url,
            lang,
            out,
            mobile,
            numbers,
        )
        self.written: list[Path] = []

    def shoot(self, state: str) -> None:
        """The page as it is now, in both themes (and at 390 px where asked)."""
        sizes = [("", DESKTOP)] + ([("-mobile", MOBILE)] if self.mobile else [])
        self.page.mouse.move(0, 0)  # no button shown hovered
        for suffix, size in sizes:
            self.page.set_viewport_size(size)
            self.page.evaluate("() => window.scrollTo(0, 0)")
            for theme in THEMES:
                self.page.emulate_media(color_scheme=theme)
                path = self.out / f"{state}-{self.lang}-{theme}{suffix}.png"
                self.page.screenshot(path=path, full_page=True, animations="disabled")
                self.written.append(path)
        self.page.set_viewport_size(DESKTOP)

    def open(self, path: str, ready: str) -> None:
        self.page.goto(f"{self.url}{path}")
        self.page.wait_for_selector(ready)
        self.page.wait_for_function("() => !document.querySelector('button[type=submit]')?.disabled")

    def outbox(self, e164: str) -> list[dict[str, str]]:
        return httpx.get(f"{self.url}/sandbox/messages", params={"recipient": e164}).json()["messages"]

    def sent(self, e164: str) -> int:
        return len(self.outbox(e164))

    def code(self, e164: str) -> str:
        return next(m["code"] for m in self.outbox(e164) if m["code"])

    def number(self) -> tuple[str, str]:
        n = next(self.numbers)
        return f"(415) 555-{n:04d}", f"+1415555{n:04d}"

    def verify(self) -> None:
        self.open("/", "#phone")
        self.shoot("verify")
        typed, e164 = self.number()
        self.page.select_option("#country", "US")  # the picker starts at the browser's region
        self.page.fill("#phone", typed)
        self.page.click("#send-otp")
        expect(self.page.locator("#otp")).to_be_visible()
        self.shoot("verify-code")
        self.page.fill("#otp", "000000" if self.code(e164) != "000000" else "111111")
        expect(self.page.locator("#error")).to_be_visible()
        self.shoot("verify-wrong-code")
        self.page.fill("#otp", self.code(e164))
        expect(self.page.locator("#verified")).to_be_visible()
        self.shoot("verified")

    def account(self) -> None:
        self.open("/login", "#login-submit")
        self.shoot("login")
        self.open("/signup", "#signup-submit")
        self.shoot("signup")
        typed, e164 = self.number()
        username = f"ada-{secrets.token_hex(3)}"
        self.page.fill("#username", username)
        self.page.fill("#email", f"{username}@example.com")
        self.page.fill("#password", PASSWORD)
        self.page.select_option("#country", "US")  # the picker starts at the browser's region
        self.page.fill("#phone", typed)
        self.page.click("#signup-submit")
        expect(self.page.locator("#otp")).to_be_visible()
        self.shoot("signup-code")
        self.page.fill("#otp", self.code(e164))
        expect(self.page.locator("#account-username")).to_have_text(username)
        self.shoot("account")
        self._confirm("#enable-2fa", None, e164)
        self.page.click("#code-done")
        self._confirm("#generate-backup-codes", "#confirm-backup-codes", e164)
        expect(self.page.locator("#backup-codes")).to_be_visible()
        self.shoot("account-backup-codes")
        self.page.click("#hide-backup-codes")
        self.page.click("#logout")
        expect(self.page.locator("#login-submit")).to_be_visible()
        self.page.wait_for_function("() => !document.querySelector('#login-submit')?.disabled")
        self.shoot("signed-out")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-submit")
        expect(self.page.locator("#otp")).to_be_visible()
        self.shoot("login-code")

    def _confirm(self, opener: str, submit: str | None, e164: str) -> None:
        """An account action that asks for the password (where `submit`), then a code."""
        before = self.sent(e164)
        self.page.click(opener)
        if submit:
            self.page.fill("#password", PASSWORD)
            self.page.click(submit)
        expect(self.page.locator("#otp")).to_be_visible()
        for _ in range(100):
            if self.sent(e164) > before:
                break
            time.sleep(0.1)
        self.page.fill("#otp", self.code(e164))
        expect(self.page.locator("#message")).to_be_visible()

    def others(self) -> None:
        self.page.goto(f"{self.url}/sandbox")
        self.page.wait_for_selector("#outbox tbody tr")
        self.shoot("sandbox")
        self.page.goto(f"{self.url}/no-such-page")
        self.page.wait_for_selector("#home-link")
        self.shoot("not-found")


def run(url: str, out: Path, languages: list[str], mobile: bool, first_number: int) -> list[Path]:
    """Every state in every language; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    numbers = itertools.count(first_number)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for lang in languages:
                context = browser.new_context(
                    locale=LANGUAGES[lang],
                    viewport=DESKTOP,
                    extra_http_headers={"Accept-Language": LANGUAGES[lang]},
                )
                page = context.new_page()
                page.set_default_timeout(20_000)
                shooter = Shooter(page, url, lang, out, mobile and lang == "en", numbers)
                steps: list[Callable[[], None]] = [shooter.verify, shooter.account, shooter.others]
                for step in steps:
                    step()
                written += shooter.written
                context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (sandbox mode) instead of starting one")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--langs", default=",".join(LANGUAGES), help="comma-separated: en,es,ar")
    parser.add_argument("--no-mobile", action="store_true", help="skip the 390 px shots")
    parser.add_argument(
        "--first-number", type=int, default=100, help="last 4 digits of the first +1 415 555 number"
    )
    args = parser.parse_args()
    languages = [lang for lang in args.langs.split(",") if lang]
    unknown = set(languages) - set(LANGUAGES)
    if unknown:
        parser.error(f"unknown languages: {', '.join(sorted(unknown))}")
    if args.url:
        written = run(args.url, args.out, languages, not args.no_mobile, args.first_number)
    else:
        with app_server() as url:
            written = run(url, args.out, languages, not args.no_mobile, args.first_number)
    print(f"{len(written)} screenshots in {args.out}")  # noqa: T201 - a command-line tool


if __name__ == "__main__":
    main()
