"""Browser benchmark of the phone-verification page, against an app that is already running.

Start the app yourself (sandbox provider, its defaults), e.g.::

    source scripts/env.sh
    OTP_PROVIDER=sandbox reflex run --env prod --single-port --backend-port 8300

then, from the project root::

    .venv/bin/python bench/browser.py --url http://127.0.0.1:8300 --runs 5

The page's origin must be allowed to open the state websocket: rxconfig.py allows only
localhost/127.0.0.1 on ports 3000 and 8000, so on any other port start the app with e.g.
`REFLEX_CORS_ALLOWED_ORIGINS=http://127.0.0.1:8300` (comma-separated), or the form never
hydrates (the script then stops with an error saying so). Each run sends one code, and the
app allows 10 sends per hour per client IP and per number block (`+1415555`) by default: for
more than ~8 runs an hour also set `RATE_LIMIT_SEND_PER_IP=1000/hour
RATE_LIMIT_SEND_PER_PREFIX=1000/hour` in its environment.

It drives Debian's Chromium (`/usr/bin/chromium`, headless) through the sync Playwright
API: one browser, and a fresh context (empty cache, cookies and storage) for every page
load, so every run is a cold load. It prints one JSON object on stdout:

- `interactive_ms`: median wall-clock time (`time.perf_counter()`) from the start of
  `page.goto(url)` until the phone form is usable: `#send-otp` exists and is not disabled.
  That button stays disabled until Reflex has hydrated (`rx.State.is_hydrated`), i.e. the
  JS has loaded, the websocket is up and the page's `on_load` events have run.
- `interactive_page_ms`: the same moment as the page saw it, `performance.now()`
  (milliseconds since `performance.timeOrigin`, the start of the navigation).
- `dom_content_loaded_ms`, `load_ms`: medians of `domContentLoadedEventEnd` and
  `loadEventEnd` from the Navigation Timing API (also relative to `timeOrigin`).
- `verify_ms`: median time from clicking `#verify-otp` (the right code typed in `#otp`)
  until `#verified` is visible: one websocket round trip through `VerifyState.verify_code`
  and the embedded sandbox's validation. Each run first types a distinct valid US mobile
  number (`+1 415 555 XXXX`, random XXXX in 2000-9999), clicks `#send-otp`, waits for
  `#otp` and reads the code from `GET {url}/sandbox/messages?recipient=<E.164>`.
- `js_files`, `js_bytes_raw`, `js_bytes_gzip`: for one extra cold load of `/` (done first,
  so it also warms the server up), every response whose resource type is "script": how
  many, the sum of their decoded bodies, and the sum of each body gzipped at level 9 (an
  estimate of what goes over the wire with compression). `js_largest` lists the 5 largest
  by raw size (URL path, raw and gzip bytes).
- `runs`, `url`: echoed back; `samples` holds every run's figures behind the medians.

Every wait times out after 30 s. On any failure it prints `{"error": ...}` and exits 1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
LARGEST = 5

FORM_READY = """() => {
    const b = document.querySelector('#send-otp');
    return b && !b.disabled ? performance.now() : false;
}"""
LOADED = """() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n && n.loadEventEnd > 0;
}"""
NAV_TIMING = """() => {
    const n = performance.getEntriesByType('navigation')[0];
    return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd};
}"""


class BenchError(Exception):
    """A step did not give what the benchmark needs."""


class _Tab:
    """A page in its own fresh context, noting whether the app refused its state websocket."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.url = url
        self.context: BrowserContext = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.set_default_navigation_timeout(TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.refused = False
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "WebSocket" in message.text and "403" in message.text:
            self.refused = True

    def _refusal(self) -> BenchError:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.url))
        return BenchError(
            f"the app refused the state websocket (403): {origin} is not in its cors_allowed_origins "
            "(by default rxconfig.py allows only localhost/127.0.0.1 on ports 3000 and 8000); "
            f"start the app with REFLEX_CORS_ALLOWED_ORIGINS={origin} or use one of those ports"
        )

    def wait_interactive(self, fail_fast: bool = False) -> float:
        """Wait until `#send-otp` is enabled; return `performance.now()` at that moment.

        With `fail_fast` (untimed loads) it waits in slices and stops as soon as the
        websocket is refused; timed loads use one uninterrupted wait.
        """
        deadline = time.perf_counter() + TIMEOUT_MS / 1000
        while True:
            left = max((deadline - time.perf_counter()) * 1000, 1)
            try:
                handle = self.page.wait_for_function(
                    FORM_READY, timeout=min(left, 500) if fail_fast else left
                )
                return float(handle.json_value())
            except PlaywrightTimeoutError:
                if self.refused:
                    raise self._refusal() from None
                if not fail_fast or time.perf_counter() >= deadline:
                    raise

    def close(self) -> None:
        self.context.close()


