"""Shared helpers for the report tests: solve a case folder once and read its raw children rows."""

import csv
from pathlib import Path

import data
from allocator.solve import allocate
from data.loader import LoadedCase, load_case
from models.results import Allocation

SAMPLE = Path(data.__file__).parent / "sample"
LANCASHIRE = Path(data.__file__).parent / "lancashire" / "case"


def solved(case_dir: Path) -> tuple[LoadedCase, Allocation]:
    loaded = load_case(case_dir)
    return loaded, allocate(loaded)


def children_rows(case_dir: Path) -> list[dict[str, str]]:
    with (case_dir / "children.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
