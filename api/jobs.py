"""The work of every run kind, as typed functions `(LoadedCase, options) -> RunOutput`.

The HTTP service's workers and the `allocator` command call exactly these functions, so a run
over HTTP and the same run on the command line write the same files. Nothing here imports the
web framework or the database: the command's start-up stays fast.

Inputs a case does not carry travel in the options, as text: `plan-places` takes `add` and the
`expansions` (expansions.csv text), `whatif` the `scenario` (TOML text). Problems in those texts
raise `CaseInvalid`, located like case problems (`expansions.csv:3: need: ...`).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allocator.alternatives import with_alternatives
from allocator.estates.files import place_plan_files, whatif_files
from allocator.estates.plan import plan_places
from allocator.estates.sites import evaluate_sites
from allocator.estates.whatif import run_whatif
from allocator.options import SolveOptions
from allocator.progress import Progress
from allocator.solve import allocate, solve_round
from data.expansions import Expansion, parse_expansions
from data.loader import LoadedCase
from data.outputs import allocation_files, alternative_files
from data.scenario import parse_scenario
from models.case import FairnessRule
from models.results import Allocation, ChildExplanation, Placement, RunStatus
from report.bundle import run_files
from report.sites import candidate_sites_sections, has_candidate_sites, sites_run_files
from report.stability import stability_sections

SCENARIO_NAME = "scenario.toml"
MAX_TOGETHER_SIZE = 100
"""The largest set of candidate sites `sites` may be asked to choose jointly (`together`)."""
MAX_TOGETHER_SIZES = 5
"""How many sizes one `sites` run may be asked for."""
FINISHED = frozenset({RunStatus.OPTIMAL, RunStatus.FEASIBLE})
"""Statuses of a run that found an allocation (proven optimal, or the best found in time)."""


@dataclass(frozen=True)
class RunOutput:
    """What a run produced: its files (name -> text), a JSON-ready summary, its status, and the
    placements of its allocation (children.csv order; empty when the kind has no allocation)."""

    files: dict[str, str]
    summary: dict[str, Any]
    status: RunStatus
    placements: tuple[Placement, ...] = ()
    explanations: tuple[ChildExplanation, ...] = ()  # explanations.csv's rows (solve and demo)


class RunOptions(BaseModel):
    """Options every kind takes. Unknown options are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    time_limit: float | None = Field(default=None, gt=0, description="seconds for the solver")


class SolveRunOptions(RunOptions):
    """Options of a `solve` run."""

    objective: Literal["optimal", "stable"] | None = Field(
        default=None, description="policy.toml's objective for this run: optimal or stable"
    )
    alternatives: int = Field(default=1, ge=1, le=100, description="write up to this many optimal allocations")
    fairness: FairnessRule | None = Field(
        default=None,
        description='policy.toml [fairness] for this run, in its place: {"balance": "districts", '
        '"travel": "kolm_pollak"}, either or both (README, "Fairness between districts")',
    )

    @model_validator(mode="after")
    def _one_rule(self) -> "SolveRunOptions":
        if self.objective == "stable" and self.fairness is not None and self.fairness.active:
            raise ValueError("objective 'stable' cannot be combined with a fairness rule: use one or the other")
        return self


def with_run_policy(
    loaded: LoadedCase, objective: Literal["optimal", "stable"] | None, fairness: FairnessRule | None
) -> LoadedCase:
    """The case with the run's options in place of policy.toml's `objective` and [fairness]
    (when given). The two exclude each other, so an option that sets one turns off the policy's other."""
    update: dict[str, object] = {}
    if fairness is not None:
        update["fairness"] = fairness
        if fairness.active:
            update["objective"] = "optimal"
    if objective is not None:
        update["objective"] = objective
        if objective == "stable":
            update["fairness"] = FairnessRule()
    if not update:
        return loaded
    policy = loaded.case.policy.model_copy(update=update)
    return replace(loaded, case=loaded.case.model_copy(update={"policy": policy}))


