"""Run kinds: the options each takes, the function that does the work (`api.jobs`, the same
functions the `allocator` command calls) and the permission it needs."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from api.access import Permission
from api.jobs import (
    PlanPlacesRunOptions,
    RunOptions,
    RunOutput,
    SitesRunOptions,
    SolveRunOptions,
    WhatIfRunOptions,
    plan_places_run,
    sites_run,
    solve_run,
    whatif_run,
)
from data.loader import LoadedCase

Options = TypeVar("Options", bound=RunOptions)


@dataclass(frozen=True)
class RunKind(Generic[Options]):
    name: str
    permission: Permission
    options: type[Options]
    run: Callable[[LoadedCase, Options], RunOutput]

    def execute(self, loaded: LoadedCase, options: Mapping[str, Any]) -> RunOutput:
        """Run on the loaded case with stored options (validated again by the kind's model)."""
        return self.run(loaded, self.options.model_validate(options))


KINDS: dict[str, RunKind[Any]] = {
    kind.name: kind
    for kind in (
        RunKind("solve", Permission.SOLVE, SolveRunOptions, solve_run),
        RunKind("sites", Permission.SITES, SitesRunOptions, sites_run),
        RunKind("plan-places", Permission.PLAN_PLACES, PlanPlacesRunOptions, plan_places_run),
        RunKind("whatif", Permission.WHATIF, WhatIfRunOptions, whatif_run),
    )
}
