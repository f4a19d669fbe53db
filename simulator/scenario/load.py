"""Loading a scenario file: YAML, `extends:`, overrides, validation and checks.

`load_scenario` reads a file merged over the files it extends, applies dotted-path overrides,
validates types and ranges with the pydantic models of `schema`, then runs `checks`. Every
problem becomes a `ScenarioError` naming the file, the field path, the line where YAML gives
one and what was expected, before anything is simulated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.scenario import paths
from simulator.scenario.assumptions import AssumptionsFileError, points, resolve
from simulator.scenario.checks import check_references
from simulator.scenario.schema import Scenario
from simulator.yamlfiles import YamlFileError, locate, read_yaml, validated

EXPECTED = "a mapping of sections (name, population, calendar, ...)"
MAX_EXTENDS = 10
"""Most files in a chain of `extends:` (a file, its parent, the parent's parent...)."""


class ScenarioError(YamlFileError):
    """Bad scenario input: one line per problem, FILE:LINE: field path: what was expected."""


def load_scenario(path: str | Path, overrides: dict | None = None) -> Scenario:
    """Read, validate and cross-check a scenario file; raise ScenarioError on any problem.

    A file may start from another with `extends: OTHER.yaml` (relative to it) and state only
    what differs (see `merge`). `overrides` maps dotted paths to values applied to the raw YAML
    before validation.
    """
    name = str(path)
    data, sources, base_dir = read_scenario_data(path, overrides)
    try:
        return validate_data(data, name, base_dir=base_dir, sources=sources)
    except ScenarioError as exc:
        if not overrides:
            raise
        raise _blame_overrides(exc, overrides) from None


def read_scenario_data(path: str | Path, overrides: dict | None = None) -> tuple[dict, list, Path]:
    """A scenario file's raw mapping before validation: (data, sources, params folder).

    Merged over the files it extends, overrides applied, assumption files made absolute; the
    folder is the one its `population.params_file` or `customers` is relative to. The dashboard
    edits this mapping and validates it with `validate_data`, as the CLI would the file.
    """
    path = Path(path)
    name = str(path)
    data, sources = read_merged(path)
    for dotted, value in (overrides or {}).items():
        apply_override(data, dotted, value, name)
    _anchor_assumption_files(data, sources, name)
    return data, sources, _params_dir(sources, name)


REPLACED = {
    "cost": "offer (amount_off, percent_off, min_spend, per_spend, gift_value, points_per_yuan, "
    "point_value) or grant_cost",
    "effects.basket": "offer.min_spend (a threshold moves baskets up to it)",
    "effects.purchase": "offer terms for price benefits; log-odds for mind-share benefits",
}
"""Version 1 benefit fields and what replaced them in version 2 (docs/scenario.md)."""


def version1_problems(data: Any) -> list[tuple[tuple, str]]:
    """A version 1 file: one problem naming each replaced field, else none.

    Version 1 stated benefits as effect constants and a cost; version 2 states offer terms
    (docs/scenario.md, "From version 1"). Nothing converts silently: the numbers mean other things.
    """
    if not isinstance(data, dict) or data.get("schema_version", 1) != 1:
        return []
    benefits = data.get("benefits")
    found = []
    for bname, b in (benefits if isinstance(benefits, dict) else {}).items():
        if not isinstance(b, dict):
            continue
        effects = b.get("effects") if isinstance(b.get("effects"), dict) else {}
        for field, there in (("cost", "cost" in b), ("effects.basket", "basket" in effects)):
            if there:
                found.append((("benefits", bname, *field.split(".")), REPLACED[field]))
        if "purchase" in effects:
            found.append((("benefits", bname, "effects", "purchase"), REPLACED["effects.purchase"]))
    if "schema_version" not in data and not found:
        return []  # no version and nothing old: the schema says what is missing
    head = (
        ("schema_version",),
        "version 1 scenarios are no longer read: benefits state offer terms now; expected "
        "schema_version: 2 (docs/scenario.md, 'From version 1')",
    )
    return [head] + [(where, f"replaced in version 2 by {new}") for where, new in found]


def validate_data(
    data: dict,
    name: str = "<scenario>",
    root: Any = None,
    base_dir: Path | None = None,
    sources: list | None = None,
) -> Scenario:
    """Validate an already-parsed scenario mapping (pydantic, then cross-references).

    A scenario with assumptions comes back with their point values in place (`with_values`).
    """
    old = version1_problems(data)
    if old:
        raise ScenarioError(name, old, root, sources=sources)
    base_dir = base_dir or Path(".")
    scenario = _checked(data, name, root, base_dir, sources)
    found = assumptions_of(scenario, base_dir, name)
    if not found:
        return scenario
    problems = [p for a in found for p in _assumption_problems(scenario, a, base_dir)]
    if problems:
        raise ScenarioError(name, problems, root, sources=sources)
    return with_values(scenario, points(found), base_dir)


def _checked(data: dict, name: str, root: Any, base_dir: Path, sources) -> Scenario:
    """Pydantic, then the cross-reference checks, then a customer table's size."""
    scenario = validated(Scenario, data, ScenarioError, name, root, sources=sources)
    problems = check_references(scenario, base_dir)
    if problems:
        raise ScenarioError(name, problems, root, sources=sources)
    return _with_table_size(scenario, base_dir)


def assumptions_of(scenario: Scenario, base_dir: Path, name: str = "<scenario>") -> tuple:
    """The scenario's assumptions, resolved (`assumptions.resolve`); file errors name the file."""
    try:
        return resolve(scenario.assumptions, scenario.assumption_files, base_dir)
    except AssumptionsFileError as exc:
        raise ScenarioError(name, [(("assumption_files",), str(exc))]) from None


def with_values(scenario: Scenario, values: dict[str, float], base_dir: Path) -> Scenario:
    """The scenario with each dotted path set to its value (a parameter draw), checked again."""
    data = scenario.model_dump(mode="json", exclude_unset=True)
    for dotted, value in values.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node[int(key)]
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return _checked(data, f"{scenario.name} (assumptions drawn)", None, base_dir, None)


def _assumption_problems(scenario: Scenario, a, base_dir: Path) -> list[tuple[tuple, str]]:
    """An assumption must name a number field, and its distribution stay in the field's range.

    Checked at its point and at its 10^-6 and 1 - 10^-6 quantiles, so no draw fails later.
    """
    where = ("assumptions", a.path)
    node: Any = scenario.model_dump(mode="json")
    for key in a.path.split("."):
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            return [
                (
                    where,
                    f"no field {a.path} in the scenario; expected the dotted path of a "
                    "number field, e.g. channels.sms.response_lift",
                )
            ]
    if isinstance(node, bool) or not isinstance(node, float):
        return [(where, f"{a.path} is not a decimal number field (it holds {node!r})")]
    for label, value in (("point", a.point), ("lowest", a.at(1e-6)), ("highest", a.at(1 - 1e-6))):
        try:
            with_values(scenario, {a.path: value}, base_dir)
        except ScenarioError as exc:
            why = "; ".join(msg for _, msg in exc.problems) if exc.problems else str(exc)
            return [(where, f"its {label} value {value:.6g} does not fit the field: {why}")]
    return []


def _with_table_size(scenario: Scenario, base_dir: Path) -> Scenario:
    """A customer-table population's `shoppers`: all its rows unless the scenario samples it."""
    pop = scenario.population
    if pop.customers is None or pop.shoppers is not None:
        return scenario
    from simulator.clv.customer_table import customer_table

    rows = customer_table(base_dir / pop.customers).n
    return scenario.model_copy(update={"population": pop.model_copy(update={"shoppers": rows})})


def params_base_dir(path: str | Path) -> Path:
    """Folder the scenario's population.params_file (or customers) is relative to."""
    return _params_dir(read_merged(Path(path))[1], str(path))


def _anchor_assumption_files(data: dict, sources: list, name: str) -> None:
    """Make `assumption_files` absolute, from the folder of the file that names them.

    A file that extends another inherits its assumption files relative to where they were
    written (`presets/x.yaml` extending `../double11_2021.yaml` finds `assumptions/...` next to
    the latter), and later resolution (replications, sweeps) needs no base folder.
    """
    files = data.get("assumption_files")
    if not isinstance(files, list):
        return  # absent, or not a list: pydantic says what was expected
    owner = next((f for f, r in sources if locate(r, ("assumption_files",))[0] == 1), name)
    folder = Path(owner).parent
    data["assumption_files"] = [
        str((folder / f).resolve()) if isinstance(f, str) else f for f in files
    ]


def _params_dir(sources: list, name: str) -> Path:
    """The folder of the file (the scenario or one it extends) naming params_file or customers."""
    names = [
        f
        for f, r in sources
        for key in ("params_file", "customers")
        if locate(r, ("population", key))[0] == 2
    ]
    return Path(next(iter(names), name)).parent


def read_merged(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, list]:
    """The raw mapping of a file merged over the files it extends.

    Also returns the (file, YAML root) pairs of the file and its ancestors, child first.
    """
    name = str(path)
    data, root = read_yaml(path, ScenarioError, EXPECTED)
    parent = data.pop("extends", None)
    sources = [(name, root)]
    if parent is None:
        return data, sources
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(
            name,
            [(("extends",), f"expected the path of another scenario file, got {parent!r}")],
            root,
        )
    parent_path = path.parent / parent
    if parent_path.resolve() in chain + (path.resolve(),):
        raise ScenarioError(
            name, [(("extends",), f"{parent} extends this file again (a cycle)")], root
        )
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            name,
            [(("extends",), f"more than {MAX_EXTENDS} files extend one another; expected fewer")],
            root,
        )
    if not parent_path.exists():
        raise ScenarioError(
            name, [(("extends",), f"file not found: {parent} (relative to {path.parent})")], root
        )
    try:
        base, base_sources = read_merged(parent_path, chain + (path.resolve(),))
    except ScenarioError as exc:  # reported in the parent, and naming this file too
        raise ScenarioError(name, exc.problems, lines=exc.lines, files=exc.files) from None
    return merge(base, data), sources + base_sources


