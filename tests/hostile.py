"""A corpus of hostile input files, built from the shipped scenarios and transaction fixtures.

Issue 13 found inputs that hung `promosim`, exhausted its memory, raised tracebacks or were
accepted although wrong. Each `Case` here is one such file, made the way the issue describes:
alias bombs, deep nesting, huge numbers, wrong types, binary and special files, bad dates, bad
references, YAML 1.1 literals, merge keys, control characters, truncations. `make` writes a case
into a folder `prepare` made (copies of the shipped scenarios, so `extends:` works, and two
hostile parents); the command that reads it must exit with one of `codes`, naming the file.
"""

from __future__ import annotations

import copy
import csv
import gzip
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from simulator.yamlfiles import YamlLoader

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
D11 = (ROOT / "scenarios" / "double11_2021.yaml").read_text(encoding="utf-8")
PARAMS = (ROOT / "calibration" / "params" / "cdnow_master.yaml").read_text(encoding="utf-8")
TARGETS = (ROOT / "calibration" / "targets" / "bluemoon_2018.yaml").read_text(encoding="utf-8")
CDNOW = "".join(
    (ROOT / "calibration" / "data" / "CDNOW_master.txt").read_text().splitlines(True)[:40]
)
BAD_TRANSACTIONS = sorted((Path(__file__).parent / "data" / "bad_transactions").iterdir())
SENTINEL = "HOSTILE_VALUE"

# literals no numeric field may take, and literals some fields take
TOO_BIG = ["1e308", "1.0e+309", "-1.0e+308", "1" + "0" * 30, str(2**64), ".nan", ".inf"]
EDGE = ["0", "-1", "1e-320", "0.0", "-0"]


@dataclass(frozen=True)
class Case:
    """One hostile input: how to make it, which command reads it, what the command must do.

    `content` is the file's text or bytes; `special` names a file that is not one ("fifo",
    "folder", "dev_zero", "symlink_zero", "sparse"); `params` is the text of a fitted-parameter
    file `fitted_<name>` beside it; `known` says why the case still fails, where the fix belongs
    to code outside the input layer (the test expects it to fail until fixed).
    """

    name: str
    kind: str  # "scenario", "targets" or "transactions"
    content: str | bytes | None = None
    special: str | None = None
    codes: tuple[int, ...] = (2,)
    params: str | bytes | None = None
    known: str | None = None


def prepare(folder: Path) -> None:
    """Fill the folder every case is made in: shipped scenarios, a FIFO and an alias bomb."""
    for path in SCENARIOS:
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(SCENARIOS[0].parent / "assumptions", folder / "assumptions")
    os.mkfifo(folder / "parent_fifo.yaml")
    (folder / "parent_bomb.yaml").write_text(D11 + alias_bomb(9), encoding="utf-8")


def make(case: Case, folder: Path) -> Path:
    """Write the case's file (and its params file) into `folder`; return the path to read."""
    path = folder / case.name
    if case.params is not None:
        params = folder / f"fitted_{case.name}"
        if isinstance(case.params, bytes):
            params.write_bytes(case.params)
        else:
            params.write_text(case.params, encoding="utf-8")
    if case.special == "fifo":
        os.mkfifo(path)
    elif case.special == "folder":
        path.mkdir()
    elif case.special == "dev_zero":
        return Path("/dev/zero")
    elif case.special == "symlink_zero":
        path.symlink_to("/dev/zero")
    elif case.special == "sparse":
        with open(path, "wb") as f:
            f.truncate(200_000_000)
    elif isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        path.write_text(case.content, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- helpers
def load(text: str):
    """A shipped file's data, read as promosim reads it."""
    return yaml.load(text, Loader=YamlLoader)


def dump(data) -> str:
    """YAML text of data (one value may be SENTINEL, replaced by a literal afterwards)."""
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=1000)


