"""Solver statuses are mapped explicitly (allocator.status): a proof, a time limit, or an
internal error; never an impossible answer published as a run."""

import sys
from pathlib import Path

import pytest
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

import allocator.facility
import allocator.site_search
import allocator.solve
from allocator.status import (
    CostsTooLarge,
    LevelEnd,
    SolverFailure,
    check_flow_status,
    cp_sat_level_end,
    highs_level_end,
)
from cli.main import main


def _refuse(*_args: object) -> None:
    raise CostsTooLarge("refused by the test, so that the CP-SAT model runs")


ROOT = Path(__file__).resolve().parents[2]
LANCASHIRE = ROOT / "data" / "lancashire" / "case"
FLOW = min_cost_flow.SimpleMinCostFlow


def test_flow_optimal_passes_and_a_refused_cost_range_hands_over() -> None:
    check_flow_status(FLOW.OPTIMAL)
    with pytest.raises(CostsTooLarge):
        check_flow_status(FLOW.BAD_COST_RANGE)


@pytest.mark.parametrize(
    "status", [FLOW.INFEASIBLE, FLOW.UNBALANCED, FLOW.NOT_SOLVED, FLOW.BAD_RESULT, FLOW.BAD_CAPACITY_RANGE]
)
def test_flow_answers_that_cannot_happen_are_internal_errors(status: int) -> None:
    with pytest.raises(SolverFailure):
        check_flow_status(status)


def test_cp_sat_level_ends() -> None:
    assert cp_sat_level_end(cp_model.OPTIMAL) is LevelEnd.PROVEN
    assert cp_sat_level_end(cp_model.FEASIBLE) is LevelEnd.FOUND
    assert cp_sat_level_end(cp_model.UNKNOWN) is LevelEnd.NOTHING
    for impossible in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        with pytest.raises(SolverFailure, match=impossible.name):
            cp_sat_level_end(impossible)


def test_highs_level_ends() -> None:
    assert highs_level_end(0, has_solution=True) is LevelEnd.PROVEN
    assert highs_level_end(1, has_solution=True) is LevelEnd.FOUND
    assert highs_level_end(1, has_solution=False) is LevelEnd.NOTHING
    for impossible in (2, 3, 4):
        with pytest.raises(SolverFailure):
            highs_level_end(impossible, has_solution=False)
    # the node budget (allocator.facility): scipy reports HiGHS's node limit as 4 with its code
    node_limit = "The HiGHS status code was not recognized. (HiGHS Status 16: Solution limit reached)"
    assert highs_level_end(4, has_solution=True, message=node_limit) is LevelEnd.FOUND
    assert highs_level_end(4, has_solution=False, message=node_limit) is LevelEnd.NOTHING
    with pytest.raises(SolverFailure):
        highs_level_end(4, has_solution=True, message="(HiGHS Status 4: Solve error)")


def _run_solve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], out: Path) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["allocator", "solve", str(LANCASHIRE), "--out", str(out)])
    with pytest.raises(SystemExit) as ended:
        main()
    code = ended.value.code
    # A progress line (`allocator: ...`) may appear on a slow machine; everything else is the error.
    err = "".join(line for line in capsys.readouterr().err.splitlines(True) if not line.startswith("allocator: "))
    return (code if isinstance(code, int) else 1), err


def test_an_invalid_cp_sat_model_is_an_internal_error_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(allocator.solve, "_worth_enumerating", lambda *_: False)
    monkeypatch.setattr(allocator.facility, "is_uncapacitated", lambda _: False)
    monkeypatch.setattr(allocator.site_search, "branch_and_bound", _refuse)
    monkeypatch.setattr(cp_model.CpSolver, "solve", lambda *_args, **_kwargs: cp_model.MODEL_INVALID)
    code, err = _run_solve(monkeypatch, capsys, tmp_path / "out")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: SolverFailure: CP-SAT answered MODEL_INVALID")
    assert not (tmp_path / "out").exists()


def test_an_infeasible_flow_is_an_internal_error_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(FLOW, "solve", lambda _self: FLOW.INFEASIBLE)
    code, err = _run_solve(monkeypatch, capsys, tmp_path / "out")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: SolverFailure: min-cost flow ended with status")
    assert not (tmp_path / "out").exists()
