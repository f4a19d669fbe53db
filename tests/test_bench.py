"""`promosim bench`: the JSON the issue names, with figures that are measurements, not constants."""

from __future__ import annotations

import json

from helpers import ROOT

from simulator import cli

SIZE_KEYS = {
    "shoppers",
    "days",
    "agent_days_per_s",
    "bytes_per_shopper",
    "compile_s_cold",
    "compile_s_warm",
    "threads",
}


def test_bench_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = [
        "bench",
        "--shoppers",
        "3000,6000",
        "--days",
        "4",
        "--threads",
        "1",
        "--scenario",
        str(ROOT / "scenarios" / "double11_2021.yaml"),
        "--json",
        str(out),
    ]
    assert cli.main(args) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report  # printed and written alike
    assert [r["shoppers"] for r in report["sizes"]] == [3000, 6000]
    for row in report["sizes"]:
        assert SIZE_KEYS <= set(row)
        assert row["days"] == 4 and row["threads"] == 1
        assert row["agent_days_per_s"] > 0 and row["bytes_per_shopper"] > 0
        # a cold compile (empty kernel cache) takes longer than loading the cached kernels
        assert row["compile_s_cold"] > row["compile_s_warm"] > 0
    ref = report["reference_agent_days_per_s"]
    assert ref > 0
    biggest = report["sizes"][-1]["agent_days_per_s"]
    assert report["speedup_vs_reference"] == round(biggest / ref, 1)
