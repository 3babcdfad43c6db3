"""Stability written again from the models and allocation rows alone (no allocator.instance):
the children's lists and the schools' orders of issue 9 item 4, blocking pairs, justified envy
and free places, for checking `allocator.stable` from the outside."""

import hashlib
from dataclasses import dataclass

from allocator.checker import eligible_schools
from models.case import Child
from models.results import Allocation
from tests.strategies import RandomCase


@dataclass(frozen=True)
class Round:
    """A case with its independent travel minutes, ranks and places, and the sites reported open."""

    random_case: RandomCase
    opened: set[str]

    def usable(self, child: Child) -> list[str]:
        travel = self.random_case.travel()
        return [s.school_id for s in eligible_schools(self.random_case.case, travel, child, self.opened)]

    def rank(self, child: Child, school_id: str) -> int:
        ranks = {(p.child_id, p.school_id): p.rank for p in self.random_case.case.preferences}
        return ranks.get((child.child_id, school_id), 0)

    def minutes(self, child: Child, school_id: str) -> int:
        return self.random_case.travel()(child.child_id, school_id)

    def child_list(self, child: Child) -> list[str]:
        """Ranked usable schools by rank, then the others by minutes, then school_id."""
        usable = self.usable(child)
        ranked = sorted((s for s in usable if self.rank(child, s)), key=lambda s: self.rank(child, s))
        others = sorted((s for s in usable if not self.rank(child, s)), key=lambda s: (self.minutes(child, s), s))
        return ranked + others

    def school_key(self, child: Child, school_id: str, input_sha256: str) -> tuple[int, int, str]:
        """How a school orders children: most urgent tier, fewer minutes, smaller lottery number."""
        lottery = hashlib.sha256((input_sha256 + child.child_id).encode()).hexdigest()
        return (-child.priority, self.minutes(child, school_id), lottery)

    def places(self, school_id: str, need: str) -> int:
        """Places left for the run after the locked children."""
        case = self.random_case.case
        offered = sum(o.places for o in case.places if o.school_id == school_id and o.need.value == need)
        locked = sum(1 for c in case.children if c.locked_school_id == school_id and c.need.value == need)
        return offered - locked

    def prefers(self, child: Child, school_id: str, outcome: str | None) -> bool:
        """The issue's sense: unplaced and the school usable, or ranked above the outcome."""
        if school_id not in self.usable(child) or school_id == outcome:
            return False
        if outcome is None:
            return True
        rank, outcome_rank = self.rank(child, school_id), self.rank(child, outcome)
        return rank > 0 and (outcome_rank == 0 or rank < outcome_rank)


def placed_by_run(random_case: RandomCase, allocation: Allocation) -> dict[str, str | None]:
    """child_id -> school_id for the children the run placed (locked children left out)."""
    return {
        c.child_id: p.school_id
        for c, p in zip(random_case.case.children, allocation.placements, strict=True)
        if c.locked_school_id is None
    }


def blocking_pairs(round_: Round, allocation: Allocation, input_sha256: str) -> list[tuple[str, str]]:
    """(child, school) pairs where the child lists the school above their outcome and the school
    has a free place for the child's need or holds a child of that need it orders after them."""
    case = round_.random_case.case
    outcome = placed_by_run(round_.random_case, allocation)
    children = {c.child_id: c for c in case.children}
    found = []
    for child in case.children:
        if child.locked_school_id is not None:
            continue
        listed = round_.child_list(child)
        mine = outcome[child.child_id]
        above = listed if mine is None else listed[: listed.index(mine)]
        for school_id in above:
            holders = [children[c] for c, s in outcome.items() if s == school_id and children[c].need == child.need]
            if len(holders) < round_.places(school_id, child.need.value):
                found.append((child.child_id, school_id))
                continue
            mine_key = round_.school_key(child, school_id, input_sha256)
            if any(round_.school_key(other, school_id, input_sha256) > mine_key for other in holders):
                found.append((child.child_id, school_id))
    return found


def envy_and_free(round_: Round, allocation: Allocation) -> tuple[list[str], list[str]]:
    """The children with justified envy, and those preferring a school with a free place of their need."""
    case = round_.random_case.case
    outcome = placed_by_run(round_.random_case, allocation)
    children = {c.child_id: c for c in case.children}
    envy, free = [], []
    for child in case.children:
        if child.locked_school_id is not None:
            continue
        wanted = [s.school_id for s in case.schools if round_.prefers(child, s.school_id, outcome[child.child_id])]
        same_need = {
            school_id: [children[c] for c, s in outcome.items() if s == school_id and children[c].need == child.need]
            for school_id in wanted
        }
        if any(other.priority < child.priority for school_id in wanted for other in same_need[school_id]):
            envy.append(child.child_id)
        if any(len(same_need[s]) < round_.places(s, child.need.value) for s in wanted):
            free.append(child.child_id)
    return envy, free
