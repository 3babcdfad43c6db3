"""The knock-on effect of a panel decision before it is recorded: the run's case solved again, on
the same path as a `solve` run (`api.services.kinds`, with the run's options), with the panel's
locks as they would be once the decision is stored; then which children would move and why, and
the change in every figure (`api.services.compare.diff_rounds`). Nothing is stored.

The decision means what it means when recorded (`api.services.decisions`, whose checks it
passes first, with the same codes):
* `accept` locks the child at the school the run proposed;
* `override` locks the child at another school, which must be one the child may attend: it has
  places for the child's need and takes their age (checked by loading the case with the lock),
  and it is within the travel limit for their age or the family ranked it (422
  `school_out_of_reach`);
* `refuse` refuses the proposed school; as when recorded, it leaves the child unlocked (the
  latest decision about a child wins), so the preview is the next run with no lock on the child.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from allocator.instance import build_instance
from api.errors import ApiError
from api.services.case_files import load_files
from api.services.compare import RoundDiff, diff_rounds, solved_round, stored_round
from api.services.decisions import check_decision
from api.services.kinds import KINDS
from api.services.runs import read_run
from api.storage.database import Database
from api.storage.decisions import LOCKING
from api.storage.placements import placement_of
from data.loader import LoadedCase

SOLVE = "solve"


@dataclass(frozen=True)
class PanelDecision:
    """A decision as the panel would record it: `school_id` is needed for `override` only (accept
    and refuse name the school the run proposed); `reason` is the panel's words."""

    decision: Literal["accept", "override", "refuse"]
    school_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class KnockOn:
    run_id: str
    child_id: str
    decision: str
    school_id: str
    diff: RoundDiff


def knock_on(database: Database, run_id: str, child_id: str, decision: PanelDecision) -> KnockOn:
    """Preview `decision` about the child in run `run_id` (a finished `solve` run)."""
    run = read_run(database, run_id)
    if run.kind != SOLVE:
        raise ApiError(
            409, "knock_on_needs_solve_run", f"a knock-on effect is previewed on a solve run, not '{run.kind}'"
        )
    school_id = _school_named(database, run_id, child_id, decision)
    as_recorded = {
        "child_id": child_id,
        "school_id": school_id,
        "decision": decision.decision,
        "reason": decision.reason,
        "run_id": run_id,
    }
    files, locks = check_decision(database, run.case_id, as_recorded)
    others = {child: school for child, school in locks.items() if child != child_id}
    locks_after = {**others, child_id: school_id} if decision.decision in LOCKING else others
    loaded = load_files(files, locks_after)
    if decision.decision == "override":
        _check_in_reach(load_files(files, others), child_id, school_id)
    options = {name: value for name, value in run.options.items() if name != "locks"}
    output = KINDS[SOLVE].execute(loaded, options)
    before = stored_round(database, files, run)
    after = solved_round(loaded, output.placements, output.summary)
    return KnockOn(run_id, child_id, decision.decision, school_id, diff_rounds(before, after))


def _school_named(database: Database, run_id: str, child_id: str, decision: PanelDecision) -> str:
    """The school the decision is about: the override's, or the one the run proposed."""
    if decision.decision == "override":
        if not decision.school_id:
            raise ApiError(422, "school_missing", "school_id: an override names the school the child should go to")
        return decision.school_id
    with database.session() as session:
        placement = placement_of(session, run_id, child_id)
    if placement is None:
        raise ApiError(404, "child_not_found", f"no child '{child_id}' in run '{run_id}'")
    if placement.school_id is None:
        raise ApiError(
            409,
            "decision_does_not_match_run",
            f"run '{run_id}' proposed no school for child '{child_id}': only an override can name one",
        )
    return placement.school_id


def schools_in_reach(loaded: LoadedCase, child_id: str) -> dict[str, int]:
    """school_id -> travel minutes of every school the child may attend whatever the places left:
    places for their need, their age, and within the travel limit for their age or ranked by the
    family (CONTRACT.md rules 1-3), in schools.csv order."""
    instance = build_instance(loaded.case, loaded.travel)
    index = next(i for i, child in enumerate(loaded.case.children) if child.child_id == child_id)
    options = instance.need_and_age_options(np.array([index], np.int64))
    limit = int(instance.child_limit[index])
    reachable = (options.minutes <= limit) | (options.rank > 0)
    schools = instance.bucket_school[options.bucket[reachable]]
    minutes = options.minutes[reachable]
    found = {int(school): int(minute) for school, minute in zip(schools, minutes, strict=True)}
    return {loaded.case.schools[school].school_id: found[school] for school in sorted(found)}


def _check_in_reach(loaded: LoadedCase, child_id: str, school_id: str) -> None:
    if school_id in schools_in_reach(loaded, child_id):
        return
    child = next(child for child in loaded.case.children if child.child_id == child_id)
    limit = loaded.case.policy.travel_limit(child.age)
    name = next(school.name for school in loaded.case.schools if school.school_id == school_id)
    raise ApiError(
        422,
        "school_out_of_reach",
        f"{name} is farther than the {limit}-minute travel limit for the child's age and the family did not rank it",
    )
