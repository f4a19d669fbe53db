"""Time a run from the dashboard as a planner sees it: click, first KPI table, all replications.

Starts `promosim dashboard` on a free port, opens it in headless Chromium (Debian's, as the
tests use), changes the member coupon's depth, clicks run and times, from the click, the first
KPI table (one replication) and the status that says every replication is done (CIs and
charts on the page). The server's warm-up run at start is waited for first, so this is the
warm figure of issue 19's acceptance. Prints JSON.

    python benchmarks/bench_dashboard.py [--shoppers 200000] [--reps 3] [--depth 25]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PROMOSIM_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 300.0) -> None:
    """Until the server answers (its first start may fetch the page's front-end files)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the dashboard did not answer at {url} within {timeout:.0f} s")


def time_run(url: str, reps: int, depth: str) -> dict:
    """Seconds from the click to the first KPI table and to all replications done."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text("promosim dashboard:").wait_for(timeout=120_000)
        time.sleep(8)  # the server's warm-up run at start
        field = page.get_by_label("member_coupon: amount_off")
        field.fill(depth)
        field.press("Enter")
        time.sleep(3)  # validation of the edit
        status = page.locator(".run-status")
        before = status.inner_text() if status.count() else ""
        t0 = time.monotonic()
        page.get_by_role("button", name="run").click()
        first = None
        while True:
            now = status.inner_text() if status.count() else ""
            changed = now.split(",")[0] != before.split(",")[0]
            if first is None and changed and page.locator("table.kpis").count():
                first = time.monotonic() - t0
            if changed and f"{reps} of {reps} replications," in now:
                break
            time.sleep(0.1)
        done = time.monotonic() - t0
        browser.close()
    return {"first_kpi_table_s": round(first, 2), "all_replications_s": round(done, 2)}


def main() -> None:
    """Start the dashboard, time one run, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shoppers", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--depth", default="25", help="the member coupon's new amount off")
    args = ap.parse_args()
    port = free_port()
    cmd = [sys.executable, "-m", "simulator.cli", "dashboard", "--port", str(port)]
    cmd += ["--shoppers", str(args.shoppers), "--reps", str(args.reps)]
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        result = time_run(url, args.reps, args.depth)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps({"shoppers": args.shoppers, "reps": args.reps, **result}))


if __name__ == "__main__":
    main()
