"""What every solver returns, before explanations and the summary."""

from dataclasses import dataclass, field

from data.arrays import BoolArray, IntArray
from models.results import RunStatus


@dataclass(frozen=True)
class Solution:
    """An assignment (`chosen_pair[child]` = pair index, -1 unplaced or locked), the sites it
    opens, how sure we are of it, and which solver found it.

    `bounds` holds, per objective level reached, the proven value (or, for the level a time
    limit stopped, the solver's bound); `gap` is that level's relative gap in [0, 1];
    `stopped_at_limit` is the time limit (seconds) the solve stopped at before its proof, None
    when it finished (the summary then reports the limit as `solve_seconds`, see
    `allocator.summary`).
    """

    chosen_pair: IntArray
    open_sites: BoolArray
    status: RunStatus
    solver: str
    bounds: dict[str, float] = field(default_factory=dict)
    gap: float = 0.0
    stopped_at_limit: float | None = None
