"""`promosim bench`: engine speed, memory per shopper and compile time, as JSON.

Each size is measured in a fresh child process so its peak resident memory is its own. Compile
time is the wall time of a tiny run in a fresh process, once with an empty Numba cache (cold) and
once with the cache that run filled (warm). The Mesa reference model is timed at a size it can
manage; the speed-up is the engine's steady-state agent-days per second at the largest size over
the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba

from simulator.cli.common import BadInput, check_memory, options, population_size


def child_measure(scenario: str, shoppers: int, days: int | None, threads: int | None) -> dict:
    """Run in this process: steady-state speed (after a warm-up day) and peak memory."""
    from simulator.engine.model import PromotionModel
    from simulator.engine.workers import set_threads
    from simulator.scenario.load import load_scenario

    set_threads(threads or None)
    sc = load_scenario(scenario)
    model = PromotionModel(sc, shoppers=shoppers, base_dir=Path(scenario).parent)
    days = model.n_days if days is None else min(days, model.n_days)
    model.step()  # compiles or loads the kernels; not counted
    start = time.perf_counter()
    for _ in range(days - 1):
        model.step()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {
        "shoppers": shoppers,
        "days": days,
        "agent_days_per_s": round(shoppers * (days - 1) / elapsed),
        "bytes_per_shopper": round(peak / shoppers, 2),
        "state_bytes_per_shopper": round(model.shoppers.nbytes / shoppers, 2),
        "peak_rss_mb": round(peak / 2**20, 1),
        "threads": numba.get_num_threads(),
        "wall_s": round(elapsed, 3),
    }


def child_compile(scenario: str) -> dict:
    """Run in this process: wall time from import to two simulated days of a tiny population."""
    start = time.perf_counter()
    from simulator.engine.model import PromotionModel
    from simulator.scenario.load import load_scenario

    model = PromotionModel(load_scenario(scenario), shoppers=20000, base_dir=Path(scenario).parent)
    model.step()
    model.step()
    return {"compile_s": round(time.perf_counter() - start, 3)}


def _in_child(args: list[str], env: dict | None = None) -> dict:
    """Run `python -m simulator.cli.bench --child ...` and parse its JSON line."""
    res = subprocess.run(
        [sys.executable, "-m", "simulator.cli.bench", "--child", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {res.stderr.strip()[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_bench(
    scenario: str,
    sizes: list[int],
    days: int | None,
    threads: int | None,
    reference_shoppers: int = 2000,
    progress=None,
) -> dict:
    """Measure every size, compile times and the reference; return the JSON-ready report."""
    say = progress or (lambda msg: None)
    out: dict = {"scenario": scenario, "sizes": []}
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        say("compile, cold cache")
        cold = _in_child(["compile", scenario], env)["compile_s"]
        say("compile, warm cache")
        warm = _in_child(["compile", scenario], env)["compile_s"]
        for n in sizes:
            say(f"{n:,} shoppers")
            row = _in_child(["measure", scenario, str(n), str(days or 0), str(threads or 0)], env)
            row.update(compile_s_cold=cold, compile_s_warm=warm)
            out["sizes"].append(row)
    say(f"Mesa reference at {reference_shoppers:,} shoppers")
    from simulator.engine.reference.model import reference_agent_days_per_s
    from simulator.scenario.load import load_scenario

    # the same days as the engine: quiet early days alone would flatter the reference
    ref = reference_agent_days_per_s(
        load_scenario(scenario), reference_shoppers, days, Path(scenario).parent
    )
    out["reference_shoppers"] = reference_shoppers
    out["reference_agent_days_per_s"] = round(ref)
    best = max(out["sizes"], key=lambda r: r["shoppers"])
    out["speedup_vs_reference"] = round(best["agent_days_per_s"] / ref, 1)
    # the kernels run on `simulator.engine.workers` threads, as many as Numba's thread setting
    out["machine"] = {"cpus": os.cpu_count(), "worker_threads": numba.config.NUMBA_NUM_THREADS}
    return out


def cmd_bench(args) -> int:
    """`promosim bench`: print (and optionally write) the benchmark JSON."""
    from simulator.engine.workers import set_threads
    from simulator.files import atomic_write_text, check_output_file, to_json
    from simulator.scenario.load import load_scenario

    set_threads(args.threads)  # checks the number here rather than in every child
    try:
        sizes = [population_size(x) for x in args.shoppers.split(",")]
    except argparse.ArgumentTypeError as exc:
        raise BadInput(f"--shoppers: {exc}") from None
    check_memory(max(sizes), [load_scenario(args.scenario)], copies=1)  # one size at a time
    if args.json:
        check_output_file(args.json)
    report = run_bench(
        args.scenario,
        sizes,
        args.days,
        args.threads,
        progress=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True),
    )
    text = to_json(report)
    if args.json:
        atomic_write_text(args.json, text)
    print(text, end="")
    return 0


def add_parser(subparsers) -> None:
    """Add `bench` to the top-level subparsers."""
    b = subparsers.add_parser(
        "bench",
        help="engine speed, memory and compile time as JSON",
        parents=[options(threads="Numba threads (default: all cores)")],
    )
    b.add_argument("--shoppers", default="1e5,1e6,1e7", help="comma-separated sizes")
    b.add_argument("--days", type=int, help="days to simulate (default: the whole calendar)")
    b.add_argument("--scenario", default="scenarios/double11_2021.yaml")
    b.add_argument("--json", help="also write the JSON to this file")
    b.set_defaults(func=cmd_bench)


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    what, *rest = sys.argv[2:]
    if what == "compile":
        result = child_compile(rest[0])
    else:
        sc, n, d, t = rest
        result = child_measure(sc, int(n), int(d) or None, int(t) or None)
    print(json.dumps(result))