def leaves(data, path=()):
    """(path, value) of every scalar in nested mappings and lists."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, path + (k,))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            yield from leaves(v, path + (k,))
    else:
        yield path, data


def with_value(data, path, value):
    """A copy of data with the value at `path` replaced."""
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def with_literal(data, path, literal: str) -> str:
    """The YAML text of data with the value at `path` written as `literal`."""
    return dump(with_value(data, path, SENTINEL)).replace(SENTINEL, literal, 1)


def alias_bomb(levels: int, width: int = 10) -> str:
    """The "billion laughs": each level is `width` aliases of the level below."""
    lines = ["  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]")
    return "bomb:\n" + "\n".join(lines) + "\n"


def deep(levels: int, style: str) -> str:
    """A value nested `levels` deep, in flow or block style."""
    if style == "flow":
        return "deep: " + "[" * levels + "]" * levels + "\n"
    return "deep:\n" + "".join(f"{'  ' * (k + 1)}k{k}:\n" for k in range(levels)) + "  x\n"


def with_params_file(target: str) -> str:
    """double11_2021 with its inline rates replaced by `params_file: "target"`."""
    text = D11.replace("  dropout: {a: 0.8, b: 2.4}\n", "").replace(
        "  basket: {p: 6.0, q: 4.0, v: 80.0}\n", ""
    )
    return text.replace(
        "  purchase_rate: {r: 0.25, alpha: 5.0, time_unit_days: 7}\n",
        f'  params_file: "{target}"\n',
    )


def slug(path) -> str:
    """A path as part of a file name."""
    return "_".join(str(p) for p in path).replace(" ", "").replace(":", "")[:60]


# ----------------------------------------------------------------------------- scenarios
def number_cases() -> list[Case]:
    """Every number of three shipped scenarios, replaced by an extreme literal."""
    cases = []
    for source in ("double11_2021", "bluemoon_2018", "yeargoods_2024"):
        data = load((ROOT / "scenarios" / f"{source}.yaml").read_text(encoding="utf-8"))
        numbers = [
            p for p, v in leaves(data) if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        for k, path in enumerate(numbers):
            big = TOO_BIG[k % len(TOO_BIG)]
            cases.append(
                Case(
                    f"num_{source}_{slug(path)}_big.yaml", "scenario", with_literal(data, path, big)
                )
            )
            if k % 3 == 0:
                edge = EDGE[k // 3 % len(EDGE)]
                cases.append(
                    Case(
                        f"num_{source}_{slug(path)}_edge.yaml",
                        "scenario",
                        with_literal(data, path, edge),
                        codes=(0, 2),
                    )
                )
    return cases


def structure_cases() -> list[Case]:
    """Wrong types, deleted and renamed keys, truncations and duplicates of double11_2021."""
    data = load(D11)
    cases = []
    wrong = ["[1, 2]", "{a: 1}", "some text", "true", "null", "2021-11-11", "''"]
    paths = [p for p, _ in leaves(data)]
    for k, path in enumerate(paths[::4]):
        cases.append(
            Case(
                f"type_{slug(path)}.yaml",
                "scenario",
                with_literal(data, path, wrong[k % len(wrong)]),
                codes=(0, 2),
            )
        )
    sections = (
        [(key,) for key in data]
        + [("population", key) for key in data["population"]]
        + [("channels", "sms", key) for key in data["channels"]["sms"]]
    )
    for path in sections:
        trimmed = copy.deepcopy(data)
        node = trimmed
        for key in path[:-1]:
            node = node[key]
        value = node.pop(path[-1])
        cases.append(Case(f"del_{slug(path)}.yaml", "scenario", dump(trimmed), codes=(0, 2)))
        node[path[-1] + "x"] = value
        cases.append(Case(f"rename_{slug(path)}.yaml", "scenario", dump(trimmed)))
    size = len(D11)
    for k in range(1, 16):
        cut = size * k // 16
        cases.append(Case(f"cut_{cut}.yaml", "scenario", D11[:cut], codes=(0, 2)))
    for old in ("seed: 20211111\n", "  shoppers: 1000000\n", "    type: points\n"):
        cases.append(Case(f"dup_{slug([old.strip()])}.yaml", "scenario", D11.replace(old, old * 2)))
    cases += [
        Case("top_list.yaml", "scenario", "- 1\n- 2\n"),
        Case("top_scalar.yaml", "scenario", "just text\n"),
        Case("top_null.yaml", "scenario", "~\n"),
        Case("empty.yaml", "scenario", ""),
        Case("comments.yaml", "scenario", "# nothing\n" * 50),
        Case("tabs.yaml", "scenario", D11.replace("  shoppers", "\tshoppers")),
        Case("unclosed_quote.yaml", "scenario", D11.replace("name: Double", "name: 'Double")),
        Case("two_documents.yaml", "scenario", D11 + "---\n" + D11),
        Case("complex_key.yaml", "scenario", D11 + "? [a, b]\n: 1\n"),
    ]
    return cases


def limit_cases() -> list[Case]:
    """Alias bombs, deep nesting, huge and special files."""
    cases = []
    for levels, width in [(9, 10), (12, 10), (30, 2), (6, 100), (4, 10)]:
        codes = (2,)
        cases.append(
            Case(f"bomb_{levels}x{width}.yaml", "scenario", D11 + alias_bomb(levels, width), codes)
        )
        cases.append(
            Case(
                f"bomb_in_field_{levels}x{width}.yaml",
                "scenario",
                alias_bomb(levels, width) + D11.replace("description: ", "description: *l0 #"),
            )
        )
    cases.append(Case("alias_loop.yaml", "scenario", D11 + "loop: &a\n  again: *a\n"))
    cases.append(
        Case("alias_undefined.yaml", "scenario", D11.replace("seed: 20211111", "seed: *nope"))
    )
    depths = [("flow", n) for n in (101, 600, 5000, 100_000)] + [
        ("block", n)
        for n in (101, 600, 2000)  # block text grows with the square of the depth
    ]
    for style, levels in depths:
        cases.append(Case(f"deep_{style}_{levels}.yaml", "scenario", D11 + deep(levels, style)))
    many = "many: [" + ", ".join(["1"] * 150_000) + "]\n"
    cases += [
        Case("many_values.yaml", "scenario", D11 + many),
        Case("over_1mb_comments.yaml", "scenario", D11 + ("#" + "x" * 99 + "\n") * 11_000),
        Case("sparse_200mb.yaml", "scenario", special="sparse"),
        Case("fifo.yaml", "scenario", special="fifo"),
        Case("folder.yaml", "scenario", special="folder"),
        Case("dev_zero.yaml", "scenario", special="dev_zero"),
        Case("symlink_zero.yaml", "scenario", special="symlink_zero"),
        Case("random_bytes.yaml", "scenario", random.Random(13).randbytes(5000)),
        Case("utf16.yaml", "scenario", b"\xff\xfe" + D11.encode("utf-16-le")),
        Case(
            "latin1.yaml",
            "scenario",
            D11.encode().replace(b"description:", b"description: caf\xe9"),
        ),
        Case("nul_bytes.yaml", "scenario", D11.encode() + b"\x00\x00"),
        Case("utf8_bom.yaml", "scenario", b"\xef\xbb\xbf" + D11.encode(), codes=(0,)),
        Case(
            "explicit_int_tag.yaml",
            "scenario",
            D11.replace("shoppers: 1000000", "shoppers: !!int 017"),
        ),
        Case(
            "python_tag.yaml",
            "scenario",
            D11.replace("seed: 20211111", "seed: !!python/object:os.system [ls]"),
        ),
        Case("binary_tag.yaml", "scenario", D11.replace("name: Double", "name: !!binary aGk= #")),
    ]
    return cases


def literal_cases() -> list[Case]:
    """YAML 1.1 literals, bad dates, control characters and merge keys in double11_2021."""
    cases = []
    for literal in ["017", "0x10", "0o17", "0b101", "1:00:00", "+017"]:
        cases.append(
            Case(
                f"shoppers_{literal}.yaml",
                "scenario",
                D11.replace("shoppers: 1000000", f"shoppers: {literal}"),
            )
        )
    for literal in ["yes", "no", "on", "off", "Yes", "OFF"]:
        cases.append(
            Case(
                f"presale_{literal}.yaml",
                "scenario",
                D11.replace("presale: true", f"presale: {literal}"),
            )
        )
    cases.append(
        Case(
            "name_no.yaml",
            "scenario",
            D11.replace("name: Double 11 2021 (platform guidance)", "name: no"),
        )
    )
    start = "start: 2021-09-01\n  end:"
    for k, date in enumerate(
        [
            "1630454400",
            "1630454400.5",
            "2021-02-30",
            "2021-13-01",
            "2021-09-01 10:00:00",
            "09/01/2021",
            "20210901",
            "''",
            "true",
            "[2021-09-01]",
        ]
    ):
        cases.append(
            Case(f"date_{k}.yaml", "scenario", D11.replace(start, f"start: {date}\n  end:"))
        )
    for k, (name, codes) in enumerate(
        [
            (r'"\e[31mred"', (2,)),
            (r'"a\0b"', (2,)),
            (r'"\x9b2J"', (2,)),
            (r'"\ud800"', (2,)),
            ("''", (0, 2)),
            (r'"tab\there"', (0, 2)),
            (r'"\e]0;title\a"', (2,)),
        ]
    ):
        cases.append(
            Case(
                f"phase_name_{k}.yaml",
                "scenario",
                D11.replace("name: accumulation", f"name: {name}"),
            )
        )
        cases.append(
            Case(
                f"name_{k}.yaml",
                "scenario",
                D11.replace("name: Double 11 2021 (platform guidance)", f"name: {name}"),
                codes=codes,
            )
        )
    cases.append(
        Case("benefit_key_escape.yaml", "scenario", D11.replace("  points:", '  "\\e[2Jpoints":'))
    )
    cases.append(
        Case("raw_escape.yaml", "scenario", D11.replace("name: Double", "name: \x1b[31mDouble"))
    )
    merge = D11.replace(
        "  push: {kind: push,",
        "  push2:\n    <<: *sms\n    kind: push\n  push: {kind: push,",
    ).replace("  sms: {kind: sms,", "  sms: &sms {kind: sms,")
    cases += [
        Case("merge_ok.yaml", "scenario", merge, codes=(0, 2)),
        Case("merge_list.yaml", "scenario", merge.replace("<<: *sms", "<<: [*sms]"), codes=(0, 2)),
        Case("merge_scalar.yaml", "scenario", merge.replace("<<: *sms", "<<: 5")),
        Case(
            "merge_dup.yaml",
            "scenario",
            merge.replace("    kind: push\n", "    kind: push\n    kind: sms\n"),
        ),
    ]
    return cases


def reference_cases() -> list[Case]:
    """Bad references: touches, windows, extends and params files."""
    cases = [
        Case("ref_channel.yaml", "scenario", D11.replace("channel: livestream", "channel: tv")),
        Case("ref_benefit.yaml", "scenario", D11.replace("benefit: lockin_gift", "benefit: gold")),
        Case("ref_phase.yaml", "scenario", D11.replace("phases: [presale]}", "phases: [nope]}")),
        Case("extends_missing.yaml", "scenario", "extends: nowhere.yaml\nname: x\n"),
        Case("extends_self.yaml", "scenario", "extends: extends_self.yaml\nname: x\n"),
        Case("extends_folder.yaml", "scenario", "extends: .\nname: x\n"),
        Case("extends_zero.yaml", "scenario", "extends: /dev/zero\nname: x\n"),
        Case("extends_fifo.yaml", "scenario", "extends: parent_fifo.yaml\nname: x\n"),
        Case("extends_bomb.yaml", "scenario", "extends: parent_bomb.yaml\nname: x\n"),
        Case("extends_empty.yaml", "scenario", "extends: ''\nname: x\n"),
        Case("extends_number.yaml", "scenario", "extends: 5\nname: x\n"),
        Case("extends_ok.yaml", "scenario", "extends: double11_2021.yaml\nname: v\n", codes=(0,)),
    ]
    params_variants = {
        "bomb": PARAMS + alias_bomb(9),
        "deep": PARAMS + deep(700, "flow"),
        "binary": random.Random(5).randbytes(3000),
        "huge": PARAMS.replace("alpha: 4.788945468", "alpha: 1.0e+300"),
        "literal": PARAMS.replace("n_customers: 23570", "n_customers: 0x10"),
        "date": PARAMS.replace("calibration_end: 1997-09-30", "calibration_end: 875577600"),
        "list": "- 1\n",
        "ok": PARAMS,
    }
    for key, content in params_variants.items():
        name = f"params_{key}.yaml"
        codes = (0,) if key == "ok" else (2,)
        cases.append(
            Case(name, "scenario", with_params_file(f"fitted_{name}"), params=content, codes=codes)
        )
    for k, target in enumerate(["fitted_missing.yaml", ".", "/dev/zero", "parent_fifo.yaml"]):
        cases.append(Case(f"params_path_{k}.yaml", "scenario", with_params_file(target)))
    cases.append(Case("params_path_surrogate.yaml", "scenario", with_params_file("\\ud800")))
    return cases


# ----------------------------------------------------------------------------- other inputs
def targets_cases() -> list[Case]:
    """Hostile targets files for the bluemoon store (read by `calibrate targets`)."""
    return [
        Case("targets_bomb.yaml", "targets", TARGETS + alias_bomb(9)),
        Case("targets_deep.yaml", "targets", TARGETS + deep(1000, "block")),
        Case("targets_fifo.yaml", "targets", special="fifo"),
        Case("targets_binary.yaml", "targets", random.Random(7).randbytes(2000)),
        Case(
            "targets_literal.yaml",
            "targets",
            TARGETS.replace("tolerance: 16000", "tolerance: 0x10"),
        ),
        Case("targets_population.yaml", "targets", TARGETS.replace("2227273", "1" + "0" * 30)),
        Case(
            "targets_huge.yaml", "targets", TARGETS.replace("tolerance: 16000", "tolerance: 1e400")
        ),
        Case(
            "targets_date.yaml",
            "targets",
            TARGETS.replace("description: >-", "description: 2021-01-01\nx: >-"),
        ),
        Case(
            "targets_control.yaml",
            "targets",
            TARGETS.replace("description: >-", 'description: "\\e[5m"\nx: >-'),
        ),
    ]


def transactions_cases() -> list[Case]:
    """Hostile transaction logs (read by `calibrate bgnbd`), from the CDNOW master's head."""
    lines = CDNOW.splitlines(True)
    cases = [
        Case(f"tx_{p.stem}{p.suffix}", "transactions", p.read_bytes()) for p in BAD_TRANSACTIONS
    ]
    cases += [
        # the first 40 rows: 10 customers, too few to bound dropout (a boundary fit, exit 3)
        Case("tx_ok.txt", "transactions", CDNOW, codes=(0, 3)),
        Case("tx_fifo.txt", "transactions", special="fifo"),
        Case("tx_folder.txt", "transactions", special="folder"),
        Case("tx_zero.txt", "transactions", special="dev_zero"),
        Case("tx_sparse.txt", "transactions", special="sparse"),
        Case("tx_binary.txt", "transactions", random.Random(3).randbytes(4000)),
        Case("tx_nul.txt", "transactions", CDNOW.encode() + b"\x00 1 2\n"),
        Case("tx_id_2_64.txt", "transactions", CDNOW + f" {2**64} 19970101 1 1.00\n"),
        Case("tx_id_float.txt", "transactions", CDNOW + " 1e400 19970101 1 1.00\n"),
        Case("tx_amount_huge.txt", "transactions", CDNOW + " 00001 19970101 1 1e308\n"),
        Case("tx_amount_inf.txt", "transactions", CDNOW + " 00001 19970101 1 inf\n"),
        Case("tx_date_year_0.txt", "transactions", CDNOW + " 00001 00000101 1 1.00\n"),
        Case("tx_date_far.txt", "transactions", CDNOW + " 00001 99991231 1 1.00\n", codes=(0, 3)),
        Case("tx_only_header.txt", "transactions", lines[0]),
        Case("tx_one_row.txt", "transactions", lines[0] + lines[1], codes=(0, 2)),
        Case("tx_csv_quotes.csv", "transactions", 'customer_id,date,amount\n"a,1997-01-01,1\n'),
        Case(
            "tx_csv_control.csv",
            "transactions",
            "customer_id,date,amount\n\x1b[31m,1997-01-01,1\n",
            codes=(0, 2),
        ),
    ]
    return cases + export_cases()


