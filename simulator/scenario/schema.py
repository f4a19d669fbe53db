"""Scenario files, schema v1: the pydantic model and every check on user input.

`load_scenario` reads YAML, validates types and ranges with pydantic, then checks cross-references
(phases, benefits, channels, audiences) and lifecycle rules. Every problem becomes a
`ScenarioError` naming the file, the field path, the line where YAML gives one and what was
expected, before anything is simulated. Field meanings are documented in docs/scenario.md.
"""

from __future__ import annotations

import copy
import functools
import math
import types
import typing
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulator.domain.benefits import BENEFIT_TYPES, COST_KINDS, DELIVERIES
from simulator.domain.channels import CHANNEL_KINDS
from simulator.domain.lifecycle import AUDIENCES, SEGMENTS, STATES
from simulator.errors import UserError

MAX_BENEFITS = 32  # held benefits are bits of a uint32
MAX_CHANNELS = 16
MAX_DAYS = 3000  # days are int16 in the population arrays

StateName = Literal[STATES]  # type: ignore[valid-type]
SegmentName = Literal[SEGMENTS]  # type: ignore[valid-type]
AudienceName = Literal[tuple(AUDIENCES)]  # type: ignore[valid-type]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS = typing.get_args(Weekday)
Day = Annotated[date, Field(strict=False)]  # accept quoted ISO dates as well as YAML dates
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class Strict(BaseModel):
    """Base of every section: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------- population
class SegmentSpec(Strict):
    """Share of shoppers in a segment, which states can be in it and how it shifts behaviour."""

    share: Probability
    states: list[StateName] = Field(default_factory=lambda: list(STATES), min_length=1)
    rate_multiplier: Positive = 1.0
    basket_multiplier: Positive = 1.0


class PurchaseRate(Strict):
    """BG/NBD purchase rate heterogeneity: lambda ~ Gamma(shape r, rate alpha) per time unit."""

    r: Positive
    alpha: Positive
    time_unit_days: Positive = 1.0


class Dropout(Strict):
    """BG/NBD dropout heterogeneity: p ~ Beta(a, b), the chance to go inactive after a purchase."""

    a: Positive
    b: Positive


class Basket(Strict):
    """Gamma-Gamma spend: z ~ Gamma(p, nu) per order, nu ~ Gamma(q, v); mean p*v/(q-1)."""

    p: Positive
    q: Annotated[float, Field(gt=1.0)]
    v: Positive


class Population(Strict):
    """The shoppers of one store at the campaign's start."""

    shoppers: Annotated[int, Field(ge=1, le=2_000_000_000)]
    mix: dict[StateName, Probability]
    segments: dict[SegmentName, SegmentSpec] = Field(default_factory=dict)
    params_file: str | None = None
    purchase_rate: PurchaseRate | None = None
    dropout: Dropout | None = None
    basket: Basket | None = None
    prospect_rate_scale: Positive = 0.3
    conversion_per_visit: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1
    enrol_per_visit: Probability = 0.02
    dormant_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 180
    churn_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    recent_buyer_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 360
    initial_alive: dict[StateName, Probability] = Field(
        default_factory=lambda: {"dormant": 0.3, "churned": 0.05}
    )
    fatigue_half_life_days: Positive = 7.0


# ----------------------------------------------------------------------------- calendar
class Phase(Strict):
    """A named window of the campaign with its platform traffic multiplier."""

    name: str
    start: Day
    end: Day
    traffic: Positive = 1.0
    presale: bool = False


class Calendar(Strict):
    """Campaign days (inclusive), phases, and day-level traffic overrides."""

    start: Day
    end: Day
    phases: list[Phase] = Field(default_factory=list)
    traffic_days: dict[Day, Positive] = Field(default_factory=dict)


class Window(Strict):
    """Days a benefit is online or a touch is sent: phases, dates or a range, then weekdays.

    Empty phases, dates and range mean the whole calendar.
    """

    phases: list[str] = Field(default_factory=list)
    dates: list[Day] = Field(default_factory=list)
    start: Day | None = None
    end: Day | None = None
    weekdays: list[Weekday] = Field(default_factory=list)


