"""`promosim dashboard`: the edited scenario, its validation, the run cache, and the page itself.

The unit tests need no browser. The browser test starts the server in a subprocess on a free
port and drives it in the system's headless Chromium (skipped without one, unless
PROMOSIM_BROWSER_TESTS=1 as in CI): load, change the member coupon's depth, run, and check the
KPI table changed and equals `promosim run`'s kpis.json of the downloaded edited scenario.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import CHROMIUM, system_chromium

from simulator.analysis.kpis import HEADLINE
from simulator.cli import main
from simulator.dashboard import assets, views
from simulator.dashboard import runner as runner_module
from simulator.dashboard.downloads import report_html
from simulator.dashboard.runner import Runner, run_key
from simulator.dashboard.state import Edited, FormField, form_fields, parse_text, text_of
from simulator.errors import UserError
from simulator.formatting import table_number
from simulator.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
D11 = ROOT / "scenarios" / "double11_2021.yaml"
DEPTH = "benefits.member_coupon.offer.amount_off"
SMALL = 20_000


@pytest.fixture(scope="module")
def d11():
    return Edited.open(D11)


def field(ed: Edited, path: str) -> FormField:
    return next(f for section in form_fields(ed.data).values() for f in section if f.path == path)


def test_form_offers_depth_threshold_validity_touches_and_channels(d11):
    paths = {f.path for section in form_fields(d11.data).values() for f in section}
    assert {DEPTH, "benefits.member_coupon.offer.min_spend"} <= paths
    assert "benefits.member_coupon.online.phases" in paths
    assert {"plan.coupon_sms.audience", "plan.coupon_sms.channel"} <= paths
    assert {"plan.coupon_sms.when.dates", "plan.coupon_sms.budget"} <= paths
    assert {"channels.sms.cost_per_contact", "channels.sms.daily_capacity"} <= paths
    assert "benefits.lockin_gift.offer.gift_value" not in paths  # no depth to move
    assert text_of(d11.data, field(d11, DEPTH)) == "20"
    assert text_of(d11.data, field(d11, "plan.coupon_sms.when.dates")).startswith("2021-10-31, ")


def test_a_bad_value_shows_the_cli_message_at_its_field(d11, tmp_path, capsys):
    bad = d11.with_value(DEPTH, parse_text(field(d11, DEPTH), "-5"))
    assert bad.scenario is None
    at_field = bad.problem_at(DEPTH)
    assert "greater than or equal to 0" in at_field
    assert bad.problem_at("benefits.member_coupon.offer.min_spend") == ""
    # the same words `promosim validate` prints for the downloaded file
    path = tmp_path / "bad.yaml"
    path.write_text(bad.yaml_text())
    assert main(["validate", str(path)]) == 2
    assert at_field.split(": ", 1)[1] in capsys.readouterr().err
    text = d11.with_value(DEPTH, parse_text(field(d11, DEPTH), "abc"))
    assert "valid number" in text.problem_at(DEPTH)
    with pytest.raises(UserError):
        parse_text(field(d11, DEPTH), "[1,")


def test_edits_download_as_yaml_that_loads_into_the_same_scenario(d11, tmp_path):
    ed = d11.with_value(DEPTH, 30.0)
    ed = ed.with_value("plan.presale_sms.when.dates", ["2021-10-20"])
    ed = ed.with_value("plan.presale_sms.budget", 5000.0)
    ed = ed.with_value("plan.sprint_sms.audience", None)  # removed: the default applies
    assert ed.scenario is not None, ed.message
    path = tmp_path / "edited.yaml"
    path.write_text(ed.yaml_text())
    assert load_scenario(path) == ed.scenario
    assert ed.scenario.benefits["member_coupon"].offer.amount_off == 30
    assert ed.scenario.plan["presale_sms"].budget == 5000
    assert ed.scenario.plan["sprint_sms"].audience == ["all"]
    assert d11.scenario.benefits["member_coupon"].offer.amount_off == 20  # copies, not edits


def test_a_touch_without_dates_gets_them():
    ed = Edited.open(D11).with_value("plan.storefront_card.when", None)
    start = field(ed, "plan.storefront_card.when.start")
    ed = ed.with_value(start.path, parse_text(start, "2021-11-01"))
    ed = ed.with_value("plan.storefront_card.when.end", parse_text(start, "2021-11-03"))
    assert ed.scenario is not None, ed.message
    assert str(ed.scenario.plan["storefront_card"].when.start) == "2021-11-01"


def test_runs_are_cached_by_digest_and_equal_promosim_run(d11, tmp_path, monkeypatch):
    runner = Runner()
    sc = d11.scenario
    job = runner.submit(sc, d11.base_dir, SMALL // 4, 2, sc.seed)
    while not job.done:
        time.sleep(0.05)
    assert not job.error, job.error
    assert runner.submit(sc, d11.base_dir, SMALL // 4, 2, sc.seed) is job  # cached
    monkeypatch.setattr(runner_module, "MAX_JOBS", 1)
    other = runner.submit(sc, d11.base_dir, 1000, 1, sc.seed)
    assert list(runner.jobs) == [other.key]  # the oldest finished run made room
    while not other.done:
        time.sleep(0.05)
    deeper = d11.with_value(DEPTH, 30.0).scenario
    assert run_key(deeper, SMALL // 4, 2, sc.seed) != job.key
    assert run_key(sc, SMALL // 4, 3, sc.seed) != job.key
    out = tmp_path / "run"
    argv = ["run", str(D11), "--shoppers", str(SMALL // 4), "--reps", "2", "--quiet"]
    assert main([*argv, "--no-plots", "--out", str(out)]) == 0
    kpis = json.loads((out / "kpis.json").read_text())
    assert job.kpis["gmv"] == kpis["gmv"] and job.kpis["ci95"]["roi"] == kpis["ci95"]["roi"]
    assert job.kpis["touches"] == kpis["touches"] and kpis["touches"]  # touch economics too
    shown_touches = views.touch_table(job.result.touches)
    assert [t[0] for t in shown_touches] == list(kpis["touches"])
    shown = {k: (v, ci) for k, v, ci in views.kpi_rows(job.kpis)}
    assert shown["incremental_gmv"][0] == table_number(kpis["incremental_gmv"])
    assert shown["roi"][1] == views.ci_text(kpis["ci95"]["roi"])
    assert len(job.rep.kpis) == 2 and job.first_s <= job.wall_s
    assert views.funnel_figure(job.rep) and views.daily_figure(job.rep)
    report = report_html(job, str(D11)).decode()  # `promosim report` of the run's folder
    assert report.count("<img") >= 3 and "Key figures" in report


def test_a_scenario_that_cannot_be_read_is_refused_before_serving(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_front_end_files_are_the_npm_packages_solara_asks_for(tmp_path, monkeypatch):
    wanted = assets.packages()
    assert any(p.startswith("@widgetti/solara-vuetify3-app@") for p in wanted)
    assert any(p.startswith("requirejs@") for p in wanted)
    bin_dir = tmp_path / "bin"  # an npm that packs a one-file package, offline
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(
        '#!/bin/sh\nmkdir -p package && echo "$2" > package/name.txt\n'
        "tar czf pkg.tgz package && rm -r package && echo pkg.tgz\n"
    )
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cdn"
    (cache / wanted[0]).mkdir(parents=True)  # there already: not fetched again
    fetched = assets.fill(cache, say=lambda _: None)
    assert fetched == wanted[1:]
    for pkg in wanted[1:]:
        assert (cache / pkg / "name.txt").read_text().strip() == pkg
    assert assets.fill(cache, say=lambda _: None) == []
    assert {p.name for p in cache.iterdir()} == {p.split("/")[0] for p in wanted}  # nothing aside


def test_two_strategies_side_by_side_with_their_pairwise_verdict(d11):
    runner = Runner()
    sc = d11.scenario
    deeper = d11.with_value(DEPTH, 40.0).scenario
    a, b = (runner.submit(x, d11.base_dir, 4000, 3, sc.seed) for x in (sc, deeper))
    while not (a.done and b.done):
        time.sleep(0.05)
    sides = views.side_by_side(a.kpis, b.kpis)
    assert [r[0] for r in sides] == [r[0] for r in views.kpi_rows(b.kpis)]
    rows, verdict = views.pairwise(a.rep, b.rep)
    by_kpi = {r[0]: r for r in rows}
    assert by_kpi["cost"][1] == table_number(b.kpis["cost"] - a.kpis["cost"])
    assert verdict and (" A" in verdict or "A " in verdict)
    other = Edited.open(D11).with_value("population.dormant_after_days", 200).scenario
    c = runner.submit(other, d11.base_dir, 4000, 3, sc.seed)
    while not c.done:
        time.sleep(0.05)
    assert views.pairwise(a.rep, c.rep)[1].startswith("not comparable: ")


# ----------------------------------------------------------------------------- the page
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`promosim dashboard` at 20,000 shoppers and 2 replications, on a free port."""
    sync_playwright = system_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    argv = ["dashboard", str(D11), "--port", str(port), "--shoppers", str(SMALL), "--reps", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", *argv], stdout=out, stderr=out, env=env
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300  # a fresh machine fetches the page's files once
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        yield sync_playwright, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def kpi_text(page) -> dict[str, tuple[str, str]]:
    """The KPI table on the page: kpi -> (value, CI)."""
    rows = page.locator("table.kpis tbody tr").all_inner_texts()
    return {k: (v, ci) for k, v, ci in (r.split("\t") for r in rows)}


def run_and_wait(page, reps: int) -> dict[str, tuple[str, str]]:
    """Click run; the KPI table once the new run (another key) has done its replications."""
    status = page.locator(".run-status")
    before = status.inner_text() if status.count() else ""
    page.get_by_role("button", name="run").click()
    deadline = time.monotonic() + 120
    while True:
        now = status.inner_text() if status.count() else ""
        if now != before and f"{reps} of {reps} replications," in now:
            return kpi_text(page)
        assert time.monotonic() < deadline, now
        time.sleep(0.2)


def test_page_runs_an_edited_coupon_as_promosim_run_does(server, tmp_path):
    sync_playwright, url = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url)
            page.get_by_text("promosim dashboard:").wait_for(timeout=60_000)
            before = run_and_wait(page, 2)
            depth = page.get_by_label("member_coupon: amount_off")
            depth.fill("-5")
            depth.press("Enter")
            page.locator(".cli-error").wait_for(timeout=30_000)  # the CLI's words, and at the field
            assert page.get_by_text("greater than or equal to 0 (got -5)").count() == 2
            depth.fill("35")
            depth.press("Enter")
            page.locator(".cli-error").wait_for(state="detached", timeout=30_000)
            after = run_and_wait(page, 2)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            with page.expect_download() as download:
                page.get_by_text("download scenario YAML").click()
            edited = tmp_path / "edited.yaml"
            download.value.save_as(edited)
        finally:
            browser.close()
    assert problems == []
    assert after["gmv"] != before["gmv"] and after["cost"] != before["cost"]
    out = tmp_path / "run"
    argv = ["run", str(edited), "--shoppers", str(SMALL), "--reps", "2", "--quiet", "--no-plots"]
    assert main([*argv, "--out", str(out)]) == 0
    kpis = json.loads((out / "kpis.json").read_text())
    expected = {k: (table_number(kpis[k]), views.ci_text(kpis["ci95"][k])) for k in HEADLINE}
    assert after == {k: v for k, v in expected.items() if k in after}
    assert len(after) >= 10
