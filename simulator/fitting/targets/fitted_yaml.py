"""The fitted scenario file: extends the original and sets only the fitted values."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from simulator.fitting.targets.search import FitResult
from simulator.scenario import paths
from simulator.scenario.load import apply_override, read_merged
from simulator.yamlfiles.loader import YamlDumper


def fitted_yaml(result: FitResult, dest: str | Path) -> str:
    """A scenario file that extends the original and sets only the fitted values."""
    p = result.problem
    dest = Path(dest)
    values = dict(zip(p.names, map(float, result.best.theta), strict=True))
    data, _ = read_merged(p.scenario_path)
    for path, v in values.items():
        apply_override(data, path, v)
    patch: dict = {}
    for path in p.names:
        keys = _written_keys(data, path)
        cur = patch
        for key in keys[:-1]:
            cur = cur.setdefault(key, {})
        cur[keys[-1]] = paths.get(data, ".".join(keys))
    rel = Path(_relpath(p.scenario_path, dest.parent))
    status = (
        "all targets met"
        if result.all_met
        else (f"{int((~result.met).sum())} of {len(result.met)} targets NOT met")
    )
    head = [
        f"# {p.scenario.name} fitted to {p.targets_path} by `promosim calibrate targets`",
        f"# ({p.reps} replications x {p.shoppers:,} shoppers, seed {p.seed}; distance "
        f"{result.best.distance:.4g}, {status}; details in fit.json).",
        "# Only the fitted values differ from the scenario this file extends:",
    ]
    head += [f"#   {k}: {result.start.theta[i]:g} -> {values[k]:g}" for i, k in enumerate(p.names)]
    body = {"extends": rel.as_posix(), "name": f"{p.scenario.name} (fitted)", **patch}
    return (
        "\n".join(head)
        + "\n"
        + yaml.dump(body, Dumper=YamlDumper, sort_keys=False, allow_unicode=True)
    )


def _written_keys(data: dict, path: str) -> list[str]:
    """The keys of the value written for a fitted path.

    A value inside a list is written as the whole list, since a child file's list replaces its
    parent's.
    """
    keys = path.split(".")
    nodes = paths.trail(data, path)  # nodes[d] is the value at keys[:d]
    inside = [d for d in range(1, len(keys)) if isinstance(nodes[d], list)]
    return keys[: inside[0]] if inside else keys


def _relpath(target: Path, start: Path) -> str:
    """The path of target relative to start (both made absolute)."""
    return os.path.relpath(target.resolve(), start.resolve())
