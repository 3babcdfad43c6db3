"""`allocator solve` from the outside (subprocess), against CONTRACT.md."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from allocator.checker import check_allocation, independent_travel
from data.loader import load_case
from models.problems import CaseInvalid
from models.results import Allocation, Placement, RunSummary, UnplacedReason
from tests.conftest import VALID_CASE, CliRunner, write_case
from tests.strategies import seeded_case, write_case_folder

HEADER = ["child_id", "school_id", "travel_minutes", "preference_rank", "reason"]
PROBLEM_LINE = re.compile(r"^[\w.]+:\d+: [\w.-]+: \S.*$")
REASON = re.compile(r"^(no_eligible_school|no_place_left): \S.*$")


def read_rows(out: Path) -> list[dict[str, str]]:
    text = (out / "allocation.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in reader]


def allocation_from_files(out: Path) -> Allocation:
    """The run's output files read back into result models, for the checker."""
    placements = []
    for row in read_rows(out):
        code, _, sentence = row["reason"].partition(": ")
        placements.append(
            Placement(
                child_id=row["child_id"],
                school_id=row["school_id"] or None,
                travel_minutes=int(row["travel_minutes"]) if row["travel_minutes"] else None,
                preference_rank=int(row["preference_rank"]) if row["preference_rank"] else None,
                reason=UnplacedReason(code) if code else None,
                explanation=sentence,
            )
        )
    summary = RunSummary.model_validate(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    return Allocation(placements=tuple(placements), summary=summary)


def given_minutes(case_dir: Path) -> dict[tuple[str, str], int]:
    path = case_dir / "travel_times.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {(r["child_id"], r["school_id"]): int(r["minutes"]) for r in csv.DictReader(handle)}


def children_in_file_order(case_dir: Path) -> list[str]:
    with (case_dir / "children.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [row["child_id"] for row in csv.DictReader(handle)]


def solve_ok(run_cli: CliRunner, case_dir: Path, out: Path, *extra: str) -> None:
    result = run_cli("solve", case_dir, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_sample_run_writes_the_contract_files(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_ok(run_cli, sample_case_dir, out)
    rows = read_rows(out)
    assert [row["child_id"] for row in rows] == children_in_file_order(sample_case_dir)
    unplaced = [row for row in rows if not row["school_id"]]
    assert unplaced, "the sample is meant to leave a child unplaced: exit 0 all the same"
    for row in rows:
        if row["school_id"]:
            assert row["reason"] == ""
            assert row["travel_minutes"].isdigit()
            assert row["preference_rank"] == "" or int(row["preference_rank"]) >= 1
        else:
            assert row["travel_minutes"] == row["preference_rank"] == ""
            assert REASON.match(row["reason"]), row["reason"]


def test_summary_has_the_contract_keys(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_ok(run_cli, sample_case_dir, out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in ("optimal", "feasible")
    for key in ("placed", "unplaced", "preference_cost", "travel_minutes"):
        assert type(summary[key]) is int, key
    assert isinstance(summary["placed_by_priority"], dict)
    assert all(type(v) is int and k.isdigit() for k, v in summary["placed_by_priority"].items())
    assert isinstance(summary["opened_sites"], list) and all(isinstance(s, str) for s in summary["opened_sites"])
    assert isinstance(summary["solve_seconds"], int | float)
    assert re.fullmatch(r"[0-9a-f]{64}", summary["input_sha256"])
    rows = read_rows(out)
    assert summary["placed"] + summary["unplaced"] == len(rows)


def test_sample_output_passes_the_checker(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_ok(run_cli, sample_case_dir, out)
    case = load_case(sample_case_dir).case
    travel = independent_travel(case, given_minutes(sample_case_dir))
    assert check_allocation(case, travel, allocation_from_files(out)) == []


def test_two_runs_write_identical_bytes(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    solve_ok(run_cli, sample_case_dir, first)
    solve_ok(run_cli, sample_case_dir, second, "--time-limit", "5")
    for name in ("allocation.csv", "summary.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_time_limit_option_is_accepted(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    solve_ok(run_cli, sample_case_dir, tmp_path / "out", "--time-limit", "2.5")
    assert (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize("seed", [3, 11])
def test_random_case_through_the_cli(run_cli: CliRunner, tmp_path: Path, seed: int) -> None:
    """A random case written as files: the checker passes, reasons name no other child."""
    random_case = seeded_case(seed=seed, children=60, schools=7, candidates=2, open_sites=1)
    case_dir = write_case_folder(random_case, tmp_path / "case")
    out = tmp_path / "out"
    solve_ok(run_cli, case_dir, out)
    allocation = allocation_from_files(out)
    assert check_allocation(random_case.case, random_case.travel(), allocation) == []
    reasons = [p for p in allocation.placements if p.reason is not None]
    assert reasons, "the random case should leave some children unplaced"
    ids = {child.child_id for child in random_case.case.children}
    for placement in reasons:
        named = set(re.findall(r"\bK\d+\b", placement.explanation)) & ids
        assert named <= {placement.child_id}, placement.explanation


def test_sample_reasons_name_no_other_child(run_cli: CliRunner, sample_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_ok(run_cli, sample_case_dir, out)
    ids = set(children_in_file_order(sample_case_dir))
    for row in read_rows(out):
        words = set(re.findall(r"[\w-]+", row["reason"]))
        assert words & ids <= {row["child_id"]}, row["reason"]


def broken_case(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = dict(VALID_CASE)
    files["children.csv"] = VALID_CASE["children.csv"] + "K4,ASD,old,53.7,-2.5,0,\nK5,XYZ,9,95,-2.5,0,\n"
    files["policy.toml"] = VALID_CASE["policy.toml"] + "colour = 'red'\n"
    return write_case(tmp_path / "broken", files)


def test_invalid_case_exits_2_with_every_problem_and_writes_nothing(run_cli: CliRunner, tmp_path: Path) -> None:
    case_dir = broken_case(tmp_path)
    out = tmp_path / "out"
    result = run_cli("solve", case_dir, "--out", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    with pytest.raises(CaseInvalid) as raised:
        load_case(case_dir)
    expected = raised.value.lines()
    assert len(expected) == 4  # age; need and lat of K5; the policy key
    lines = result.stderr.splitlines()
    assert lines[: len(expected)] == expected
    assert all(PROBLEM_LINE.match(line) for line in expected)
    assert not out.exists()


def test_invalid_case_leaves_an_existing_out_dir_unchanged(run_cli: CliRunner, tmp_path: Path) -> None:
    case_dir = broken_case(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "allocation.csv").write_text("earlier run\n", encoding="utf-8")
    result = run_cli("solve", case_dir, "--out", out)
    assert result.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == ["allocation.csv"]
    assert (out / "allocation.csv").read_text(encoding="utf-8") == "earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "out"]  # no staging folder left


def test_missing_case_folder_exits_2(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli("solve", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert re.match(r"^\S+:0: -: \S.*$", result.stderr.splitlines()[0])
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_exits_2_in_one_line(run_cli: CliRunner, valid_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder", encoding="utf-8")
    result = run_cli("solve", valid_case_dir, "--out", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "not a folder"
