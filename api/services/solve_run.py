"""The `solve` kind: the same allocation as `allocator solve`, as run outputs."""

from collections.abc import Mapping
from typing import Any

from allocator.options import SolveOptions
from allocator.solve import allocate
from data.loader import LoadedCase
from data.outputs import allocation_files


def solve_run(loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
    allocation = allocate(loaded, SolveOptions(time_limit=float(options["time_limit"])))
    return {"files": allocation_files(allocation), "summary": allocation.summary.model_dump(mode="json")}
