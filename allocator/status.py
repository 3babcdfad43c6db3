"""What each solver's status means for a run, mapped explicitly and in one place.

A level of the objective ends in one of three ways (`LevelEnd`): proven optimal, a solution
found but not proven at the time limit, or nothing found in time. Every other answer of a
solver is impossible for the models built here and is an internal error (`SolverFailure`),
never a published run:
* every model is feasible (leaving every unlocked child unplaced satisfies all constraints,
  and each level is fixed at a value an earlier solution attained), so a proof of
  infeasibility is a bug;
* a model the solver calls invalid, or an unbounded one, is a bug;
* the min-cost flow always has a feasible flow (every child has an arc to the sink).
The one answer that is not a bug is the flow solver's refusal of the cost range
(`CostsTooLarge`), which sends `allocator.flow` on to a network with smaller costs (staged
levels, then preference and travel in turn, whose costs always fit).

The run's status (`RunStatus`) follows: `optimal` only when every level was proven;
otherwise `feasible`, with the stopped level's bound and gap.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from ortools.graph.python import min_cost_flow

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpSolverStatus


class SolverFailure(RuntimeError):
    """A solver answered something that cannot happen for a valid model: an internal error."""


class CostsTooLarge(Exception):
    """The lexicographic weights do not fit the flow solver's integer range."""


class LevelEnd(Enum):
    PROVEN = "proven"
    FOUND = "found"  # a solution, not proven optimal (time limit)
    NOTHING = "nothing"  # no solution within the time limit


def check_flow_status(status: int) -> None:
    """OR-Tools SimpleMinCostFlow: OPTIMAL passes; BAD_COST_RANGE (and the solver's own
    overflow check) raise CostsTooLarge; anything else is a SolverFailure."""
    solver = min_cost_flow.SimpleMinCostFlow
    if status == solver.OPTIMAL:
        return
    if status == solver.BAD_COST_RANGE:
        raise CostsTooLarge("the flow solver's own range check refused the costs")
    raise SolverFailure(f"min-cost flow ended with status {status} on a network that always has a flow")


def cp_sat_level_end(status: CpSolverStatus) -> LevelEnd:
    """CP-SAT: OPTIMAL, FEASIBLE (time limit) and UNKNOWN (time limit, nothing found) are level
    ends; INFEASIBLE and MODEL_INVALID are SolverFailures."""
    from ortools.sat.python import cp_model  # loaded only on the CP-SAT path (about 0.5 s)

    if status == cp_model.OPTIMAL:
        return LevelEnd.PROVEN
    if status == cp_model.FEASIBLE:
        return LevelEnd.FOUND
    if status == cp_model.UNKNOWN:
        return LevelEnd.NOTHING
    raise SolverFailure(f"CP-SAT answered {status.name} for a level that is always feasible")


# scipy.optimize.milp (HiGHS) statuses: 0 optimal, 1 iteration or time limit, 2 infeasible,
# 3 unbounded, 4 other. scipy has no code of its own for HiGHS's node limit (kSolutionLimit,
# 16): it answers 4 with "(HiGHS Status 16: ...)" in the message.
_HIGHS_OPTIMAL, _HIGHS_LIMIT, _HIGHS_OTHER = 0, 1, 4
_HIGHS_NODE_LIMIT = "(HiGHS Status 16:"


def highs_level_end(status: int, has_solution: bool, message: str = "") -> LevelEnd:
    """HiGHS through scipy's milp: 0 is proven; 1 (a limit) or the node limit is FOUND or
    NOTHING by whether a solution came back; infeasible, unbounded and other failures are
    SolverFailures."""
    if status == _HIGHS_OPTIMAL and has_solution:
        return LevelEnd.PROVEN
    if status == _HIGHS_LIMIT or (status == _HIGHS_OTHER and _HIGHS_NODE_LIMIT in message):
        return LevelEnd.FOUND if has_solution else LevelEnd.NOTHING
    name = {2: "infeasible", 3: "unbounded"}.get(status, f"status {status}")
    raise SolverFailure(f"HiGHS answered {name} for a level that is always feasible and bounded")
