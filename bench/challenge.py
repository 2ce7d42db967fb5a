"""What the proof-of-work challenge costs: the client's solve at the settings' difficulty (in
Chromium, by the page's own web component, and in Python), and the server's issue and redeem.

Browser: Debian's Chromium (headless) loads a page with the installed `altcha` widget (from
`.web/node_modules`, built by the browser tests or `reflex export`), served on a loopback port;
for each fresh challenge it times, with `performance.now()`, from setting the challenge until
the widget's `verified` event. The widget's own floor (`minDuration`, 500 ms, which the app
keeps so "Checking your browser…" does not flash) is set to 0 here: the figure is the work.
Python: `altcha.solve_challenge` on one core (what an API client or a bot pays). Server: p50 of
`Challenges.issue` and of `Challenges.redeem` (checking an answer and taking it) on SQLite.

Prints one JSON object. `python bench/challenge.py [--runs 20] [--cost 1000] [--max-number 1000]`
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import altcha
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harness import free_port, migrate  # noqa: E402

from plivo_otp_app.challenge import Challenges  # noqa: E402
from plivo_otp_app.config import ChallengeSettings, Settings  # noqa: E402

WIDGET = ROOT / ".web" / "node_modules" / "altcha" / "dist" / "main" / "altcha.js"
CHROMIUM = "/usr/bin/chromium"
PAGE = """<!doctype html><meta charset="utf-8"><title>solve</title>
<script type="module" src="/altcha.js"></script><body></body>"""
#: Runs in the bench's page: one widget per challenge, its solve timed to its `verified` event.
SOLVE = """async (challenge) => {
  await customElements.whenDefined("altcha-widget");
  const widget = document.createElement("altcha-widget");
  widget.setAttribute("auto", "onload");
  widget.setAttribute("display", "invisible");
  widget.setAttribute("configuration", JSON.stringify({minDuration: 0}));
  const done = new Promise((resolve) => widget.addEventListener("verified", (e) => resolve(e.detail.payload)));
  const started = performance.now();
  widget.setAttribute("challenge", challenge);
  document.body.appendChild(widget);
  const payload = await done;
  const ms = performance.now() - started;
  widget.remove();
  return [ms, payload];
}"""


def _settings(cost: int, max_number: int) -> Settings:
    return dataclasses.replace(
        Settings(), challenge=dataclasses.replace(ChallengeSettings(), cost=cost, max_number=max_number)
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Nothing on stderr."""


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def browser(challenges: Challenges, runs: int) -> dict[str, object]:
    """Median and p90 solve of `runs` fresh challenges in Chromium; each answer redeemed (so checked)."""
    if not WIDGET.exists():
        return {"error": f"{WIDGET} is missing: build the frontend first (the browser tests do)"}
    with tempfile.TemporaryDirectory() as site:
        (Path(site) / "index.html").write_text(PAGE)
        (Path(site) / "altcha.js").write_bytes(WIDGET.read_bytes())
        server, url = _serve(Path(site))
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = chromium.new_page()
                page.goto(url)
                workers = page.evaluate("navigator.hardwareConcurrency")
                samples, right = [], 0
                for run in range(runs + 1):
                    issued = challenges.issue(datetime.now(UTC))
                    ms, payload = page.evaluate(SOLVE, json.dumps(issued["challenge"]))
                    right += challenges.redeem(payload, datetime.now(UTC))
                    if run:  # the first one warms the workers up
                        samples.append(ms)
                chromium.close()
        finally:
            server.shutdown()
    return {
        "solve_p50_ms": round(statistics.median(samples), 1),
        "solve_p90_ms": round(statistics.quantiles(samples, n=10)[-1], 1),
        "solve_max_ms": round(max(samples), 1),
        "workers": workers,
        "answers_accepted": f"{right} of {runs + 1}",
    }


def python(challenges: Challenges, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        challenge = altcha.Challenge.from_dict(challenges.issue(datetime.now(UTC))["challenge"])
        started = time.perf_counter()
        altcha.solve_challenge(challenge)
        samples.append(time.perf_counter() - started)
    return {"solve_p50_ms": round(statistics.median(samples) * 1e3, 1)}


def server(challenges: Challenges, runs: int) -> dict[str, float]:
    issue, redeem = [], []
    for _ in range(runs):
        started = time.perf_counter()
        issued = challenges.issue(datetime.now(UTC))
        issue.append(time.perf_counter() - started)
        challenge = altcha.Challenge.from_dict(issued["challenge"])
        answer = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
        started = time.perf_counter()
        assert challenges.redeem(answer, datetime.now(UTC))
        redeem.append(time.perf_counter() - started)
    return {
        "issue_p50_us": round(statistics.median(issue) * 1e6, 1),
        "redeem_p50_us": round(statistics.median(redeem) * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cost", type=int, default=ChallengeSettings().cost)
    parser.add_argument("--max-number", type=int, default=ChallengeSettings().max_number)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        migrate(ROOT, {**os.environ, "REFLEX_DB_URL": url})
        challenges = Challenges(_settings(args.cost, args.max_number), url)
        results = {
            "cost": args.cost,
            "max_number": args.max_number,
            "browser": browser(challenges, args.runs),
            "python": python(challenges, args.runs),
            "server": server(challenges, args.runs),
        }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