# ----------------------------------------------------------------------------- benefits
class Target(Strict):
    """Who may get a benefit: states (default: all the type allows) and segments (any of)."""

    states: Annotated[list[StateName], Field(min_length=1)] | None = None
    segments: list[SegmentName] = Field(default_factory=list)


class Effects(Strict):
    """Relative lifts (0.2 = +20%) on enrolment, purchase and basket; reactivation probability."""

    enrol: NonNegative = 0.0
    purchase: NonNegative = 0.0
    basket: NonNegative = 0.0
    reactivation: Probability = 0.0


class Cost(Strict):
    """Cost model: value per redemption, per grant, or as a share of the basket."""

    kind: Literal[COST_KINDS]  # type: ignore[valid-type]
    value: NonNegative

    @model_validator(mode="after")
    def _share_is_fraction(self) -> Cost:
        if self.kind == "share_of_basket" and self.value > 1.0:
            raise ValueError(
                "a share_of_basket value is a fraction of the basket: expected "
                f"0..1, got {self.value:g}"
            )
        return self


class Benefit(Strict):
    """One benefit (权益) on offer."""

    type: Literal[tuple(BENEFIT_TYPES)]  # type: ignore[valid-type]
    delivery: Literal[DELIVERIES] | None = None  # type: ignore[valid-type]
    target: Target = Field(default_factory=Target)
    effects: Effects = Field(default_factory=Effects)
    cost: Cost = Field(default_factory=lambda: Cost(kind="per_redemption", value=0.0))
    online: Window = Field(default_factory=Window)
    label: str = ""

    @property
    def how_delivered(self) -> str:
        """Delivery: the explicit one, else the type's default."""
        return self.delivery or BENEFIT_TYPES[self.type].delivery

    @property
    def states(self) -> list[str]:
        """States that may use it: the explicit target, else all the type allows."""
        if self.target.states is not None:
            return list(self.target.states)
        return list(BENEFIT_TYPES[self.type].states)


# ----------------------------------------------------------------------------- channels, plan
class Channel(Strict):
    """A contact channel (触达渠道)."""

    kind: Literal[tuple(CHANNEL_KINDS)]  # type: ignore[valid-type]
    reach: Annotated[list[AudienceName], Field(min_length=1)] | None = None
    cost_per_contact: NonNegative = 0.0
    daily_capacity: Annotated[int, Field(ge=0)] | None = None
    frequency_cap: Annotated[int, Field(ge=1, le=255)] | None = None
    fatigue: NonNegative = 0.0
    response_lift: NonNegative = 0.0


class Touch(Strict):
    """A touch of the plan: push a benefit (or a bare reminder) through a channel to an audience."""

    channel: str
    benefit: str | None = None
    audience: list[AudienceName] = Field(default_factory=lambda: ["all"], min_length=1)
    exclude: list[AudienceName] = Field(default_factory=list)
    when: Window = Field(default_factory=Window)
    budget: NonNegative | None = None


