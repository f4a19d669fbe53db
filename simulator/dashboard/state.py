"""The scenario being edited: its raw mapping, the form's fields, validation as the CLI does it.

The page edits the raw mapping a scenario file reads into (`load.read_scenario_data`: merged
over the files it extends), one field at a time by dotted path, and validates the whole with
`load.validate_data`, the pydantic models and cross-checks `promosim run` applies to a file. A
problem is shown next to the field its path names, in the CLI's words; the edited mapping is
downloaded as a YAML file that `promosim run` reads into the same scenario.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from simulator.domain.lifecycle import AUDIENCES
from simulator.errors import UserError
from simulator.scenario import paths
from simulator.scenario.load import ScenarioError, read_scenario_data, validate_data
from simulator.scenario.schema import Scenario
from simulator.sweeps.design import parse_value, value_label
from simulator.yamlfiles.loader import YamlDumper

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHOPPERS_RANGE = (100_000, 1_000_000)
"""Shoppers the page's slider offers (what a planner runs; `--shoppers` may start lower)."""
FILE_FIELDS = ("params_file", "customers")
"""Population fields naming files relative to the scenario: made absolute in a download."""
OFFER_TERMS = ("amount_off", "percent_off", "min_spend", "per_spend")
CHANNEL_FIELDS = ("cost_per_contact", "daily_capacity", "frequency_cap", "awareness")


@dataclass(frozen=True)
class FormField:
    """One control of the form: the dotted path it edits, its label and kind.

    kind: "value" (a YAML scalar typed as text), "list" (scalars separated by commas),
    "choice" (one of `options`) or "multi" (any of `options`).
    """

    path: str
    label: str
    kind: str = "value"
    options: tuple = ()


def shipped() -> list[Path]:
    """The scenario files shipped with promosim (scenarios/, presets/ included)."""
    return sorted(SCENARIOS.glob("*.yaml")) + sorted(SCENARIOS.glob("presets/*.yaml"))


def form_fields(data: dict) -> dict[str, list[FormField]]:
    """The form's fields by section: offers, touches, channels (those the scenario has)."""
    benefits = data.get("benefits") or {}
    channels = data.get("channels") or {}
    phases = tuple(p.get("name") for p in (data.get("calendar") or {}).get("phases") or [])
    offers = []
    for name, b in benefits.items():
        terms = [t for t in OFFER_TERMS if t in (b.get("offer") or {})]
        if not terms:
            continue  # gifts and points: no depth or threshold to move
        offers += [FormField(f"benefits.{name}.offer.{t}", f"{name}: {t}") for t in terms]
        offers.append(FormField(f"benefits.{name}.valid_days", f"{name}: valid days"))
        offers.append(
            FormField(f"benefits.{name}.online.phases", f"{name}: online in", "multi", phases)
        )
    touches = []
    for name in data.get("plan") or {}:
        p = f"plan.{name}"
        touches += [
            FormField(f"{p}.channel", f"{name}: channel", "choice", tuple(channels)),
            FormField(f"{p}.audience", f"{name}: audience", "multi", tuple(AUDIENCES)),
            FormField(f"{p}.when.phases", f"{name}: phases", "multi", phases),
            FormField(f"{p}.when.dates", f"{name}: dates", "list"),
            FormField(f"{p}.when.start", f"{name}: from"),
            FormField(f"{p}.when.end", f"{name}: to"),
            FormField(f"{p}.budget", f"{name}: budget"),
        ]
    chans = [
        FormField(f"channels.{name}.{f}", f"{name}: {f.replace('_', ' ')}")
        for name in channels
        for f in CHANNEL_FIELDS
    ]
    return {"offers": offers, "touches": touches, "channels": chans}


def text_of(data: dict, f: FormField) -> str | list:
    """A field's value as its control shows it: text, or a list for a multiple choice."""
    value = paths.get(data, f.path)
    if f.kind == "multi":
        return list(value or [])
    if value is None:
        return ""
    if f.kind == "list":
        return ", ".join(value_label(v) for v in value)
    return value_label(value)


def parse_text(f: FormField, text) -> object:
    """The value a control's text stands for, read as a scenario file reads a scalar.

    Empty text removes the field (its default applies). Raises UserError for text that is not
    a YAML scalar.
    """
    if f.kind == "multi":
        return list(text) or None
    if not str(text).strip():
        return None
    if f.kind == "list":
        return [parse_value(t.strip()) for t in str(text).split(",") if t.strip()]
    if f.kind == "choice":
        return str(text)
    return parse_value(str(text))


def set_path(data: dict, dotted: str, value) -> dict:
    """A copy of the mapping with the value at a dotted path (None removes it).

    Missing mappings on the way are created (a touch with no `when` gets one).
    """
    out = copy.deepcopy(data)
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        nxt = paths.child(node, key)
        if nxt is paths.MISSING or nxt is None:
            nxt = node[key] = {}
        node = nxt
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return out


@dataclass
class Edited:
    """A scenario file opened for editing: its raw mapping as edited, and what validation says."""

    source: Path
    data: dict
    base_dir: Path
    sources: list = field(repr=False, default_factory=list)
    scenario: Scenario | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (dotted path, message)
    message: str = ""  # what the CLI prints: one line per problem, file and line first

    @classmethod
    def open(cls, source: str | Path) -> Edited:
        """Read a scenario file (its `extends:` merged); validate it."""
        source = Path(source)
        data, sources, base_dir = read_scenario_data(source)
        return cls(source, data, base_dir, sources).validated()

    def validated(self) -> Edited:
        """This edit with its scenario, or its problems, from the CLI's validation."""
        try:
            sc = validate_data(
                copy.deepcopy(self.data),
                str(self.source),
                base_dir=self.base_dir,
                sources=self.sources,
            )
        except ScenarioError as exc:
            problems = [(".".join(map(str, p)), msg) for p, msg in exc.problems]
            return Edited(
                self.source, self.data, self.base_dir, self.sources, None, problems, str(exc)
            )
        except UserError as exc:
            return Edited(
                self.source,
                self.data,
                self.base_dir,
                self.sources,
                None,
                [("", str(exc))],
                str(exc),
            )
        return Edited(self.source, self.data, self.base_dir, self.sources, sc, [], "")

    def with_value(self, dotted: str, value) -> Edited:
        """This edit with one field set (None removes it), validated again."""
        data = set_path(self.data, dotted, value)
        return Edited(self.source, data, self.base_dir, self.sources).validated()

    def problem_at(self, dotted: str) -> str:
        """The validation messages about a field (its path or below), joined; empty if none."""
        return "; ".join(
            f"{p}: {msg}" for p, msg in self.problems if p == dotted or p.startswith(dotted + ".")
        )

    def yaml_text(self) -> str:
        """The edited scenario as a YAML file `promosim run` reads into the same scenario.

        Whole (no `extends:`), with the files the population names made absolute, so it runs
        wherever it is saved.
        """
        data = copy.deepcopy(self.data)
        pop = data.get("population") or {}
        for key in FILE_FIELDS:
            if isinstance(pop.get(key), str):
                pop[key] = str((self.base_dir / pop[key]).resolve())
        head = f"# {self.source.name}, edited in promosim dashboard\n"
        return head + yaml.dump(data, Dumper=YamlDumper, sort_keys=False, allow_unicode=True)
