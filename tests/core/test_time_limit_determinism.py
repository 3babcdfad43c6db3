"""Issue 12, item 4: a run stopped at its time limit is deterministic and honest. The branch and
bound stops after a budget of flows derived from the limit (not the clock), CP-SAT after a budget
of its deterministic time with one worker, HiGHS after a budget of nodes
(tests/estates/test_estates_pmedian.py), so repeated runs write the same files, summary.json
included (a stopped run reports its limit as solve_seconds); bounds never exceed what is possible
and gaps lie in [0, 1]."""

import json
from pathlib import Path

import numpy as np
import pytest

from allocator.instance import build_instance
from allocator.objective import levels
from allocator.options import SolveOptions
from allocator.site_choice import site_choice
from allocator.site_search import branch_and_bound, flow_budget
from allocator.solve import solve_instance
from data.loader import load_case
from models.results import RunStatus
from tests.conftest import CliRunner
from tests.strategies import seeded_case, write_case_folder

ROOT = Path(__file__).resolve().parents[2]
LANCASHIRE = ROOT / "data" / "lancashire" / "case"


@pytest.mark.slow
def test_a_branch_and_bound_stopped_at_its_limit_writes_identical_files(run_cli: CliRunner, tmp_path: Path) -> None:
    # 1,140 sets of 3 among 20 candidates: too many to enumerate, so the branch and bound runs;
    # a limit of 0.1 s allows fewer flows than the root's bounds take, so it stops before its proof.
    case_dir = write_case_folder(
        seeded_case(seed=4, children=3_000, schools=60, candidates=20, open_sites=3), tmp_path / "case"
    )
    loaded = load_case(case_dir)
    instance = build_instance(loaded.case, loaded.travel)
    assert flow_budget(instance, 0.1) <= 20
    stopped = branch_and_bound(instance, site_choice(instance), 0.1)
    proven = branch_and_bound(instance, site_choice(instance), 600)
    assert stopped.status == RunStatus.FEASIBLE and proven.status == RunStatus.OPTIMAL
    outputs = []
    for run in range(3):
        out = tmp_path / f"out{run}"
        result = run_cli("solve", case_dir, "--out", out, "--time-limit", "0.1")
        assert result.returncode == 0, result.stderr
        outputs.append(
            {name: (out / name).read_bytes() for name in ("allocation.csv", "explanations.csv", "summary.json")}
        )
    assert outputs[0] == outputs[1] == outputs[2]
    summary = json.loads(outputs[0]["summary.json"])
    assert summary["status"] == "feasible" and summary["solver"] == "min_cost_flow_branch_and_bound"
    assert 0.0 <= summary["gap"] <= 1.0
    assert summary["solve_seconds"] == 0.1  # the limit it stopped at


def test_cp_sat_stopped_at_its_limit_is_repeatable_and_reports_possible_bounds() -> None:
    loaded = load_case(LANCASHIRE)
    instance = build_instance(loaded.case, loaded.travel)
    runs = [solve_instance(instance, SolveOptions(force_cp_sat=True, time_limit=0.3)) for _ in range(3)]
    stopped = runs[0]
    assert stopped.status is RunStatus.FEASIBLE and stopped.stopped_at_limit == 0.3
    for run in runs[1:]:
        assert (run.status, run.bounds, run.gap) == (stopped.status, stopped.bounds, stopped.gap)
        assert np.array_equal(run.chosen_pair, stopped.chosen_pair)
        assert np.array_equal(run.open_sites, stopped.open_sites)
    assert 0.0 <= stopped.gap <= 1.0
    for level in levels(instance):
        if level.name in stopped.bounds and level.tier is not None:
            assert stopped.bounds[level.name] <= int((instance.child_priority == level.tier).sum())