class SitesRunOptions(RunOptions):
    """Options of a `sites` run."""

    together: tuple[Annotated[int, Field(ge=1, le=MAX_TOGETHER_SIZE)], ...] | None = Field(
        default=None,
        max_length=MAX_TOGETHER_SIZES,
        description="sizes of the sets of sites to choose jointly (default: 2 to open_sites)",
    )

    @field_validator("together")
    @classmethod
    def _distinct(cls, sizes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if sizes is not None and len(set(sizes)) != len(sizes):
            raise ValueError("each size may be given once")
        return sizes


class PlanPlacesRunOptions(RunOptions):
    """Options of a `plan-places` run."""

    add: int = Field(ge=0, le=100_000, description="at most this many new places")
    expansions: str = Field(min_length=1, description="expansions.csv text: school_id,need,max_extra")


class WhatIfRunOptions(RunOptions):
    """Options of a `whatif` run."""

    scenario: str = Field(description="the scenario, TOML text (see the README, Estates)")
    scenario_name: str = Field(
        default=SCENARIO_NAME, min_length=1, max_length=200, description="file name its problems are located in"
    )


class DemoRunOptions(RunOptions):
    """Options of the demo (a solve with the candidate-sites evaluation and the report)."""

    title: str = Field(min_length=1, description="the report's title")


def solver_options(options: RunOptions) -> SolveOptions:
    return SolveOptions() if options.time_limit is None else SolveOptions(time_limit=options.time_limit)


def combined_status(*statuses: RunStatus) -> RunStatus:
    """One status for several solves: `optimal` when every one was proven, else `feasible`."""
    return RunStatus.OPTIMAL if all(status is RunStatus.OPTIMAL for status in statuses) else RunStatus.FEASIBLE


@contextmanager
def _stage(progress: Progress | None, name: str) -> Iterator[None]:
    if progress is None:
        yield
    else:
        with progress.stage(name):
            yield


def _summary(allocation: Allocation) -> dict[str, Any]:
    return allocation.summary.model_dump(mode="json")


def solve_run(loaded: LoadedCase, options: SolveRunOptions, progress: Progress | None = None) -> RunOutput:
    """`allocator solve`: allocation.csv, summary.json and explanations.csv, with
    `alternatives` > 1 also alternatives/allocation_2.csv, ... (further optimal allocations)."""
    loaded = with_run_policy(loaded, options.objective, options.fairness)
    run = solve_round(loaded, solver_options(options), progress, explain=True)
    allocation, files = run.allocation, {}
    if options.alternatives > 1:
        with _stage(progress, "finding other optimal allocations"):
            allocation, further = with_alternatives(run, options.alternatives, loaded.input_sha256)
        files = alternative_files(further)
    files = {**allocation_files(allocation), **files}
    return RunOutput(
        files, _summary(allocation), allocation.summary.status, allocation.placements, allocation.explanations
    )


def demo_run(loaded: LoadedCase, options: DemoRunOptions, progress: Progress | None = None) -> RunOutput:
    """`allocator demo`: the solve, the candidate-sites evaluation when the case has candidate
    sites, and the report. The summary adds `seconds` (solve and candidate sites, unrounded)."""
    started = time.perf_counter()
    allocation = allocate(loaded, solver_options(options), progress, explain=True)
    solve_seconds = time.perf_counter() - started
    report, sites_seconds = None, None
    if has_candidate_sites(loaded.case):
        started = time.perf_counter()
        with _stage(progress, "evaluating candidate sites"):
            report = evaluate_sites(loaded, solver_options(options))
        sites_seconds = time.perf_counter() - started
    with _stage(progress, "writing the report"):
        sections = [*candidate_sites_sections(loaded.case, report), *stability_sections(allocation, loaded.case.policy)]
        files = run_files(loaded.case, allocation, title=options.title, extra_sections=sections)
    summary = {**_summary(allocation), "seconds": {"solve": solve_seconds, "candidate_sites": sites_seconds}}
    return RunOutput(files, summary, allocation.summary.status, allocation.placements, allocation.explanations)


def sites_run(loaded: LoadedCase, options: SitesRunOptions, progress: Progress | None = None) -> RunOutput:
    """`allocator sites`: sites.csv, sites.json, marginal.csv and report.html. The summary is the
    joint choice's, with `sites_ranked` (best first) and `joint_choices` (size -> opened sites);
    no allocation is kept. Its status is `optimal` only when every joint choice was proven."""
    with _stage(progress, "evaluating candidate sites"):
        report = evaluate_sites(loaded, solver_options(options), options.together)
    summary = {
        **_summary(report.joint),
        "sites_ranked": [site.site_id for site in report.sites],
        "joint_choices": {str(c.size): c.allocation.summary.opened_sites for c in report.together},
    }
    status = combined_status(report.joint.summary.status, *(c.allocation.summary.status for c in report.together))
    # Each site alone is one exact flow; only the joint choices can stop short of a proof.
    return RunOutput(sites_run_files(loaded, report), summary, status)


def plan_places_run(loaded: LoadedCase, options: PlanPlacesRunOptions, progress: Progress | None = None) -> RunOutput:
    """`allocator plan-places`: plan.csv and the allocation with the plan applied. The summary adds
    `new_places_used` and `school_need_pairs` (pairs given at least one new place)."""
    expansions = parse_expansions(options.expansions, loaded.case)
    return planned_places_run(loaded, expansions, options.add, options, progress)


def planned_places_run(
    loaded: LoadedCase,
    expansions: tuple[Expansion, ...],
    add: int,
    options: RunOptions,
    progress: Progress | None = None,
) -> RunOutput:
    """`plan_places_run` once the expansions are read: the CLI reads them from a case folder's
    expansions.csv or a workbook's expansions sheet, the API from the run's options."""
    with _stage(progress, "planning new places"):
        plan = plan_places(loaded, expansions, add, solver_options(options))
    summary = {
        **_summary(plan.allocation),
        "new_places_used": sum(p.extra_places for p in plan.plan),
        "school_need_pairs": len(plan.plan),
    }
    return RunOutput(place_plan_files(plan), summary, plan.allocation.summary.status, plan.allocation.placements)


def whatif_run(loaded: LoadedCase, options: WhatIfRunOptions, progress: Progress | None = None) -> RunOutput:
    """`allocator whatif`: the comparison, the moves, and the scenario run's allocation (synthetic
    children last). The summary holds both runs' summaries and `children_moving`."""
    scenario = parse_scenario(options.scenario, loaded.case, options.scenario_name)
    with _stage(progress, "solving baseline and scenario"):
        result = run_whatif(loaded, scenario, options.scenario, solver_options(options))
    status = combined_status(result.baseline.summary.status, result.scenario.summary.status)
    summary = {
        "status": status.value,
        "baseline": _summary(result.baseline),
        "scenario": _summary(result.scenario),
        "children_moving": len(result.moves),
    }
    return RunOutput(whatif_files(result), summary, status, result.scenario.placements)