class Scenario(Strict):
    """A whole scenario file."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    population: Population
    calendar: Calendar
    benefits: dict[str, Benefit] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    plan: dict[str, Touch] = Field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        """Every calendar day, in order."""
        n = (self.calendar.end - self.calendar.start).days + 1
        return [self.calendar.start + timedelta(days=k) for k in range(n)]


# ----------------------------------------------------------------------------- errors
class ScenarioError(UserError):
    """Bad scenario input: a list of (field path, message), rendered with file and line."""

    def __init__(
        self,
        file: str,
        problems: list[tuple[tuple, str]],
        root: Any = None,
        lines: list[int | None] | None = None,
        sources: list | None = None,
        files: list[str] | None = None,
    ):
        """Render problems with their file and line.

        sources: the (file, YAML root) of a file and of those it extends, child first; each
        problem is placed in the file that defines the most of its path.
        """
        self.file = file
        self.problems = problems
        sources = sources or [(file, root)]
        found = [
            max(
                ((_locate(r, path), -k, f) for k, (f, r) in enumerate(sources)),
                key=lambda x: (x[0][0], x[1]),
            )
            for path, _ in problems
        ]
        self.files = files or [f for _, _, f in found]
        self.lines = lines or [loc[1] for loc, _, _ in found]
        super().__init__(self.render())

    def render(self) -> str:
        """One line per problem: FILE:LINE: path: message."""
        out = []
        for (path, msg), line, file in zip(self.problems, self.lines, self.files, strict=True):
            where = f"{file}:{line}" if line else file
            dotted = ".".join(str(p) for p in path) or "(top level)"
            out.append(f"{where}: {dotted}: {msg}")
        return "\n".join(out)


def _locate(node: Any, path: tuple) -> tuple[int, int | None]:
    """How many keys of `path` the YAML tree holds, and the 1-based line of the deepest one."""
    if node is None:
        return 0, None
    line = node.start_mark.line + 1
    depth = 0
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    child = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
        depth += 1
    return depth, line


def _duplicate_keys(node: Any, path: tuple = ()) -> list[tuple[tuple, str, int]]:
    """YAML silently keeps the last of two equal keys; we reject them: (path, message, line)."""
    found = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            line = k.start_mark.line + 1
            if k.value in seen:
                found.append(
                    (
                        path + (k.value,),
                        f"duplicate key (first at line {seen[k.value]}); "
                        "expected each key once per mapping",
                        line,
                    )
                )
            else:
                seen[k.value] = line
            found += _duplicate_keys(v, path + (k.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found += _duplicate_keys(v, path + (i,))
    return found


def _pydantic_problem(err: dict) -> tuple[tuple, str]:
    """Turn one pydantic error into (path, message a user understands)."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = err["type"]
    if loc and loc[-1] == "[key]":  # a dict key of the wrong kind (unknown state, bad date)
        loc = loc[:-1]
        msg = _pydantic_problem({**err, "loc": loc})[1]
        return loc, f"invalid key '{loc[-1]}': {msg}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return loc, f"unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return loc, "required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        msg = "expected " + msg.removeprefix("Input should be ").replace("'", "")
    if kind != "value_error" and "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return loc, msg


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model found at `loc` in the schema (empty if not a model)."""
    tp: Any = Scenario
    for key in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if key not in tp.model_fields:
                return []
            tp = tp.model_fields[key].annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated around a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


# ----------------------------------------------------------------------------- loading
class _Loader(yaml.SafeLoader):
    """Safe loader that keeps an impossible date (2021-13-01) as text.

    Pydantic then rejects it with its field path and line, instead of a bare ValueError.
    """

    def construct_yaml_timestamp(self, node):
        """A YAML date, or its text when it is not a real date."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load_scenario(path: str | Path, overrides: dict | None = None) -> Scenario:
    """Read, validate and cross-check a scenario file; raise ScenarioError on any problem.

    A file may start from another with `extends: OTHER.yaml` (relative to it) and state only
    what differs (see `merge`). `overrides` maps dotted paths to values applied to the raw YAML
    before validation.
    """
    path = Path(path)
    name = str(path)
    data, sources = _read_with_parents(path)
    for dotted, value in (overrides or {}).items():
        apply_override(data, dotted, value, name)
    base_dir = _params_dir(sources, name)
    try:
        return validate_data(data, name, base_dir=base_dir, sources=sources)
    except ScenarioError as exc:
        if not overrides:
            raise
        raise _blame_overrides(exc, overrides) from None


def params_base_dir(path: str | Path) -> Path:
    """Folder the scenario's population.params_file is relative to."""
    return _params_dir(_read_with_parents(Path(path))[1], str(path))


def _params_dir(sources: list, name: str) -> Path:
    """The folder of the file (the scenario or one it extends) that names the params_file."""
    return Path(
        next((f for f, r in sources if _locate(r, ("population", "params_file"))[0] == 2), name)
    ).parent


def _read_with_parents(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, list]:
    """The raw mapping of a file merged over the files it extends.

    Also returns the (file, YAML root) pairs of the file and its ancestors, child first.
    """
    name = str(path)
    data, root = read_yaml(path)
    parent = data.pop("extends", None)
    sources = [(name, root)]
    if parent is None:
        return data, sources
    if not isinstance(parent, str):
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
    if not parent_path.is_file():
        raise ScenarioError(
            name, [(("extends",), f"file not found: {parent} (relative to {path.parent})")], root
        )
    base, base_sources = _read_with_parents(parent_path, chain + (path.resolve(),))
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


