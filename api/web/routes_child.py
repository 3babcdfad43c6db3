"""`/runs/{run_id}/children/{child_id}`: the child's placement, the family's preferences, the
explanation and its counterfactuals, the panel's decisions; for a panel member, a decision form
whose knock-on effect is previewed (the run re-solved with that decision) before it is confirmed
and recorded."""

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.access import Permission
from api.dependencies import DatabaseDep
from api.errors import ApiError
from api.services.browse import Recent, loaded_case, preferences_of, school_names
from api.services.case_files import load_files
from api.services.decisions import record_decision
from api.services.knock_on import KnockOn, PanelDecision, knock_on, schools_in_reach
from api.services.runs import child_placement
from api.storage.cases import case_files
from api.storage.decisions import locks_for_case
from api.web.explanations import explanation_row
from api.web.forms import FieldError, error_context
from api.web.pages import not_found_page, urgency_text
from api.web.session import DecidePost, ReaderPage, WebCaller
from api.web.templating import render

router = APIRouter(include_in_schema=False)

DECISIONS = {
    "accept": "Accept the proposed place",
    "override": "Choose another school",
    "refuse": "Refuse the proposed place",
}
MAX_REASON = 4000


@dataclass(frozen=True)
class DecisionForm:
    decision: str
    school_id: str
    reason: str

    def as_panel_decision(self) -> PanelDecision:
        assert self.decision in DECISIONS
        return PanelDecision(self.decision, self.school_id or None, self.reason)  # type: ignore[arg-type]


_REACHABLE: Recent[dict[str, int]] = Recent(256)


def _reachable(database: Any, case_id: str, child_id: str) -> dict[str, int]:
    """The schools the child may attend (need, age, travel limit or ranked), with the panel's
    other locks applied as the next run would read them; kept for the same case and locks."""
    with database.session() as session:
        locks = {child: school for child, school in locks_for_case(session, case_id).items() if child != child_id}

    def find() -> dict[str, int]:
        if not locks:
            return schools_in_reach(loaded_case(database, case_id), child_id)
        with database.session() as session:
            files = case_files(session, case_id)
        return schools_in_reach(load_files(files, locks), child_id)

    return _REACHABLE.get((id(database), case_id, child_id, tuple(sorted(locks.items()))), find)


def _child_context(database: Any, run_id: str, child_id: str) -> dict[str, Any] | None:
    try:
        found = child_placement(database, run_id, child_id)
    except ApiError:
        return None
    run, placement = found.run, found.placement
    names = school_names(database, run.case_id)
    case = loaded_case(database, run.case_id).case
    child = next(c for c in case.children if c.child_id == child_id)
    reachable = _reachable(database, run.case_id, child_id)
    return {
        "run": run,
        "placement": placement,
        "child": child,
        "urgency": urgency_text(child.priority, case.policy),
        "child_policy": case.policy,
        "names": names,
        "preferences": preferences_of(database, run.case_id, child_id),
        "decisions": found.decisions,
        "explanation": explanation_row(database, run_id, child_id, case.policy),
        "reachable": [(school, minutes) for school, minutes in reachable.items() if school != placement.school_id],
        "decision_words": DECISIONS,
    }


def _child_page(
    request: Request,
    database: Any,
    caller: WebCaller,
    run_id: str,
    child_id: str,
    form: DecisionForm | None,
    errors: list[FieldError],
    status: int,
) -> Response:
    context = _child_context(database, run_id, child_id)
    if context is None:
        return not_found_page(request, caller, "child in this run")
    return render(
        request,
        "child.html",
        caller,
        status_code=status,
        title=f"Child {child_id}",
        may_decide=caller.may(Permission.DECIDE),
        form=form or DecisionForm("", "", ""),
        **error_context(errors),
        recorded=request.query_params.get("recorded") == "1",
        **context,
    )


@router.get("/runs/{run_id}/children/{child_id}")
async def child_page(
    request: Request, run_id: str, child_id: str, database: DatabaseDep, caller: ReaderPage
) -> Response:
    return await run_in_threadpool(_child_page, request, database, caller, run_id, child_id, None, [], 200)


