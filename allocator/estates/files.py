"""Text of the estates output files (written all-or-nothing by `data.outputs.write_outputs`).

No timings go into these files, so the same input gives byte-identical output.
"""

from allocator.estates.plan import PlacePlan
from allocator.estates.sites import SITE_COLUMNS, SitesReport, site_row, sites_document
from allocator.estates.whatif import WhatIf
from data.outputs import allocation_files, csv_text, json_text

# Columns may be added, never removed or reordered: `name` (after school_id) was added later.
MARGINAL_COLUMNS = (
    "school_id",
    "name",
    "need",
    "places",
    "placed_gain",
    "preference_cost_saved",
    "travel_saved_minutes",
)
PLAN_COLUMNS = ("school_id", "need", "extra_places")
MOVE_COLUMNS = ("child_id", "from_school_id", "to_school_id", "why")
CHANGE_COLUMNS = ("figure", "baseline", "scenario", "change")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 4)


def sites_files(report: SitesReport) -> dict[str, str]:
    rows = [site_row(site, report.baseline, rank) for rank, site in enumerate(report.sites, start=1)]
    return {
        "sites.csv": csv_text(SITE_COLUMNS, ([row[c] for c in SITE_COLUMNS] for row in rows)),
        "sites.json": json_text(sites_document(report)),
        "marginal.csv": csv_text(MARGINAL_COLUMNS, ([m.row()[c] for c in MARGINAL_COLUMNS] for m in report.marginal)),
    }


def place_plan_files(plan: PlacePlan) -> dict[str, str]:
    return {
        "plan.csv": csv_text(PLAN_COLUMNS, ((p.school_id, p.need.value, p.extra_places) for p in plan.plan)),
        **allocation_files(plan.allocation),
    }


def whatif_files(result: WhatIf) -> dict[str, str]:
    changes = [
        {"figure": name, "baseline": _number(before), "scenario": _number(after), "change": _number(after - before)}
        for name, before, after in result.changes
    ]
    comparison = {
        "baseline": result.baseline.summary.model_dump(mode="json"),
        "scenario": result.scenario.summary.model_dump(mode="json"),
        "changes": changes,
        "children_moving": len(result.moves),
        "synthetic_children_added": result.synthetic_children,
        "opened_for_certain": list(result.opened_for_certain),
    }
    scenario_files = allocation_files(result.scenario)
    return {
        "comparison.json": json_text(comparison),
        "changes.csv": csv_text(CHANGE_COLUMNS, ([c[k] for k in CHANGE_COLUMNS] for c in changes)),
        "moves.csv": csv_text(MOVE_COLUMNS, ((m.child_id, m.from_school, m.to_school, m.why) for m in result.moves)),
        "allocation.csv": scenario_files["allocation.csv"],
        "summary.json": scenario_files["summary.json"],
    }