def read_yaml(
    path: Path,
    error: type[ScenarioError] = ScenarioError,
    expected: str = "a mapping of sections (name, population, calendar, ...)",
) -> tuple[dict, Any]:
    """Parse one YAML file into (mapping, node tree), with every failure an `error`.

    Errors name the file and the line: unreadable, not UTF-8, syntax, empty, not a mapping,
    duplicate keys.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(name, [((), f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise error(
            name, [((), f"not UTF-8 text (byte {exc.start}); expected a UTF-8 YAML file")]
        ) from None
    try:
        root, data = _parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start and mark and start.line != mark.line:
            problem += f" ({context} that starts at line {start.line + 1})"
        raise error(
            name,
            [((), f"YAML syntax error{where}: {problem}")],
            lines=[mark.line + 1] if mark else None,
        ) from None
    if data is None:
        raise error(
            name, [((), f"the file has no content (empty or only comments); expected {expected}")]
        )
    if not isinstance(data, dict):
        raise error(
            name, [((), f"expected {expected} at the top level, got a {type(data).__name__}")], root
        )
    dups = _duplicate_keys(root)
    if dups:
        raise error(
            name, [(path, msg) for path, msg, _ in dups], lines=[line for _, _, line in dups]
        )
    return copy.deepcopy(data), root  # a copy: callers merge and override in place


@functools.lru_cache(maxsize=32)
def _parse(text: str) -> tuple[Any, Any]:
    """(node tree, data) of a YAML text, parsed once.

    A sweep validates every point against the same file, and the line-tracking pure-Python
    parser takes about 0.1 s a scenario.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, (None if root is None else loader.construct_document(root))
    finally:
        loader.dispose()


def _blame_overrides(exc: ScenarioError, overrides: dict) -> ScenarioError:
    """Problems under an overridden path come from the override, not from the file's line."""
    problems, lines = [], []
    for (path, msg), line in zip(exc.problems, exc.lines, strict=True):
        keys = tuple(str(k) for k in path)
        hit = next((d for d in overrides if keys[: len(d.split("."))] == tuple(d.split("."))), None)
        problems.append((path, msg if hit is None else f"{msg} (set by override {hit})"))
        lines.append(line if hit is None else None)
    return ScenarioError(exc.file, problems, lines=lines, files=exc.files)


