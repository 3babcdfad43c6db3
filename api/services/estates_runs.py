"""The estates kinds as run functions `(loaded, options) -> {"files", "summary"}`, calling the
same code as `allocator sites | plan-places | whatif` (allocator.estates).

Inputs the case upload does not carry travel in the options, as text:
* `plan-places`: `add` (at most this many new places) and `expansions` (expansions.csv text);
* `whatif`: `scenario` (the scenario TOML text, see the README, Estates).
Problems in that text are reported like case problems (`expansions.csv:3: need: ...`).
"""

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from allocator.estates.files import place_plan_files, whatif_files
from allocator.estates.plan import plan_places
from allocator.estates.sites import evaluate_sites
from allocator.estates.whatif import run_whatif
from allocator.options import SolveOptions
from data.expansions import EXPANSIONS_FILE, load_expansions
from data.loader import LoadedCase
from data.scenario import parse_scenario
from report.sites import sites_run_files

SCENARIO_NAME = "scenario.toml"


class SitesOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float | None = Field(default=None, gt=0)


class PlanPlacesOptionsIn(SitesOptionsIn):
    add: int = Field(ge=0, description="at most this many new places")
    expansions: str = Field(min_length=1, description="expansions.csv text: school_id,need,max_extra")


class WhatIfOptionsIn(SitesOptionsIn):
    scenario: str = Field(description="the scenario, TOML text (see the README, Estates)")


def _solve_options(options: dict[str, Any]) -> SolveOptions:
    return SolveOptions(time_limit=float(options["time_limit"]))


def sites(loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
    report = evaluate_sites(loaded, _solve_options(options))
    summary = report.joint.summary.model_dump(mode="json")
    summary["sites_ranked"] = [site.site_id for site in report.sites]
    return {"files": sites_run_files(loaded, report), "summary": summary}


def plan_places_run(loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
    with tempfile.TemporaryDirectory(prefix="allocator-expansions-") as folder:
        (Path(folder) / EXPANSIONS_FILE).write_text(str(options["expansions"]), encoding="utf-8")
        expansions = load_expansions(Path(folder), loaded.case)
    plan = plan_places(loaded, expansions, int(options["add"]), _solve_options(options))
    summary = plan.allocation.summary.model_dump(mode="json")
    summary["new_places_used"] = sum(p.extra_places for p in plan.plan)
    return {"files": place_plan_files(plan), "summary": summary}


def whatif(loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
    text = str(options["scenario"])
    scenario = parse_scenario(text, loaded.case, SCENARIO_NAME)
    result = run_whatif(loaded, scenario, text, _solve_options(options))
    before, after = result.baseline.summary, result.scenario.summary
    statuses = {before.status.value, after.status.value}
    status = "optimal" if statuses == {"optimal"} else ("feasible" if statuses <= {"optimal", "feasible"} else "failed")
    summary = {
        "status": status,
        "baseline": before.model_dump(mode="json"),
        "scenario": after.model_dump(mode="json"),
        "children_moving": len(result.moves),
    }
    return {"files": whatif_files(result), "summary": summary}