def _checked_form(context: dict[str, Any], form: DecisionForm) -> list[FieldError]:
    """The form's problems, each linked to its field (none: it may be previewed); `context` is
    the child page's (`_child_context`)."""
    errors = []
    if form.decision not in DECISIONS:
        errors.append(FieldError("Choose what the panel decided", "#decision"))
    if form.decision == "override":
        if not form.school_id:
            errors.append(FieldError("Choose the school the child should go to", "#school_id"))
        else:
            allowed = {school for school, _ in context["reachable"]}
            if form.school_id not in allowed:
                errors.append(FieldError("Choose one of the schools listed", "#school_id"))
    if not form.reason:
        errors.append(FieldError("Enter the panel's reason", "#reason"))
    elif len(form.reason) > MAX_REASON:
        errors.append(FieldError(f"The reason must be {MAX_REASON:,} characters or fewer", "#reason"))
    return errors


def _form(posted: Any) -> DecisionForm:
    decision = posted.text("decision")
    return DecisionForm(decision, posted.text("school_id") if decision == "override" else "", posted.text("reason"))


def _checked_post(
    database: Any, run_id: str, child_id: str, form: DecisionForm
) -> tuple[dict[str, Any], list[FieldError]] | None:
    """The child's page context and what is wrong with the posted form, or None when the
    run has no such child: the first step of both the preview and the confirm."""
    context = _child_context(database, run_id, child_id)
    if context is None:
        return None
    return context, _checked_form(context, form)


def _preview(
    request: Request, database: Any, caller: WebCaller, run_id: str, child_id: str, form: DecisionForm
) -> Response:
    checked = _checked_post(database, run_id, child_id, form)
    if checked is None:
        return not_found_page(request, caller, "child in this run")
    context, errors = checked
    effect: KnockOn | None = None
    if not errors:
        try:
            effect = knock_on(database, run_id, child_id, form.as_panel_decision())
        except ApiError as error:
            href = "#school_id" if form.decision == "override" else "#decision"
            errors = [FieldError(error.message, href)]
    if effect is None:
        return _child_page(request, database, caller, run_id, child_id, form, errors, 422)
    return render(
        request,
        "knock_on.html",
        caller,
        title=f"Check the knock-on effect for child {child_id}",
        form=form,
        effect=effect,
        tiers=sorted(((int(t), n) for t, n in effect.diff.moves_by_priority.items()), reverse=True),
        urgency_text=partial(urgency_text, policy=context["child_policy"]),
        **context,
    )


@router.post("/runs/{run_id}/children/{child_id}/preview")
async def preview_decision(
    request: Request, run_id: str, child_id: str, posted: DecidePost, database: DatabaseDep
) -> Response:
    form = _form(posted)
    return await run_in_threadpool(_preview, request, database, posted.caller, run_id, child_id, form)


def _confirm(
    request: Request, database: Any, caller: WebCaller, run_id: str, child_id: str, form: DecisionForm
) -> Response:
    checked = _checked_post(database, run_id, child_id, form)
    if checked is None:
        return not_found_page(request, caller, "child in this run")
    context, errors = checked
    if not errors:
        proposed = context["placement"].school_id
        school = form.school_id if form.decision == "override" else proposed
        if school is None:
            errors = [FieldError("The run proposed no school for this child: choose another school", "#decision")]
        else:
            decision = {
                "child_id": child_id,
                "school_id": school,
                "decision": form.decision,
                "reason": form.reason,
                "run_id": run_id,
            }
            try:
                record_decision(database, context["run"].case_id, decision, caller.key_id)
            except ApiError as error:
                errors = [FieldError(error.message, "#decision")]
            else:
                return RedirectResponse(f"/runs/{run_id}/children/{child_id}?recorded=1", status_code=303)
    return _child_page(request, database, caller, run_id, child_id, form, errors, 422)


@router.post("/runs/{run_id}/children/{child_id}/decisions")
async def confirm_decision(
    request: Request, run_id: str, child_id: str, posted: DecidePost, database: DatabaseDep
) -> Response:
    form = _form(posted)
    return await run_in_threadpool(_confirm, request, database, posted.caller, run_id, child_id, form)