def validate_data(
    data: dict,
    name: str = "<scenario>",
    root: Any = None,
    base_dir: Path | None = None,
    sources: list | None = None,
) -> Scenario:
    """Validate an already-parsed scenario mapping (pydantic, then cross-references)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(e) for e in exc.errors()]
        raise ScenarioError(name, problems, root, sources=sources) from None
    problems = check_references(scenario, base_dir or Path("."))
    if problems:
        raise ScenarioError(name, problems, root, sources=sources)
    return scenario


def apply_override(data: dict, dotted: str, value: Any, name: str = "<scenario>") -> None:
    """Set `a.b.c = value` in a raw scenario mapping; the key path must already exist up to c.

    A key matches a mapping key by its text (so dates work: `calendar.traffic_days.2021-11-11`);
    a number indexes a list (`calendar.phases.0.traffic`).
    """
    keys = dotted.split(".")

    def fail(depth: int, why: str) -> ScenarioError:
        return ScenarioError(name, [(tuple(keys[: depth + 1]), f"override path '{dotted}': {why}")])

    if not all(keys):
        raise fail(0, "expected dot-separated field names such as benefits.coupon.cost.value")
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        parent = ".".join(keys[:depth]) or "the top level"
        if isinstance(node, dict):
            match = next((k for k in node if str(k) == key), None)
            if last:
                node[key if match is None else match] = value
                return
            if match is None:
                raise fail(
                    depth,
                    f"'{key}' does not exist in {parent}; defined: "
                    + (", ".join(map(str, node)) or "none"),
                )
            node = node[match]
        elif isinstance(node, list):
            if not (key.isdigit() and int(key) < len(node)):
                raise fail(
                    depth,
                    f"{parent} is a list of {len(node)}; expected an index 0..{len(node) - 1}",
                )
            if last:
                node[int(key)] = value
                return
            node = node[int(key)]
        else:
            raise fail(depth, f"{parent} is a value ({node!r}), not a section with fields")


def check_references(sc: Scenario, base_dir: Path) -> list[tuple[tuple, str]]:
    """Checks pydantic cannot do field by field: references, windows, lifecycle rules."""
    p: list[tuple[tuple, str]] = []
    p += _check_population(sc.population, base_dir)
    p += _check_calendar(sc.calendar)
    phases = {ph.name for ph in sc.calendar.phases}
    if len(sc.benefits) > MAX_BENEFITS:
        p.append((("benefits",), f"at most {MAX_BENEFITS} benefits, got {len(sc.benefits)}"))
    if len(sc.channels) > MAX_CHANNELS:
        p.append((("channels",), f"at most {MAX_CHANNELS} channels, got {len(sc.channels)}"))
    for bname, b in sc.benefits.items():
        p += _check_window(b.online, ("benefits", bname, "online"), sc.calendar, phases)
        allowed = BENEFIT_TYPES[b.type].states
        for k, st in enumerate(b.target.states or []):
            if st not in allowed:
                p.append(
                    (
                        ("benefits", bname, "target", "states", k),
                        f"a {b.type} cannot be used by state '{st}'; it is for: "
                        + ", ".join(allowed),
                    )
                )
        if b.how_delivered == "on_enrol" and "enrolled" not in b.states:
            p.append(
                (
                    ("benefits", bname, "delivery"),
                    "on_enrol delivery needs 'enrolled' among the target states",
                )
            )
        if b.how_delivered == "store" and b.cost.kind == "per_grant":
            p.append(
                (
                    ("benefits", bname, "cost", "kind"),
                    f"a {b.type} is delivered in store, "
                    "never granted, so a per_grant cost would never be charged; expected "
                    "per_redemption or share_of_basket",
                )
            )
    for cname, c in sc.channels.items():
        kind_reach = set(CHANNEL_KINDS[c.kind])
        if "all" not in kind_reach:
            for k, aud in enumerate(c.reach or []):
                if aud not in kind_reach:
                    p.append(
                        (
                            ("channels", cname, "reach", k),
                            f"a channel of kind {c.kind} cannot reach '{aud}'; it can only "
                            f"reach: {', '.join(sorted(kind_reach))}",
                        )
                    )
    for tname, t in sc.plan.items():
        where = ("plan", tname)
        if t.channel not in sc.channels:
            p.append(
                (
                    where + ("channel",),
                    f"unknown channel '{t.channel}'; defined: "
                    + (", ".join(sc.channels) or "none"),
                )
            )
        if t.benefit is not None and t.benefit not in sc.benefits:
            p.append(
                (
                    where + ("benefit",),
                    f"unknown benefit '{t.benefit}'; defined: "
                    + (", ".join(sc.benefits) or "none"),
                )
            )
        elif t.benefit is not None and sc.benefits[t.benefit].how_delivered == "on_enrol":
            p.append(
                (
                    where + ("benefit",),
                    f"benefit '{t.benefit}' is granted on enrolment "
                    "and cannot be pushed by a touch",
                )
            )
        if (
            t.budget is not None
            and t.channel in sc.channels
            and sc.channels[t.channel].cost_per_contact == 0
        ):
            p.append(
                (
                    where + ("budget",),
                    f"a budget caps contact cost, and channel "
                    f"'{t.channel}' has cost_per_contact 0, so it would never bind; expected "
                    "no budget, or a channel with a cost per contact",
                )
            )
        p += _check_window(t.when, where + ("when",), sc.calendar, phases)
    return p


def _check_population(pop: Population, base_dir: Path) -> list[tuple[tuple, str]]:
    p: list[tuple[tuple, str]] = []
    total = sum(pop.mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        p.append((("population", "mix"), f"state shares must sum to 1, got {total:.6g}"))
    inline = [pop.purchase_rate, pop.dropout, pop.basket]
    if pop.params_file is None and any(x is None for x in inline):
        p.append((("population",), "give purchase_rate, dropout and basket, or a params_file"))
    if pop.params_file is not None:
        if any(x is not None for x in inline):
            p.append(
                (
                    ("population", "params_file"),
                    "give either a params_file or inline purchase_rate/dropout/basket, not both",
                )
            )
        elif not (base_dir / pop.params_file).is_file():
            p.append(
                (
                    ("population", "params_file"),
                    f"file not found: {pop.params_file} (relative to {base_dir})",
                )
            )
        else:
            p += _check_params_file(base_dir / pop.params_file)
    if pop.churn_after_days <= pop.dormant_after_days:
        p.append(
            (
                ("population", "churn_after_days"),
                "must be greater than dormant_after_days "
                f"({pop.dormant_after_days}), got {pop.churn_after_days}",
            )
        )
    return p


def _check_params_file(path: Path) -> list[tuple[tuple, str]]:
    """The fitted-parameter file must validate and carry the Gamma-Gamma basket fit."""
    from simulator.clv.params_file import ParamsFileError, read_params

    where = ("population", "params_file")
    try:
        fitted = read_params(path)
    except ParamsFileError as exc:
        return [(where, f"invalid params file: {exc}")]
    if fitted.gamma_gamma is None:
        return [
            (
                where,
                f"{path} has no gamma_gamma section; expected a fit with basket "
                "parameters (gamma_gamma: {p, q, v})",
            )
        ]
    if fitted.gamma_gamma.q <= 1.0:
        return [
            (
                where,
                f"{path}: gamma_gamma.q must be greater than 1 (the mean basket "
                f"p*v/(q-1) must be finite), got {fitted.gamma_gamma.q:g}",
            )
        ]
    return []


def _check_calendar(cal: Calendar) -> list[tuple[tuple, str]]:
    p: list[tuple[tuple, str]] = []
    if cal.end < cal.start:
        p.append((("calendar", "end"), f"end {cal.end} is before start {cal.start}"))
        return p
    if (cal.end - cal.start).days + 1 > MAX_DAYS:
        p.append((("calendar", "end"), f"at most {MAX_DAYS} days"))
    seen: dict[str, int] = {}
    for k, ph in enumerate(cal.phases):
        where = ("calendar", "phases", k)
        if ph.name in seen:
            p.append((where + ("name",), f"phase name '{ph.name}' is used twice"))
        seen[ph.name] = k
        if ph.end < ph.start:
            p.append((where + ("end",), f"end {ph.end} is before start {ph.start}"))
        if ph.start < cal.start or ph.end > cal.end:
            p.append(
                (
                    where,
                    f"phase '{ph.name}' ({ph.start}..{ph.end}) lies outside the "
                    f"calendar {cal.start}..{cal.end}",
                )
            )
    ordered = sorted(enumerate(cal.phases), key=lambda kp: kp[1].start)
    for (_, a), (kb, b) in zip(ordered, ordered[1:], strict=False):
        if b.start <= a.end:
            p.append(
                (
                    ("calendar", "phases", kb),
                    f"phase '{b.name}' ({b.start}..{b.end}) "
                    f"overlaps phase '{a.name}' ({a.start}..{a.end}); phases must not overlap",
                )
            )
    for d in cal.traffic_days:
        if d < cal.start or d > cal.end:
            p.append(
                (
                    ("calendar", "traffic_days", d),
                    f"{d} is outside the calendar {cal.start}..{cal.end}",
                )
            )
    return p


def _check_window(w: Window, where: tuple, cal: Calendar, phases: set[str]):
    p = []
    dated = cal.start <= cal.end  # else reported once on calendar.end; no date would be inside
    for k, ph in enumerate(w.phases):
        if ph not in phases:
            p.append(
                (
                    where + ("phases", k),
                    f"unknown phase '{ph}'; defined: " + (", ".join(sorted(phases)) or "none"),
                )
            )
    for k, d in enumerate(w.dates):
        if dated and (d < cal.start or d > cal.end):
            p.append((where + ("dates", k), f"{d} is outside the calendar {cal.start}..{cal.end}"))
    if (w.start is None) != (w.end is None):
        given = "start" if w.end is None else "end"
        p.append(
            (
                where + (given,),
                f"a window range needs both start and end, or neither; got only {given}",
            )
        )
    elif w.start is not None and w.end is not None:
        if w.end < w.start:
            p.append((where + ("end",), f"end {w.end} is before start {w.start}"))
        if dated and (w.start < cal.start or w.end > cal.end):
            p.append(
                (where, f"{w.start}..{w.end} lies outside the calendar {cal.start}..{cal.end}")
            )
    return p
