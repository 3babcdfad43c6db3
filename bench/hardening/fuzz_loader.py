"""A seeded fuzz of the case loader through the `allocator` command (issue 10, item 9).

Each case starts from a valid case (the bundled sample case, or a 40-child subset of the bundled
Lancashire case, each with a travel_times.csv, an expansions.csv and a what-if scenario), is
corrupted by one to three mutations (bytes flipped or inserted, other encodings, truncation, huge
and non-finite numbers, control characters, nested and oversized TOML, missing, extra and
repeated columns, wrong delimiters, empty and missing files, ids renamed to formula-like text;
some mutations keep the case valid, at extreme but allowed values), written as a case folder or
as an .xlsx workbook, and run through `cli.main.main` in this process with `sys.argv` set: the
code path of the installed command. Commands: solve (most), demo, sites, plan-places, whatif.

Counted: exit codes; tracebacks; stderr lines that are not a located problem
(`file:line: column: message` naming a case file, sheet or scenario) nor a known one-line form
(the progress line); warnings; partial outputs (OUT created, or a staging folder left, on an exit
other than 0); and wrong exit-0 results: outputs that the independent checker
(`allocator.checker`) rejects, given the case loaded again (with the plan or the scenario
applied for plan-places and whatif), or a run that accepted a cell holding a control character.

Run: .venv/bin/python -m bench.hardening.fuzz_loader [--quick] [--cases N] [--seed S] [--show K]
Targets: >= 10,000 cases (--quick: 300), 0 exit 1, 0 tracebacks, 0 unlocated lines, 0 warnings,
0 partial outputs, 0 wrong exit-0 results. The exit code is 1 when a target is missed.
"""

import argparse
import contextlib
import csv
import io
import json
import random
import re
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from allocator.checker import check_allocation, independent_travel
from allocator.estates.whatif import apply_scenario
from cli.main import main as allocator_main
from data.loader import LoadedCase, load_case
from data.scenario import parse_scenario, read_scenario_text
from models.case import Case as ModelCase
from models.case import PlaceOffer
from models.need import Need
from models.results import Allocation, Placement, RunSummary, UnplacedReason

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
LANCASHIRE = REPO / "data" / "lancashire" / "case"
CASE_FILES = (
    "schools.csv",
    "places.csv",
    "children.csv",
    "preferences.csv",
    "travel_times.csv",
    "policy.toml",
    "expansions.csv",
)
SCENARIO = "scenario.toml"
SHEETS = {name.rsplit(".", 1)[0] for name in CASE_FILES}
LOCATED = re.compile(r"^([^:]+):\d+: [^:]+: .+$")
PROGRESS = re.compile(r"^allocator: [a-z ,-]+ \(\d+s\)$")
FULL_CASES, QUICK_CASES = 10_000, 300
TIME_LIMIT = "10"

Files = dict[str, bytes]


# --- the valid cases the fuzz starts from ------------------------------------------------


def _sample() -> tuple[Files, str]:
    files = {name: (SAMPLE / name).read_bytes() for name in CASE_FILES if (SAMPLE / name).is_file()}
    files["travel_times.csv"] = b"child_id,school_id,minutes\nC001,S1,12\nC002,S3,9\nC004,S2,20\nC009,S2,95\n"
    files["expansions.csv"] = b"school_id,need,max_extra\nS1,ASD,2\nS2,SEMH,1\nC1,SEMH,2\n"
    scenario = (
        'open_sites = 1\nclose_schools = ["S3"]\nopen_candidates = ["C1"]\n\n[max_travel_minutes]\nprimary = 50\n\n'
        '[[add_places]]\nschool_id = "S1"\nneed = "ASD"\nplaces = 1\n\n[[remove_places]]\nschool_id = "S2"\n'
        'need = "SEMH"\nplaces = 1\n\n[demand_growth_percent]\nASD = 50\n'
    )
    return files, scenario


