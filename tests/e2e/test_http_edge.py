"""The security headers of the built app (`reflex run --env prod --single-port` on a random port).

On every kind of response over HTTP, and in the browser: the page runs under its
Content-Security-Policy with no violation and no `eval`, and another origin
cannot frame it. The server trusts X-Forwarded-* only from 127.0.0.2 (conftest);
the browser and the plain clients here come from 127.0.0.1, as a client on the
internet reaching the app port directly would.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from conftest import PROXY_ADDRESS
from harness import free_port
from playwright.sync_api import Page, expect
from test_account_flows import _fresh_user, _sign_up

INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)
#: Collects CSP violations from the first script on, across client-side navigations.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""

TRY_EVAL = """() => setTimeout(() => {
  try { window.__eval = String(eval('1 + 1')); } catch (e) { window.__eval = e.name; }
}, 0)"""


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _policy(response: httpx.Response) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def _assert_common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert _policy(response)["frame-ancestors"] == "'none'"
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/", "/signup", "/login", "/account", "/sandbox", "/no-such-page"])
def test_every_page_carries_a_policy_for_exactly_its_inline_scripts(app_url, path):
    response = httpx.get(app_url + path, headers={"Accept-Encoding": "gzip, br"}, follow_redirects=True)
    assert response.headers["content-type"].startswith("text/html")
    _assert_common(response)
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = _policy(response)
    inline = [body for attributes, body in INLINE_SCRIPT.findall(response.text) if " src=" not in attributes]
    assert inline, "React Router prerenders inline scripts into every page"
    assert policy["script-src"].split() == ["'self'", *dict.fromkeys(_sha256(script) for script in inline)]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    own = app_url.replace("http://", "")
    assert policy["connect-src"].split()[:3] == ["'self'", f"http://{own}", f"ws://{own}"]


@pytest.mark.parametrize(
    "path",
    ["/api/health", "/api/otp/send", "/api/session/logout?next=/login", "/sandbox/messages", "/favicon.ico"],
)
def test_api_cookie_routes_and_assets_carry_the_headers(app_url, path):
    response = httpx.get(app_url + path)
    _assert_common(response)
    assert _policy(response)["default-src"] == "'none'"
    expected = "no-referrer" if path.startswith("/api/session") else "strict-origin-when-cross-origin"
    assert response.headers["referrer-policy"] == expected


def test_hsts_only_under_https_from_the_trusted_proxy(app_url):
    direct = httpx.get(app_url + "/login", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in direct.headers
    proxy = httpx.Client(transport=httpx.HTTPTransport(local_address=PROXY_ADDRESS))
    with proxy:
        proxied = proxy.get(app_url + "/login", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


def test_the_page_runs_under_its_policy_without_violations_and_eval_is_blocked(page: Page, app_url, problems):
    page.add_init_script(WATCH_VIOLATIONS)
    for path in ("/", "/signup", "/login", "/sandbox"):
        page.goto(app_url + path)
        page.wait_for_function(
            "() => document.querySelector('button') && !document.querySelector('button').disabled"
        )
        assert page.evaluate("() => window.__violations") == [], path
    page.goto(app_url)
    page.wait_for_function("() => !document.querySelector('#send-otp')?.disabled")
    page.fill("#phone", "4155552671")
    page.click("#send-otp")
    page.wait_for_selector("#otp")
    # DevTools' own evaluation may eval; a task of the page's may not, as the app's code would not.
    page.evaluate(TRY_EVAL)
    assert page.wait_for_function("() => window.__eval").json_value() == "EvalError"
    violations = page.evaluate("() => window.__violations")
    assert len(violations) == 1 and violations[0].startswith("script-src")  # the eval just tried
    problems.clear()  # Chromium logs the refused eval as a console error


@pytest.fixture
def other_site() -> Iterator[tuple[str, dict[str, str]]]:
    """A page server on another port of the same host: same site, another origin; pages by path."""
    pages: dict[str, str] = {"/": "<h1>attacker</h1>"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])  # same site on another port; another site
@pytest.mark.parametrize("path", ["/login", "/account"])
def test_another_origin_cannot_frame_the_app(page: Page, app_url, other_site, path, host):
    """An invisible iframe on another origin: the app's page is not in it."""
    site, pages = other_site
    site = site.replace("127.0.0.1", host)
    pages["/frame"] = (
        f'<iframe id="own" src="/"></iframe><iframe id="app" src="{app_url}{path}" style="opacity:0">'
    )
    page.goto(site + "/frame")  # waits for the frames' load events
    assert page.frame_locator("#own").locator("h1").inner_text() == "attacker"  # a frame that may load does
    framed = page.locator("#app").element_handle().content_frame()
    assert framed is not None and not framed.url.startswith(app_url)  # Chromium's error page instead
    assert framed.locator("form, button, input").count() == 0


def test_a_same_site_page_cannot_frame_the_signed_in_account(page: Page, app_url, other_site):
    """The attack as reported: another port of the same host frames /account with the session cookie."""
    _sign_up(page, app_url, *_fresh_user())
    expect(page.locator("#sign-out-everywhere")).to_be_visible()  # signed in, in this browser
    site, pages = other_site
    pages["/frame"] = f'<iframe id="app" src="{app_url}/account" style="opacity:0"></iframe>'
    page.goto(site + "/frame")
    framed = page.locator("#app").element_handle().content_frame()
    assert framed is not None and not framed.url.startswith(app_url)
    assert framed.locator("#sign-out-everywhere").count() == 0


def test_a_full_page_move_runs_once(page: Page, app_url, problems):
    """The refresh <meta> that replaced `rx.call_script` is not rendered again by the page it led to."""
    _sign_up(page, app_url, *_fresh_user())  # moved through /api/session/complete to /account
    for _ in range(2):
        page.wait_for_function("() => !document.querySelector('#sign-out-everywhere')?.disabled")
        assert page.locator("#leave-page").count() == 0
        assert page.url.rstrip("/").endswith("/account")
        page.reload()
