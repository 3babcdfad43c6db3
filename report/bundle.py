"""The files of a run with its report, and where the bundled demo case lives."""

from collections.abc import Mapping, Sequence
from pathlib import Path

import data
from data.outputs import allocation_files
from models.case import Case
from models.results import Allocation
from report.page import build_report

REPORT_FILE = "report.html"


def bundled_case() -> Path:
    """The Lancashire demo case shipped with the package (data/lancashire/case)."""
    return Path(data.__file__).parent / "lancashire" / "case"


def run_files(
    case: Case,
    allocation: Allocation,
    *,
    title: str,
    wards: Mapping[str, str] | None = None,
    extra_sections: Sequence[tuple[str, str]] = (),
) -> dict[str, str]:
    """allocation.csv, summary.json and report.html, ready for `data.outputs.write_outputs`."""
    files = allocation_files(allocation)
    files[REPORT_FILE] = build_report(case, allocation, title=title, wards=wards, extra_sections=extra_sections)
    return files