def _lancashire(children: int = 40) -> tuple[Files, str]:
    def rows(name: str) -> list[list[str]]:
        with (LANCASHIRE / name).open(newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def text(table: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(table)
        return buffer.getvalue().encode()

    kids = rows("children.csv")[: children + 1]
    ids = {row[0] for row in kids[1:]}
    preferences = [row for index, row in enumerate(rows("preferences.csv")) if index == 0 or row[0] in ids]
    schools = [row[0] for row in rows("schools.csv")[1:]]
    generator = random.Random(7)
    travel = [["child_id", "school_id", "minutes"]] + [
        [child, generator.choice(schools), str(generator.randint(3, 90))] for child in sorted(ids)[:25]
    ]
    travel = [travel[0]] + sorted({tuple(row[:2]): row for row in travel[1:]}.values())
    files = {
        "schools.csv": (LANCASHIRE / "schools.csv").read_bytes(),
        "places.csv": (LANCASHIRE / "places.csv").read_bytes(),
        "children.csv": text(kids),
        "preferences.csv": text(preferences),
        "travel_times.csv": text(travel),
        "policy.toml": (LANCASHIRE / "policy.toml").read_bytes(),
        "expansions.csv": (LANCASHIRE / "expansions.csv").read_bytes(),
    }
    scenario = (
        'open_sites = 2\nclose_schools = ["LAN-SP-05"]\nopen_candidates = ["LAN-CAND-01"]\n\n'
        '[[add_places]]\nschool_id = "LAN-SP-09"\nneed = "ASD"\nplaces = 2\n\n[demand_growth_percent]\nSEMH = 5\n'
    )
    return files, scenario


# --- mutations ---------------------------------------------------------------------------

HOSTILE_NUMBERS = (
    "123456789012345678901234567890",
    "9" * 400,
    "9" * 5000,
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1e20",
    "1e308",
    "1e400",
    "-1e400",
    "1e-400",
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "-0",
    "0x10",
    "1_000",
    "+5",
    "\u0663",
    "\uff15",
    "5.5",
    "-1",
    "1e5",
    " 7 ",
    "",
)
REFUSED = ("\n", "\r", "\r\n", "\t", "\x00", "\ufeff", "\u202e", "\u200b", "\x85", "\u2028", "\x1b", "\x7f", "\x0b")
FORMULA_IDS = ("=1+1", "-123", "+44", "@SUM(A1)", '=HYPERLINK("x")', "'quoted", " spaced id ", "Ünïcode-ÿ", "a;b")
LONG_IDS = ("x" * 64, "y" * 65, "z" * 5000)
# Valid values at the edges of the stated limits (README, "Limits on numbers and text").
EXTREME_POLICIES = (
    "open_sites = 10000\nunranked_cost = 1000\n[max_travel_minutes]\nprimary = 100000\nsecondary = 100000\n"
    "[travel_estimate]\nspeed_kmh = 1\ncircuity = 10\n",
    "open_sites = 0\nunranked_cost = 0\n[max_travel_minutes]\nprimary = 0\nsecondary = 0\n"
    "[travel_estimate]\nspeed_kmh = 200\ncircuity = 1\ntransport_cost_gbp = 10000000\n",
    "unranked_cost = 1000\n[travel_estimate]\nspeed_kmh = 1.0\ncircuity = 10.0\n",
)
HOSTILE_POLICIES = (
    "open_sites = 99999999999999999999999999999\n",
    "unranked_cost = 9223372036854775807\n",
    "[travel_estimate]\ncircuity = 1e300\nspeed_kmh = 1e-300\n",
    "[travel_estimate]\ncircuity = inf\nspeed_kmh = nan\n",
    "[travel_estimate]\nspeed_kmh = 0\n",
    "[max_travel_minutes]\nprimary = -1\nsecondary = 1e20\n",
    "transport_cost_gbp = inf\n",
    "transport_cost_gbp = 1e300\n",
    'open_sites = "1"\n',
    '"open:sites" = 1\n',
    '"a\\nb" = 1\n',
    'x = "\\u0000"\n',
    "open_sites = 1\nopen_sites = 2\n",
    "[max_travel_minutes]\nprimary = [1, [2, [3]]]\n",
)


def _nested_toml(generator: random.Random) -> str:
    depth = generator.choice((19, 20, 21, 25, 100, 1000, 5000, 100_000))
    kind = generator.randrange(5)
    if kind == 0:
        return "a = " + "[" * depth + "]" * depth + "\n"
    if kind == 1:
        return "a = " + "{b = " * depth + "1" + "}" * depth + "\n"
    if kind == 2:
        return ".".join(["a"] * depth) + " = 1\n"
    if kind == 3:
        return "[" + ".".join(["t"] * depth) + "]\nx = 1\n"
    return "a = " + "[{b = " * depth + "1" + "}]" * depth + "\n"


def _oversized_toml(generator: random.Random) -> str:
    if generator.random() < 0.5:
        return "# " + "x" * 1_100_000 + "\nopen_sites = 1\n"
    return 'open_sites = 1\nnote = "' + "y" * 1_100_000 + '"\n'


def _decode(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def _table(content: bytes) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None


def _write_table(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def _csv_names(files: Files) -> list[str]:
    return [name for name in files if name.endswith(".csv")]


@dataclass
class Case:
    """One fuzzed case: its files, scenario text, and how it was made."""

    files: Files
    scenario: bytes
    mutations: list[str] = field(default_factory=list)
    workbook_cells: list[tuple[str, int, int, object]] = field(default_factory=list)  # sheet, row, column, value


Mutation = Callable[[Case, random.Random], None]


def _pick_file(case: Case, generator: random.Random, csv_only: bool = False) -> str | None:
    names = _csv_names(case.files) if csv_only else [*case.files, SCENARIO]
    return generator.choice(names) if names else None


def _get(case: Case, name: str) -> bytes:
    return case.scenario if name == SCENARIO else case.files[name]


def _set(case: Case, name: str, content: bytes) -> None:
    if name == SCENARIO:
        case.scenario = content
    else:
        case.files[name] = content


def flip_bytes(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator)
    if name is None or not _get(case, name):
        return
    data = bytearray(_get(case, name))
    for _ in range(generator.randint(1, 8)):
        data[generator.randrange(len(data))] = generator.randrange(256)
    _set(case, name, bytes(data))
    case.mutations.append(f"flip:{name}")


def insert_bytes(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator)
    if name is None:
        return
    data = bytearray(_get(case, name))
    for _ in range(generator.randint(1, 4)):
        special = generator.choice([b"\x00", b"\r", b"\n", b"\xef\xbb\xbf", b"\xff", b'"', b",", b"\t", b"\\", b"["])
        at = generator.randint(0, len(data))
        data[at:at] = special
    _set(case, name, bytes(data))
    case.mutations.append(f"insert:{name}")


def truncate(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator)
    if name is None:
        return
    data = _get(case, name)
    _set(case, name, data[: generator.randint(0, len(data))])
    case.mutations.append(f"truncate:{name}")


def encode(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator)
    if name is None:
        return
    text = _decode(_get(case, name))
    if generator.random() < 0.5:
        text = text.replace("School", "Schöol").replace("a", "\u00e9", 1)
    encoding = generator.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "utf-8-sig"))
    _set(case, name, text.encode(encoding, errors="replace"))
    case.mutations.append(f"encode-{encoding}:{name}")


def _random_cell(rows: list[list[str]], generator: random.Random) -> tuple[int, int] | None:
    cells = [(r, c) for r in range(1, len(rows)) for c in range(len(rows[r]))]
    return generator.choice(cells) if cells else None


def _numeric_cell(rows: list[list[str]], generator: random.Random) -> tuple[int, int] | None:
    cells = [(r, c) for r in range(1, len(rows)) for c in range(len(rows[r])) if re.fullmatch(r"-?[\d.]+", rows[r][c])]
    return generator.choice(cells) if cells else None


def hostile_number(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    rows = _table(case.files[name]) if name else None
    spot = _numeric_cell(rows, generator) if rows else None
    if name is None or rows is None or spot is None:
        return
    value = generator.choice(HOSTILE_NUMBERS)
    rows[spot[0]][spot[1]] = value
    case.files[name] = _write_table(rows)
    case.mutations.append(f"number:{name}:{rows[0][spot[1]] if spot[1] < len(rows[0]) else '?'}={value[:12]!r}")


def control_character(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    rows = _table(case.files[name]) if name else None
    spot = _random_cell(rows, generator) if rows else None
    if name is None or rows is None or spot is None:
        return
    char = generator.choice(REFUSED)
    cell = rows[spot[0]][spot[1]]
    at = generator.randint(0, len(cell))
    rows[spot[0]][spot[1]] = cell[:at] + char + cell[at:]
    case.files[name] = _write_table(rows)
    case.mutations.append(f"control:{name}:{char!r}")


def header_control(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    rows = _table(case.files[name]) if name else None
    if name is None or not rows or not rows[0]:
        return
    column = generator.randrange(len(rows[0]))
    rows[0][column] = rows[0][column] + generator.choice(REFUSED)
    case.files[name] = _write_table(rows)
    case.mutations.append(f"header-control:{name}")


def rename_id(case: Case, generator: random.Random) -> None:
    """An id renamed everywhere (formula-like, long, or with a control character): the case stays
    consistent, so only the id itself can make it invalid."""
    table = _table(case.files.get("children.csv" if generator.random() < 0.6 else "schools.csv", b""))
    if not table or len(table) < 2:
        return
    old = generator.choice(table[1:])[0] if table[1:] and table[1:][0] else ""
    if not old:
        return
    new = generator.choice(FORMULA_IDS + LONG_IDS + tuple(f"K{c}1" for c in REFUSED[:6]))
    for name in _csv_names(case.files):
        rows = _table(case.files[name])
        if rows is None:
            continue
        case.files[name] = _write_table([[new if cell == old else cell for cell in row] for row in rows])
    case.scenario = case.scenario.replace(f'"{old}"'.encode(), json.dumps(new).encode())
    case.mutations.append(f"rename:{old}->{new[:12]!r}")


def columns(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    rows = _table(case.files[name]) if name else None
    if name is None or not rows or not rows[0]:
        return
    width = len(rows[0])
    column = generator.randrange(width)
    kind = generator.choice(("drop", "extra", "repeat", "reorder", "rename"))
    if kind == "drop":
        rows = [[cell for index, cell in enumerate(row) if index != column] for row in rows]
    elif kind == "extra":
        rows = [
            row + (["note"] if index == 0 else [generator.choice(("", "x", "1", "=2"))])
            for index, row in enumerate(rows)
        ]
    elif kind == "repeat":
        rows = [row + [row[column] if column < len(row) else ""] for row in rows]
    elif kind == "reorder":
        order = list(range(width))
        generator.shuffle(order)
        rows = [[row[index] for index in order if index < len(row)] for row in rows]
    else:
        rows[0][column] = generator.choice(("", "School ID", rows[0][column].upper(), "a:b", rows[0][column] + " "))
    case.files[name] = _write_table(rows)
    case.mutations.append(f"column-{kind}:{name}")


def row_shape(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    rows = _table(case.files[name]) if name else None
    if name is None or not rows:
        return
    kind = generator.choice(("duplicate", "delete", "short", "long", "blank", "crlf", "quoted", "header-only"))
    at = generator.randrange(len(rows))
    if kind == "duplicate":
        rows.insert(at, list(rows[at]))
    elif kind == "delete" and len(rows) > 1:
        del rows[generator.randrange(1, len(rows))]
    elif kind == "short":
        rows[at] = rows[at][:-1]
    elif kind == "long":
        rows[at] = rows[at] + ["extra"]
    elif kind == "header-only":
        rows = rows[:1]
    content = _write_table(rows)
    if kind == "blank":
        lines = content.split(b"\n")
        lines.insert(generator.randrange(len(lines) + 1), b"")
        content = b"\n".join(lines)
    elif kind == "crlf":
        content = content.replace(b"\n", b"\r\n")
    elif kind == "quoted":
        content = _write_quoted(rows)
    case.files[name] = content
    case.mutations.append(f"row-{kind}:{name}")


def _write_quoted(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue().encode()


def delimiter(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator, csv_only=True)
    if name is None:
        return
    separator = generator.choice((b";", b"\t", b"|", b" "))
    case.files[name] = case.files[name].replace(b",", separator)
    case.mutations.append(f"delimiter-{separator!r}:{name}")


def empty(case: Case, generator: random.Random) -> None:
    name = _pick_file(case, generator)
    if name is None:
        return
    kind = generator.choice(("empty", "blank", "bom", "missing", "header"))
    if kind == "missing" and name != SCENARIO:
        del case.files[name]
    else:
        content = {"empty": b"", "blank": b"\n \n\r\n", "bom": b"\xef\xbb\xbf", "header": b"\xef\xbb\xbf\n"}.get(
            kind, b""
        )
        _set(case, name, content)
    case.mutations.append(f"{kind}:{name}")


def toml(case: Case, generator: random.Random) -> None:
    name = generator.choice(("policy.toml", SCENARIO))
    kind = generator.choice(("nested", "oversized", "hostile", "extreme", "append-hostile"))
    if kind == "nested":
        text = _nested_toml(generator)
    elif kind == "oversized":
        text = _oversized_toml(generator)
    elif kind == "hostile":
        text = generator.choice(HOSTILE_POLICIES)
    elif kind == "extreme":
        text = generator.choice(EXTREME_POLICIES) if name == "policy.toml" else _extreme_scenario(generator)
    else:
        text = _decode(_get(case, name) if name != SCENARIO or case.scenario else b"") + generator.choice(
            HOSTILE_POLICIES + ('[[add_places]]\nschool_id = "S1"\nneed = "ASD"\nplaces = 100000\n',)
        )
    _set(case, name, text.encode())
    case.mutations.append(f"toml-{kind}:{name}")


def _extreme_scenario(generator: random.Random) -> str:
    return generator.choice(
        (
            "open_sites = 10000\n[max_travel_minutes]\nprimary = 100000\nsecondary = 0\n",
            "[demand_growth_percent]\nASD = 1000\nSEMH = 0\n",
            "[demand_growth_percent]\nASD = 1e400\n",
            "[demand_growth_percent]\nASD = nan\n",
            "[demand_growth_percent]\nASD = 1001\n",
            "open_sites = 10001\n",
            "[max_travel_minutes]\nprimary = 100001\n",
            'close_schools = ["' + "x" * 70 + '"]\n',
            'close_schools = ["S\\u00001"]\n',
            '[[remove_places]]\nschool_id = "S1"\nneed = "ASD"\nplaces = 99999999999999999999\n',
        )
    )


def extreme_values(case: Case, generator: random.Random) -> None:
    """Valid values at the edges of the limits: the run must succeed and be right."""
    name = generator.choice(("children.csv", "schools.csv", "preferences.csv", "places.csv", "travel_times.csv"))
    rows = _table(case.files.get(name, b""))
    if not rows or len(rows) < 2:
        return
    header = rows[0]
    edges = {
        "lat": ("90", "-90", "0", "-89.999999"),
        "lon": ("180", "-180", "179.9999", "0"),
        "age": ("0", "25"),
        "age_min": ("0",),
        "age_max": ("25",),
        "priority": ("100", "0"),
        "rank": ("1000",),
        "places": ("100000", "0"),
        "minutes": ("10080", "0"),
        "annual_place_cost_gbp": ("10000000", "0", "0.5"),
    }
    row = rows[generator.randrange(1, len(rows))]
    columns_here = [(index, column) for index, column in enumerate(header) if column in edges and index < len(row)]
    if not columns_here:
        return
    index, column = generator.choice(columns_here)
    row[index] = generator.choice(edges[column])
    case.files[name] = _write_table(rows)
    case.mutations.append(f"edge:{name}:{column}={row[index]}")


MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (flip_bytes, 10),
    (insert_bytes, 6),
    (truncate, 6),
    (encode, 5),
    (hostile_number, 14),
    (control_character, 10),
    (header_control, 3),
    (rename_id, 8),
    (columns, 8),
    (row_shape, 8),
    (delimiter, 4),
    (empty, 5),
    (toml, 10),
    (extreme_values, 8),
)


def make_case(index: int, seed: int, bases: list[tuple[Files, str]]) -> tuple[Case, str, bool]:
    """Case `index` of the run seeded `seed`: the case, its command and whether it is a workbook."""
    generator = random.Random(seed * 1_000_003 + index)
    files, scenario = generator.choice(bases)
    case = Case(dict(files), scenario.encode())
    functions = [function for function, _ in MUTATIONS]
    weights = [weight for _, weight in MUTATIONS]
    for function in generator.choices(functions, weights, k=generator.choice((1, 1, 1, 2, 3))):
        function(case, generator)
    command = generator.choices(("solve", "demo", "sites", "plan-places", "whatif"), (60, 4, 8, 12, 16))[0]
    workbook = generator.random() < 0.12
    if workbook:
        _workbook_mutations(case, generator)
    return case, command, workbook


def _workbook_mutations(case: Case, generator: random.Random) -> None:
    """Cells a workbook holds that a CSV file cannot: numbers, booleans, dates, long text."""
    for _ in range(generator.randint(0, 3)):
        sheet = generator.choice(sorted(SHEETS))
        value = generator.choice(
            (1e20, float("inf"), float("nan"), -1.5, 10**30, 2**63, True, 45.0, "K\n1", "\ufeffS1", "x" * 300, None)
        )
        case.workbook_cells.append((sheet, generator.randint(1, 6), generator.randint(1, 9), value))
        case.mutations.append(f"cell:{sheet}={value!r:.12}")


def write_workbook(case: Case, path: Path, generator: random.Random) -> None:
    """The case's files as sheets (as far as each reads as CSV); unreadable files are left out."""
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    for name, content in case.files.items():
        title = name.rsplit(".", 1)[0]
        rows = _policy_rows(content) if name == "policy.toml" else _table(content)
        if rows is None:
            continue
        sheet = book.create_sheet(title)
        for row in rows:
            # XML cannot hold most control characters: a workbook cannot either (newline, tab and
            # carriage return it can)
            sheet.append([_typed(ILLEGAL_CHARACTERS_RE.sub("", cell)) for cell in row])
    for title, row_number, column, value in case.workbook_cells:
        if title in book.sheetnames:
            with contextlib.suppress(ValueError, TypeError):
                book[title].cell(row=row_number, column=column, value=value)
    book.save(path)
    if generator.random() < 0.15:  # the file itself broken
        data = bytearray(path.read_bytes())
        if generator.random() < 0.5:
            data = data[: generator.randrange(len(data))]
        else:
            for _ in range(generator.randint(1, 20)):
                data[generator.randrange(len(data))] = generator.randrange(256)
        path.write_bytes(bytes(data))


def _policy_rows(content: bytes) -> list[list[str]] | None:
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    rows = [["key", "value"]]
    stack: list[tuple[str, object]] = [("", raw)]
    while stack:  # iteratively: a fuzzed policy may nest deeper than Python's recursion limit
        prefix, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{prefix}.{key}" if prefix else str(key), inner) for key, inner in reversed(value.items()))
        else:
            try:
                rows.append([prefix, str(value)])
            except RecursionError:  # an array nested too deep for str(): left out
                continue
    return rows


def _typed(cell: str) -> object:
    """A cell as an officer's spreadsheet would hold it: numbers as numbers."""
    if re.fullmatch(r"-?\d{1,15}", cell):
        return int(cell)
    if re.fullmatch(r"-?\d+\.\d+", cell):
        return float(cell)
    return cell


# --- running one case --------------------------------------------------------------------


@dataclass
class Outcome:
    code: int | str
    stderr: str
    warnings: int


@contextlib.contextmanager
def _argv(arguments: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = ["allocator", *arguments]
    try:
        yield
    finally:
        sys.argv = saved


def run_command(arguments: list[str]) -> Outcome:
    """`allocator ARGUMENTS` in this process, as the installed command runs it (`cli.main.main`)."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str
    with warnings.catch_warnings(record=True) as seen, _argv(arguments):
        warnings.simplefilter("always")  # every warning counts, not only the first of each place
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                allocator_main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except BaseException:  # noqa: BLE001 - it escaped main: a person would see a traceback
                traceback.print_exc(file=err)
                code = "escaped"
    for warning in seen:  # what the real command would have printed to stderr
        err.write(warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno))
    return Outcome(code, err.getvalue(), len(seen))


def command_arguments(command: str, case_path: Path, scenario: Path, out: Path, generator: random.Random) -> list[str]:
    if command == "plan-places":
        add = generator.choice(("0", "1", "5", "200", "-1"))
        return ["plan-places", str(case_path), "--add", add, "--out", str(out), "--time-limit", TIME_LIMIT]
    if command == "whatif":
        return ["whatif", str(case_path), str(scenario), "--out", str(out), "--time-limit", TIME_LIMIT]
    if command == "demo":
        return ["demo", str(case_path), "--out", str(out), "--time-limit", TIME_LIMIT]
    return [command, str(case_path), "--out", str(out), "--time-limit", TIME_LIMIT]


def unlocated_lines(stderr: str, known_files: set[str]) -> list[str]:
    """stderr lines that are neither a located problem in a known file nor the progress line."""
    wrong = []
    lines = stderr.split("\n")
    for line in lines[:-1] if lines[-1] == "" else lines:
        match = LOCATED.match(line)
        located = match is not None and (match.group(1) in known_files or match.group(1).strip().lower() in SHEETS)
        if not located and not PROGRESS.match(line):
            wrong.append(line)
    return wrong


# --- the independent check of an exit-0 result ---------------------------------------------


def check_result(command: str, case_path: Path, scenario: Path, out: Path) -> list[str]:
    """What is wrong with an exit-0 result: a cell holding a control character that the run
    accepted, and what the checker finds wrong with the allocation written (`sites` writes none:
    its files must be there)."""
    accepted = _refused_cells_in(case_path, command)
    if command == "sites":
        missing = [name for name in ("sites.csv", "sites.json", "marginal.csv") if not (out / name).is_file()]
        return accepted + [f"{name} missing" for name in missing]
    loaded = load_case(case_path)
    case = loaded.case
    if command == "plan-places":
        case = _with_plan(case, out / "plan.csv")
    if command == "whatif":
        text = read_scenario_text(scenario)
        parsed = parse_scenario(text, case, scenario.name)
        loaded = apply_scenario(loaded, parsed, text)
        case = loaded.case
    given = _given(loaded)
    if command != "whatif":  # a scenario adds children with copies of given figures
        accepted += _travel_misread(case_path, given)
    allocation = _allocation_from(out, case)
    if command == "whatif":
        # The scenario opens its `open_candidates` by making them ordinary schools, and lists them
        # in `opened_sites` (README, what-if): against the edited case they are not candidates.
        summary = allocation.summary
        opened = [site for site in summary.opened_sites if site not in parsed.open_candidates]
        allocation = allocation.model_copy(update={"summary": summary.model_copy(update={"opened_sites": opened})})
    return accepted + check_allocation(case, independent_travel(case, given), allocation)


REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _refused_cells_in(case_path: Path, command: str) -> list[str]:
    """Cells of the files the command read that hold a control or format character (written here
    from the README's rule, not taken from the loader); a file's leading byte-order mark is not
    in a cell."""
    cells: list[tuple[str, str]] = []
    if case_path.is_dir():
        for name in CASE_FILES:
            path = case_path / name
            if name.endswith(".csv") and path.is_file() and (name != "expansions.csv" or command == "plan-places"):
                text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
                cells += [(name, cell) for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    else:
        book = openpyxl.load_workbook(case_path, read_only=True, data_only=True)
        wanted = SHEETS if command == "plan-places" else SHEETS - {"expansions"}
        for sheet in book.worksheets:
            if sheet.title.strip().lower() in wanted:
                rows = sheet.iter_rows(values_only=True)
                cells += [(sheet.title, value) for row in rows for value in row if isinstance(value, str)]
        book.close()
    return [
        f"{name}: {cell!r} accepted"
        for name, cell in cells
        if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in cell)
    ]


def _travel_misread(case_path: Path, given: dict[tuple[str, str], int]) -> list[str]:
    """travel_times.csv read again with the csv module: every row must be a pair the run used,
    with its figure (pandas reads that file; a row it misread would pass every other check)."""
    path = case_path / "travel_times.csv"
    if not path.is_file():
        return []
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(io.StringIO(path.read_bytes().decode("utf-8").removeprefix("\ufeff"), newline=""))
        if any(cell.strip() for cell in row)
    ]
    index = {column: position for position, column in enumerate(rows[0])}
    expected = {
        (row[index["child_id"]], row[index["school_id"]]): int(float(row[index["minutes"]])) for row in rows[1:]
    }
    return [] if expected == given else [f"travel_times.csv read as {len(given)} pair(s), written as {len(expected)}"]


def _given(loaded: LoadedCase) -> dict[tuple[str, str], int]:
    travel, case = loaded.travel, loaded.case
    children = [child.child_id for child in case.children]
    schools = [school.school_id for school in case.schools]
    return {
        (children[int(key) // travel.school_count], schools[int(key) % travel.school_count]): int(minutes)
        for key, minutes in zip(travel.keys, travel.minutes, strict=True)
    }


def _with_plan(case: ModelCase, plan: Path) -> ModelCase:
    extra: Counter[tuple[str, str]] = Counter()
    with plan.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            extra[(_unprefixed(row["school_id"], {s.school_id for s in case.schools}), row["need"])] += int(
                row["extra_places"]
            )
    offers = [
        o.model_copy(update={"places": o.places + extra.pop((o.school_id, o.need.value), 0)}) for o in case.places
    ]
    offers += [PlaceOffer(school_id=s, need=Need(n), places=count) for (s, n), count in sorted(extra.items())]
    return case.model_copy(update={"places": tuple(offers)})


def _unprefixed(cell: str, known: set[str]) -> str:
    """An id as the case has it: outputs may prefix a cell a spreadsheet would run with `'`."""
    return cell[1:] if cell not in known and cell.startswith("'") and cell[1:] in known else cell


def _allocation_from(out: Path, case: ModelCase) -> Allocation:
    children = {child.child_id for child in case.children}
    schools = {school.school_id for school in case.schools}
    placements = []
    with (out / "allocation.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, _, sentence = row["reason"].partition(": ")
            placements.append(
                Placement(
                    child_id=_unprefixed(row["child_id"], children),
                    school_id=_unprefixed(row["school_id"], schools) or None,
                    travel_minutes=int(row["travel_minutes"]) if row["travel_minutes"] else None,
                    preference_rank=int(row["preference_rank"]) if row["preference_rank"] else None,
                    reason=UnplacedReason(code) if code else None,
                    explanation=sentence,
                )
            )
    summary = RunSummary.model_validate(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    return Allocation(placements=tuple(placements), summary=summary)


# --- the run -----------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    exit_codes: Counter[str] = field(default_factory=Counter)
    tracebacks: int = 0
    unlocated: int = 0
    warnings: int = 0
    partial: int = 0
    checked: int = 0
    wrong: int = 0
    failures: list[str] = field(default_factory=list)
    mutations: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)

    def fail(self, text: str) -> None:
        self.failures.append(text)


def run_case(
    index: int, seed: int, bases: list[tuple[Files, str]], work: Path, tally: Tally, log: TextIO | None = None
) -> None:
    case, command, workbook = make_case(index, seed, bases)
    generator = random.Random(seed * 7_919 + index)
    folder = work / f"c{index}"
    folder.mkdir()
    case_dir = folder / "case"
    case_dir.mkdir()
    for name, content in case.files.items():
        (case_dir / name).write_bytes(content)
    scenario = folder / SCENARIO
    scenario.write_bytes(case.scenario)
    case_path = case_dir
    if workbook:
        case_path = folder / "round.xlsx"
        write_workbook(case, case_path, generator)
    out = folder / "out"
    arguments = command_arguments(command, case_path, scenario, out, generator)
    if log is not None:
        log.write(f"{index} {' '.join(arguments[:1])} {case.mutations}\n")
        log.flush()
    outcome = run_command(arguments)
    if log is not None:
        log.write(f"{index} exit {outcome.code}\n")
    known = set(CASE_FILES) | {SCENARIO, str(case_path), case_path.name, "--add"}
    label = f"case {index} [{command}{' workbook' if workbook else ''}: {', '.join(case.mutations) or 'unchanged'}]"
    tally.cases += 1
    tally.exit_codes[str(outcome.code)] += 1
    tally.commands[command] += 1
    for mutation in case.mutations:
        tally.mutations[mutation.split(":", 1)[0]] += 1
    if "Traceback (most recent call last)" in outcome.stderr or outcome.code == "escaped":
        tally.tracebacks += 1
        tally.fail(f"{label}: traceback\n{outcome.stderr[-2000:]}")
    if outcome.code == 1:
        tally.fail(f"{label}: exit 1: {outcome.stderr.strip()[:500]}")
    bad_lines = unlocated_lines(outcome.stderr, known)
    if bad_lines:
        tally.unlocated += len(bad_lines)
        tally.fail(f"{label}: unlocated: {bad_lines[:3]!r}")
    if outcome.warnings:
        tally.warnings += outcome.warnings
        tally.fail(f"{label}: {outcome.warnings} warning(s): {outcome.stderr[-500:]!r}")
    leftovers = [path.name for path in folder.iterdir() if path.name.startswith(".out.")]
    if outcome.code != 0 and (out.exists() or leftovers):
        tally.partial += 1
        tally.fail(f"{label}: exit {outcome.code} but output written: {out.exists()} {leftovers}")
    if outcome.code == 0:
        try:
            found = check_result(command, case_path, scenario, out)
        except Exception as error:  # noqa: BLE001 - the check itself failing is a wrong result
            found = [f"the check failed: {type(error).__name__}: {error}"]
        tally.checked += 1
        if found:
            tally.wrong += 1
            tally.fail(f"{label}: checker: {found[:3]}")
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CASES} cases instead of {FULL_CASES:,}")
    parser.add_argument("--cases", type=int, default=None, help="number of cases")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--first", type=int, default=0, help="index of the first case (to repeat one)")
    parser.add_argument("--show", type=int, default=10, help="failures to print")
    parser.add_argument("--log", type=Path, default=None, help="write each case's index and mutations here first")
    options = parser.parse_args()
    count = options.cases or (QUICK_CASES if options.quick else FULL_CASES)
    target_cases = min(count, QUICK_CASES if options.quick else FULL_CASES)
    bases = [_sample(), _lancashire()]
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-loader-") as work, contextlib.ExitStack() as stack:
        log = stack.enter_context(options.log.open("w", encoding="utf-8")) if options.log else None
        for index in range(options.first, options.first + count):
            run_case(index, options.seed, bases, Path(work), tally, log)
    seconds = time.perf_counter() - started
    _print(tally, options.seed, seconds, options.show, sys.stdout)
    missed = [
        name
        for name, ok in (
            (f"cases >= {target_cases:,}", tally.cases >= target_cases),
            ("0 exit 1", tally.exit_codes["1"] == 0),
            ("0 tracebacks", tally.tracebacks == 0),
            ("0 unlocated lines", tally.unlocated == 0),
            ("0 warnings", tally.warnings == 0),
            ("0 partial outputs", tally.partial == 0),
            ("0 wrong exit-0 results", tally.wrong == 0),
        )
        if not ok
    ]
    print("targets: " + ("all met" if not missed else "MISSED: " + ", ".join(missed)))
    sys.exit(1 if missed else 0)


def _print(tally: Tally, seed: int, seconds: float, show: int, stream: TextIO) -> None:
    codes = ", ".join(f"{code}: {count:,}" for code, count in sorted(tally.exit_codes.items()))
    print(f"loader fuzz: {tally.cases:,} cases (seed {seed}) in {seconds:.1f} s", file=stream)
    print(f"  exit codes: {codes}", file=stream)
    print(f"  exit 1: {tally.exit_codes['1']:,}", file=stream)
    print(f"  tracebacks: {tally.tracebacks:,}", file=stream)
    print(f"  unlocated stderr lines: {tally.unlocated:,}", file=stream)
    print(f"  warnings: {tally.warnings:,}", file=stream)
    print(f"  partial outputs: {tally.partial:,}", file=stream)
    print(
        f"  exit-0 results checked: {tally.checked:,}, wrong: {tally.wrong:,} "
        "(rejected by the checker, or a control character accepted)",
        file=stream,
    )
    print(
        "  commands: " + ", ".join(f"{name} {count:,}" for name, count in sorted(tally.commands.items())), file=stream
    )
    print(
        "  mutations: " + ", ".join(f"{name} {count:,}" for name, count in tally.mutations.most_common()), file=stream
    )
    for failure in tally.failures[:show]:
        print("  FAIL " + failure, file=stream)
    if len(tally.failures) > show:
        print(f"  ... and {len(tally.failures) - show:,} more failures", file=stream)


if __name__ == "__main__":
    main()