def cdnow_as_export(sep: str = ",", decimal: str = ".") -> str:
    """The head of the CDNOW log as a CSV export with ISO dates."""
    rows = [line.split() for line in CDNOW.splitlines()[1:] if line.strip()]
    body = "".join(
        sep.join([c, f"{d[:4]}-{d[4:6]}-{d[6:]}", a.replace(".", decimal)]) + "\n"
        for c, d, _, a in rows
    )
    return sep.join(["customer_id", "date", "amount"]) + "\n" + body


def parquet_bytes(text: str) -> bytes:
    """A CSV export's text as the bytes of a Parquet file of text columns."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pcsv.read_csv(io.BytesIO(text.encode()))
    table = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def export_cases() -> list[Case]:
    """Hostile exports (issue 17): gzip bombs and breaks, Parquet garbage, refunds, styles."""
    export = cdnow_as_export()
    whole = gzip.compress(export.encode())
    member = gzip.compress(b"0" * 1_000_000, compresslevel=9)
    par = parquet_bytes(export)
    refunds = "".join(f"{c},{d},-{a}\n" for c, d, a in csv.reader(export.splitlines()[1:]))
    return [  # the same 10 customers as tx_ok.txt: a boundary fit, exit 3
        Case("tx_export_ok.csv", "transactions", export, codes=(0, 3)),
        Case("tx_export_gz.csv.gz", "transactions", whole, codes=(0, 3)),
        Case("tx_export_semicolon.csv", "transactions", cdnow_as_export(";", ","), codes=(0, 3)),
        Case(
            "tx_export_bom_crlf.csv",
            "transactions",
            "\ufeff" + export.replace("\n", "\r\n"),
            codes=(0, 3),
        ),
        Case("tx_export.parquet", "transactions", par, codes=(0, 3)),
        Case("tx_gzip_bomb.csv.gz", "transactions", member * 101),
        Case("tx_gzip_cut.csv.gz", "transactions", whole[: len(whole) // 2]),
        Case("tx_gzip_junk.csv.gz", "transactions", b"\x1f\x8b" + random.Random(4).randbytes(500)),
        Case("tx_parquet_cut.parquet", "transactions", par[: len(par) // 2]),
        Case("tx_parquet_junk.parquet", "transactions", b"PAR1" + random.Random(5).randbytes(500)),
        Case("tx_parquet_empty.parquet", "transactions", b"PAR1"),
        Case("tx_refunded.csv", "transactions", export + refunds),  # every day nets to 0
        Case("tx_export_nul.csv", "transactions", export + "00001,1997-01-01\x00,1\n"),
        Case("tx_export_ctrl_header.csv", "transactions", "\x1b[31m,date,amount\n1,1997-01-01,1\n"),
        Case("tx_export_sep_tie.csv", "transactions", "customer_id,date;amount\n"),
        Case("tx_export_quote.csv", "transactions", export + '00001,"1997-01-01,1\n'),
    ]


def corpus() -> list[Case]:
    """Every case, each file name once."""
    cases = (
        number_cases()
        + structure_cases()
        + limit_cases()
        + literal_cases()
        + reference_cases()
        + targets_cases()
        + transactions_cases()
        + [
            Case(f"shipped_{p.name}", "scenario", p.read_text(encoding="utf-8"), codes=(0,))
            for p in SCENARIOS
        ]
    )
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
