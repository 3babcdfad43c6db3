"""Run kinds: which function does the work and which permission it needs.

A kind's function has the signature `(loaded: LoadedCase, options: dict) -> result` where
result is either `{"files": {name: text}, "summary": {...}}` or a flat `{name: text}` that
contains `summary.json`; `allocation.csv`, when present, backs the allocation endpoints.
A kind whose module cannot be imported yet is `unavailable` (422 `kind_unavailable`).
"""

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.access import Permission
from data.loader import LoadedCase

RunFunction = Callable[[LoadedCase, dict[str, Any]], Mapping[str, Any]]


class SolveOptionsIn(BaseModel):
    """Options of a `solve` run (beyond `kind`)."""

    model_config = ConfigDict(extra="forbid")
    time_limit: float | None = Field(default=None, gt=0)


class OpenOptionsIn(BaseModel):
    """Options of kinds implemented elsewhere: checked by their own function."""

    model_config = ConfigDict(extra="allow")
    time_limit: float | None = Field(default=None, gt=0)


@dataclass(frozen=True)
class RunKind:
    name: str
    permission: Permission
    module: str
    function: str
    options: type[BaseModel] = field(default=OpenOptionsIn)

    def load(self) -> RunFunction | None:
        try:
            module = importlib.import_module(self.module)
        except ImportError:
            return None
        found = getattr(module, self.function, None)
        return found if callable(found) else None


ESTATES = "api.services.estates_runs"


def _estates_options(name: str) -> type[BaseModel]:
    """The kind's own options model, or open options while allocator.estates is missing."""
    try:
        module = importlib.import_module(ESTATES)
    except ImportError:
        return OpenOptionsIn
    found: type[BaseModel] = getattr(module, name)
    return found


KINDS: dict[str, RunKind] = {
    kind.name: kind
    for kind in (
        RunKind("solve", Permission.SOLVE, "api.services.solve_run", "solve_run", SolveOptionsIn),
        RunKind("sites", Permission.SITES, ESTATES, "sites", _estates_options("SitesOptionsIn")),
        RunKind(
            "plan-places", Permission.PLAN_PLACES, ESTATES, "plan_places_run", _estates_options("PlanPlacesOptionsIn")
        ),
        RunKind("whatif", Permission.WHATIF, ESTATES, "whatif", _estates_options("WhatIfOptionsIn")),
    )
}


@dataclass(frozen=True)
class RunOutput:
    files: dict[str, str]
    summary: dict[str, Any]


def normalise_output(result: Mapping[str, Any]) -> RunOutput:
    """Accept either result shape (see module docstring); bytes are decoded as UTF-8."""
    if "files" in result and isinstance(result["files"], Mapping):
        files = dict(result["files"])
        summary = dict(result.get("summary") or {})
    else:
        files = dict(result)
        summary = {}
    text_files = {
        name: content.decode() if isinstance(content, bytes) else str(content) for name, content in files.items()
    }
    if not summary and "summary.json" in text_files:
        summary = json.loads(text_files["summary.json"])
    return RunOutput(text_files, summary)
