"""explanations.csv from the outside: outcomes, plain words, no other child named, byte-identical
reruns, and `[priority_names]` problems (issue 9)."""

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest

from data.outputs import EXPLANATION_COLUMNS
from models.results import Outcome
from tests.conftest import ALLOCATOR, CliRunner
from tests.core.helpers import child, make_case, places, school
from tests.strategies import seeded_case, write_case_folder

LANCASHIRE = Path(__file__).resolve().parents[2] / "data" / "lancashire" / "case"


def _rows(out: Path) -> list[dict[str, str]]:
    text = (out / "explanations.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    assert tuple(next(reader)) == EXPLANATION_COLUMNS
    return [dict(zip(EXPLANATION_COLUMNS, row, strict=True)) for row in reader]


@pytest.fixture(scope="module")
def lancashire_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("lancashire") / "out"
    result = subprocess.run(
        [str(ALLOCATOR), "solve", str(LANCASHIRE), "--out", str(out)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return _rows(out)


def test_one_row_per_child_in_order_with_an_outcome_each(lancashire_rows: list[dict[str, str]]) -> None:
    with (LANCASHIRE / "children.csv").open(encoding="utf-8") as handle:
        ids = [row["child_id"] for row in csv.DictReader(handle)]
    assert [row["child_id"] for row in lancashire_rows] == ids
    outcomes = {row["outcome"] for row in lancashire_rows}
    assert outcomes <= {o.value for o in Outcome} and {"first_choice", "unplaced", "locked"} <= outcomes
    for row in lancashire_rows:
        assert (row["school_id"] == "") == (row["outcome"] == "unplaced")
        assert row["forced"] in ("yes", "no")
        assert row["explanation"]


def test_the_outcome_follows_the_family_ranking(lancashire_rows: list[dict[str, str]]) -> None:
    with (LANCASHIRE / "preferences.csv").open(encoding="utf-8") as handle:
        ranks = {(r["child_id"], r["school_id"]): int(r["rank"]) for r in csv.DictReader(handle)}
    best: dict[str, tuple[int, str]] = {}
    for (child_id, school_id), rank in ranks.items():
        best[child_id] = min(best.get(child_id, (rank, school_id)), (rank, school_id))
    for row in lancashire_rows:
        first = best.get(row["child_id"])
        assert row["first_choice_school_id"] == (first[1] if first else "")
        if row["outcome"] in ("locked", "unplaced"):
            continue
        ranked_here = ranks.get((row["child_id"], row["school_id"]))
        expected = (
            "placed"
            if first is None
            else "first_choice"
            if row["school_id"] == first[1]
            else "other_choice"
            if ranked_here
            else "not_ranked"
        )
        assert row["outcome"] == expected, row


def test_plain_words_and_no_other_child_named(lancashire_rows: list[dict[str, str]]) -> None:
    ids = {row["child_id"] for row in lancashire_rows}
    id_pattern = re.compile(r"\bC\d{4}\b")
    for row in lancashire_rows:
        text = row["explanation"]
        assert "school(s)" not in text and not re.search(r"priority \d", text), text
        assert set(id_pattern.findall(text)) <= {row["child_id"]} and not (set(id_pattern.findall(text)) & ids), text
    assert any("standard priority" in row["explanation"] for row in lancashire_rows)


def test_counterfactual_columns_apply_only_where_they_mean_something(lancashire_rows: list[dict[str, str]]) -> None:
    for row in lancashire_rows:
        if row["outcome"] in ("first_choice", "placed", "locked"):
            assert row["add_place_school_id"] == row["extra_minutes"] == row["priority_needed"] == "", row
        if row["outcome"] != "unplaced":
            assert row["extra_minutes"] == row["priority_needed"] == "", row
        if row["outcome"] in ("other_choice", "not_ranked") and row["add_place_school_id"]:
            assert row["add_place_school_id"] == row["first_choice_school_id"]
    assert any(row["add_place_school_id"] for row in lancashire_rows)
    assert any(row["extra_minutes"] for row in lancashire_rows)
    assert any(row["priority_needed"] for row in lancashire_rows)


def test_reruns_and_demo_write_the_same_explanations(tmp_path: Path, run_cli: CliRunner) -> None:
    case = write_case_folder(seeded_case(3, children=60, schools=6, candidates=2, open_sites=1), tmp_path / "case")
    first, second, demo = tmp_path / "a", tmp_path / "b", tmp_path / "demo"
    for out in (first, second):
        assert run_cli("solve", case, "--out", out).returncode == 0
    assert run_cli("demo", case, "--out", demo).returncode == 0
    for name in ("allocation.csv", "explanations.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes() == (demo / name).read_bytes()


def test_a_tie_is_not_forced_and_tier_names_come_from_the_policy(tmp_path: Path, run_cli: CliRunner) -> None:
    # two children of the same tier, same home, one place: either may have it
    random_case = make_case([school("S1")], [places("S1", 1)], [child("K1", priority=1), child("K2", priority=1)])
    case = write_case_folder(random_case, tmp_path / "case")
    (case / "policy.toml").write_text('[priority_names]\n"1" = "waiting too long"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("solve", case, "--out", out).returncode == 0
    rows = _rows(out)
    assert [row["forced"] for row in rows] == ["no", "no"]
    assert {row["outcome"] for row in rows} == {"placed", "unplaced"}
    unplaced = next(row for row in rows if row["outcome"] == "unplaced")
    assert "waiting too long" in unplaced["explanation"] and "K1" not in unplaced["explanation"]
    assert unplaced["priority_needed"] == unplaced["add_place_school_id"] == ""  # already a tie


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ('[priority_names]\nfive = "x"\n', "policy.toml:2: priority_names.five: unknown key"),
        ('[priority_names]\n"101" = "x"\n', "policy.toml:2: priority_names.101: unknown key"),
        ('[priority_names]\n"1" = 5\n', "policy.toml:2: priority_names.1: 5 must be text in quotes"),
        ('[priority_names]\n"1" = ""\n', "policy.toml:2: priority_names.1: must not be empty"),
    ],
)
def test_bad_priority_names_exit_2_and_write_nothing(
    tmp_path: Path, run_cli: CliRunner, policy: str, problem: str
) -> None:
    case = write_case_folder(make_case([school("S1")], [places("S1", 1)], [child("K1")]), tmp_path / "case")
    (case / "policy.toml").write_text(policy, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("solve", case, "--out", out)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.splitlines()[0].startswith(problem), result.stderr
    assert "Traceback" not in result.stderr