def merge(base: dict, child: dict) -> dict:
    """Child over base: mappings merge key by key, a null removes the key, anything else replaces.

    Every optional field defaults to null, so removing a key and setting it to null agree.
    """
    out = dict(base)
    for key, value in child.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_override(data: dict, dotted: str, value: Any, name: str = "<scenario>") -> None:
    """Set `a.b.c = value` in a raw scenario mapping; the key path must already exist up to c.

    A key matches a mapping key by its text (so dates work: `calendar.traffic_days.2021-11-11`);
    a number indexes a list (`calendar.phases.0.traffic`).
    """
    keys = dotted.split(".")

    def fail(depth: int, why: str) -> ScenarioError:
        return ScenarioError(name, [(tuple(keys[: depth + 1]), f"override path '{dotted}': {why}")])

    if not all(keys):
        raise fail(0, "expected dot-separated field names such as benefits.coupon.offer.amount_off")
    try:
        paths.set_value(data, dotted, value)
    except paths.PathError as exc:
        raise fail(exc.depth, exc.why) from None


def _blame_overrides(exc: ScenarioError, overrides: dict) -> ScenarioError:
    """Problems under an overridden path come from the override, not from the file's line."""
    problems, lines = [], []
    for (path, msg), line in zip(exc.problems, exc.lines, strict=True):
        keys = tuple(str(k) for k in path)
        hit = next((d for d in overrides if keys[: len(d.split("."))] == tuple(d.split("."))), None)
        problems.append((path, msg if hit is None else f"{msg} (set by override {hit})"))
        lines.append(line if hit is None else None)
    return ScenarioError(exc.file, problems, lines=lines, files=exc.files)
