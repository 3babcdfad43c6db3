"""Results of a run: placements, reasons and the run summary."""

from enum import StrEnum
from typing import Any

from pydantic import Field

from models.base import Frozen


class RunStatus(StrEnum):
    """How far the solver got: `optimal` only when every objective level was proven; `feasible`
    when a time limit stopped a level (with its bound and gap). There is no "infeasible" (leaving
    children unplaced is always allowed) and a time limit is `feasible`, never a status of its own;
    a solver's impossible answer is an internal error (`allocator.status`), never a run."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"


class UnplacedReason(StrEnum):
    NO_ELIGIBLE_SCHOOL = "no_eligible_school"
    NO_PLACE_LEFT = "no_place_left"


class Placement(Frozen):
    """One row of allocation.csv: a child and where they go (or why not)."""

    child_id: str
    school_id: str | None = None
    travel_minutes: int | None = None
    preference_rank: int | None = None
    reason: UnplacedReason | None = None
    explanation: str = ""
    locked: bool = False

    @property
    def placed(self) -> bool:
        return self.school_id is not None

    @property
    def reason_text(self) -> str:
        """The contract's `reason` cell: empty when placed, else `code: sentence`."""
        if self.reason is None:
            return ""
        return f"{self.reason.value}: {self.explanation}"


class Stability(Frozen):
    """summary.json `stability` (issue 9, item 4; see `allocator.stable`): children, in
    children.csv order, with justified envy and those preferring a school with a free place."""

    justified_envy: int
    justified_envy_child_ids: list[str]
    prefers_free_place: int
    prefers_free_place_child_ids: list[str]


class PriceOfStability(Frozen):
    """summary.json `price_of_stability` of an `objective = "stable"` run: the optimal
    allocation's figures and the stable allocation's minus them (placed: zero or negative)."""

    optimal_placed_by_priority: dict[str, int]
    optimal_preference_cost: int
    optimal_travel_minutes: int
    placed_by_priority: dict[str, int]
    preference_cost: int
    travel_minutes: int


class Alternatives(Frozen):
    """summary.json `alternatives` when asked for: `requested` is K, `allocations` how many
    different optimal allocations were found (allocation.csv included), at most K."""

    requested: int
    allocations: int


class Outcome(StrEnum):
    """What a child's row in explanations.csv says happened."""

    FIRST_CHOICE = "first_choice"
    OTHER_CHOICE = "other_choice"  # a school the family ranked, not first
    NOT_RANKED = "not_ranked"  # the family ranked schools; placed at one they did not rank
    PLACED = "placed"  # the family gave no preferences
    LOCKED = "locked"
    UNPLACED = "unplaced"


class ChildExplanation(Frozen):
    """One row of explanations.csv. `forced` is None (empty) when the run is not proven optimal
    or too large to explain exactly; each counterfactual is None when it does not apply or no
    such change exists."""

    child_id: str
    outcome: Outcome
    school_id: str | None = None
    first_choice_school_id: str | None = None
    forced: bool | None = None
    add_place_school_id: str | None = None
    extra_minutes: int | None = None
    priority_needed: int | None = None
    explanation: str
    # why the first choice was not given, for the report's grouping (not a column of the file):
    # one of FIRST_CHOICE_REASONS, None when it does not apply
    why_not_first: str | None = None


FIRST_CHOICE_REASONS = {
    "no_places_for_need": "the first choice had no places for the child's need",
    "age": "the first choice does not take the child's age",
    "site_not_opened": "the first choice is a new site that was not opened",
    "panel": "its places went to children the panel had already placed",
    "urgent": "its places went to children with a more urgent priority",
    "only": "its places went to children for whom it was the only school in reach",
    "first": "its places went to children who also put it first",
    "nearer": "its places went to children who live nearer",
    "other": "its places went to children whose other journeys or choices would have been worse",
}


class RunSummary(Frozen):
    """summary.json. Keys beyond the contract's minimum are additions, never replacements."""

    status: RunStatus
    placed: int
    unplaced: int
    placed_by_priority: dict[str, int]
    children_by_priority: dict[str, int]
    preference_cost: int
    travel_minutes: int
    opened_sites: list[str]
    solve_seconds: float
    input_sha256: str
    solver: str
    objective_bound: dict[str, float] = Field(default_factory=dict)
    gap: float = 0.0
    placed_by_need: dict[str, int] = Field(default_factory=dict)
    unplaced_by_need: dict[str, int] = Field(default_factory=dict)
    districts: dict[str, dict[str, int | float]] = Field(default_factory=dict)
    cost_gbp_year: dict[str, float] = Field(default_factory=dict)
    software: dict[str, str] = Field(default_factory=dict)
    objective: str = "optimal"
    stability: Stability | None = None
    price_of_stability: PriceOfStability | None = None
    alternatives: Alternatives | None = None
    # Additions (README, "Fairness between districts"): figures for every run, and what a
    # policy.toml [fairness] rule cost against the same case solved without it (null: no rule).
    fairness: dict[str, Any] = Field(default_factory=dict)
    price_of_fairness: dict[str, Any] | None = None


class Allocation(Frozen):
    """A finished run: one placement per child (children.csv order) and the summary."""

    placements: tuple[Placement, ...]
    summary: RunSummary
    explanations: tuple[ChildExplanation, ...] = ()  # children.csv order; empty unless asked for