def _fail_on_error_line(page: Page, step: str) -> None:
    error = page.locator("#error")
    if error.count() and error.first.is_visible():
        raise BenchError(f"{step}: the app said {error.first.inner_text()!r}")


def measure_js(browser: Browser, url: str) -> dict[str, Any]:
    """Cold-load `/` and weigh every script response."""
    tab = _Tab(browser, url)
    page = tab.page
    try:
        scripts: list[Response] = []
        page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None)
        page.goto(url + "/", wait_until="load")
        tab.wait_interactive(fail_fast=True)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        files = []
        for response in scripts:
            if not response.ok:
                raise BenchError(f"script {response.url} answered {response.status}")
            body = response.body()
            files.append((urlsplit(response.url).path, len(body), len(gzip.compress(body, 9))))
    finally:
        tab.close()
    if not files:
        raise BenchError("no script responses seen on a cold load of /")
    files.sort(key=lambda f: f[1], reverse=True)
    return {
        "js_files": len(files),
        "js_bytes_raw": sum(f[1] for f in files),
        "js_bytes_gzip": sum(f[2] for f in files),
        "js_largest": [{"path": p, "raw": raw, "gzip": gz} for p, raw, gz in files[:LARGEST]],
    }


def _code_for(page: Page, url: str, e164: str) -> str:
    """The newest code the sandbox outbox holds for `e164` (polled until there is one)."""
    deadline = time.perf_counter() + TIMEOUT_MS / 1000
    while True:
        response = page.request.get(f"{url}/sandbox/messages", params={"recipient": e164}, timeout=TIMEOUT_MS)
        if not response.ok:
            raise BenchError(f"GET /sandbox/messages answered {response.status}")
        codes = [m.get("code") for m in response.json().get("messages", []) if m.get("code")]
        if codes:
            return str(codes[0])
        if time.perf_counter() > deadline:
            raise BenchError(f"no code in the sandbox outbox for {e164}")
        time.sleep(0.05)


def one_run(browser: Browser, url: str, outbox: str, suffix: int) -> dict[str, float]:
    """Cold-load `/`, time it until the form is usable, then verify one number."""
    tab = _Tab(browser, url)
    page = tab.page
    try:
        start = time.perf_counter()
        page.goto(url + "/", wait_until="commit")
        ready_in_page = tab.wait_interactive()
        interactive = (time.perf_counter() - start) * 1000
        page.wait_for_function(LOADED, timeout=TIMEOUT_MS)
        timing = page.evaluate(NAV_TIMING)

        e164 = f"+1415555{suffix:04d}"
        page.fill("#phone", f"+1 415 555 {suffix:04d}")
        page.click("#send-otp")
        page.wait_for_selector("#otp, #error", state="visible", timeout=TIMEOUT_MS)
        _fail_on_error_line(page, f"sending a code to {e164}")
        page.fill("#otp", _code_for(page, outbox, e164))

        start = time.perf_counter()
        page.click("#verify-otp")
        page.wait_for_selector("#verified, #error", state="visible", timeout=TIMEOUT_MS)
        verify = (time.perf_counter() - start) * 1000
        _fail_on_error_line(page, f"verifying {e164}")
    finally:
        tab.close()
    return {
        "interactive_ms": interactive,
        "interactive_page_ms": ready_in_page,
        "dom_content_loaded_ms": float(timing["dom_content_loaded_ms"]),
        "load_ms": float(timing["load_ms"]),
        "verify_ms": verify,
    }


def bench(url: str, runs: int, outbox: str) -> dict[str, Any]:
    """Everything, with one browser that is always closed."""
    suffixes = random.sample(range(2000, 10000), runs)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            js = measure_js(browser, url)
            samples = [one_run(browser, url, outbox, suffix) for suffix in suffixes]
        finally:
            browser.close()
    keys = ("interactive_ms", "interactive_page_ms", "dom_content_loaded_ms", "load_ms", "verify_ms")
    per_key = {k: [round(s[k], 1) for s in samples] for k in keys}
    return {
        "url": url,
        "runs": runs,
        **{k: round(statistics.median(v), 1) for k, v in per_key.items()},
        **js,
        "samples": per_key,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="base URL of the running app, e.g. http://127.0.0.1:8300"
    )
    parser.add_argument("--runs", type=int, default=5, help="cold loads + verifications to time (default 5)")
    parser.add_argument(
        "--sandbox", help="base URL of the outbox when the sandbox runs alone (default: --url)"
    )
    args = parser.parse_args()
    url = args.url.rstrip("/")
    outbox = (args.sandbox or url).rstrip("/")
    if not 1 <= args.runs <= 8000:
        print(json.dumps({"error": "--runs must be 1-8000", "url": url, "runs": args.runs}))
        return 1
    try:
        result = bench(url, args.runs, outbox)
    except Exception as exc:  # noqa: BLE001 - every failure becomes the JSON error object
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "url": url, "runs": args.runs}))
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
