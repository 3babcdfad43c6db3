"""Request bodies. Unknown fields are refused (422 `request_invalid`)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.access import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseUpload(Strict):
    """A case as JSON: file field name -> the file's text, e.g.
    `{"files": {"schools": "school_id,name,...\\n...", "places": "...", "children": "..."}}`."""

    files: dict[str, str]


class RunRequest(BaseModel):
    """`{"kind": ..., ...options}`; options are checked by the kind's own model (`api.jobs`):
    unknown options are refused (422 `options_invalid`)."""

    model_config = ConfigDict(extra="allow")
    kind: str
    time_limit: float | None = Field(default=None, gt=0, description="seconds; capped by the service")


class DecisionRequest(Strict):
    child_id: str = Field(min_length=1, max_length=100)
    school_id: str = Field(min_length=1, max_length=100)
    decision: Literal["accept", "override", "refuse"]
    reason: str = Field(min_length=1, max_length=4000)
    run_id: str = Field(
        min_length=1,
        max_length=40,
        description="the finished run of this case the decision is about: `accept` takes the school it "
        "proposed for the child, `override` names another, `refuse` refuses the proposed one",
    )


class KeyRequest(Strict):
    role: Role
    label: str = Field(default="", max_length=200)
