"""The paths a run takes when the fast one cannot serve, and honest statuses at time limits."""

from pathlib import Path

import pytest

import allocator.flow
from allocator.instance import build_instance
from allocator.objective import evaluate
from allocator.options import SolveOptions
from allocator.solve import solve_instance
from data.loader import load_case
from models.results import RunStatus

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
LANCASHIRE = ROOT / "data" / "lancashire" / "case"


def test_costs_too_large_even_for_the_staged_flow_stay_an_exact_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    # (weights too large for one network alone are solved by the staged flow: test_staged_flow.py;
    # here every cost range is refused, so the levels are solved in turn: test_components.py)
    loaded = load_case(SAMPLE)
    instance = build_instance(loaded.case, loaded.travel)
    by_flow = solve_instance(instance, SolveOptions())
    by_cp_sat = solve_instance(instance, SolveOptions(time_limit=30, force_cp_sat=True))
    monkeypatch.setattr(allocator.flow, "_SAFE_LIMIT", 0)
    in_turn = solve_instance(instance, SolveOptions(time_limit=30))
    assert by_flow.solver == "min_cost_flow"
    assert in_turn.solver == "min_cost_flow_staged"
    assert by_cp_sat.solver == "cp_sat"
    assert in_turn.status == by_cp_sat.status == RunStatus.OPTIMAL
    assert evaluate(instance, in_turn.chosen_pair) == evaluate(instance, by_flow.chosen_pair)
    assert evaluate(instance, by_cp_sat.chosen_pair) == evaluate(instance, by_flow.chosen_pair)


def test_a_time_limit_is_reported_as_feasible_with_a_gap_never_as_optimal() -> None:
    loaded = load_case(LANCASHIRE)
    instance = build_instance(loaded.case, loaded.travel)
    stopped = solve_instance(instance, SolveOptions(force_cp_sat=True, time_limit=0.05, workers=1))
    exact = solve_instance(instance, SolveOptions())
    assert stopped.status == RunStatus.FEASIBLE
    assert stopped.gap > 0
    # whatever it found is a valid allocation, never better than the proven optimum
    assert evaluate(instance, stopped.chosen_pair) >= evaluate(instance, exact.chosen_pair)
