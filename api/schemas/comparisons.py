"""Bodies of the comparison and knock-on endpoints."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.services.compare import RoundDiff


class KnockOnRequest(BaseModel):
    """A decision the panel is considering: `school_id` for `override` only; `reason` optional."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "override", "refuse"]
    school_id: str | None = Field(default=None, min_length=1, max_length=100)
    reason: str = Field(default="", max_length=4000)


class MoveOut(BaseModel):
    child_id: str
    need: str
    priority: int
    from_school_id: str | None = Field(description="null: the child was not placed")
    from_school: str
    to_school_id: str | None = Field(description="null: the child would not be placed")
    to_school: str
    reason: str = Field(description="why, in plain English; never names another child")


class FigureOut(BaseModel):
    figure: str = Field(description="the summary.json key path, e.g. `placed_by_priority.2`")
    label: str = Field(description="the figure in plain English")
    before: float
    after: float
    change: float


class DiffOut(BaseModel):
    moves: list[MoveOut]
    moves_by_priority: dict[str, int] = Field(description="priority tier -> children moving (every tier)")
    figures: list[FigureOut]


class ComparisonOut(DiffOut):
    case_id: str
    run_a: str
    run_b: str


class KnockOnOut(DiffOut):
    run_id: str
    child_id: str
    decision: str
    school_id: str


def diff_fields(diff: RoundDiff) -> dict[str, object]:
    return {
        "moves": [MoveOut.model_validate(move, from_attributes=True) for move in diff.moves],
        "moves_by_priority": diff.moves_by_priority,
        "figures": [
            FigureOut(figure=f.figure, label=f.label, before=f.before, after=f.after, change=f.change)
            for f in diff.figures
        ],
    }
