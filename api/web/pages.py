"""Words and small pages the page routers share."""

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from api.web.session import WebCaller
from api.web.templating import render
from models.case import Policy

KIND_NAMES = {
    "solve": "Allocate places",
    "sites": "Rank candidate sites",
    "plan-places": "Plan new places",
    "whatif": "What if",
}

STATUS_WORDS = {
    "queued": "Waiting to start",
    "running": "Running",
    "optimal": "Finished (best possible)",
    "feasible": "Finished (best found in the time allowed)",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def status_text(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def not_found_page(request: Request, caller: WebCaller, what: str) -> Response:
    return render(
        request,
        "message.html",
        caller,
        status_code=404,
        title="Page not found",
        message=f"There is no such {what}. Check the address, or go back to your cases.",
    )


@dataclass(frozen=True)
class Pager:
    """Links to the pages of a list: `path?<params>&page=N`."""

    label: str
    path: str
    params: tuple[tuple[str, str], ...] = ()

    def url(self, page: int) -> str:
        return f"{self.path}?{urlencode([*self.params, ('page', str(page))])}"


def urgency_text(tier: int, policy: Policy | None = None) -> str:
    """A priority tier in a table cell, by the name the case's policy gives it
    (`[priority_names]`, else the defaults: "Standard priority", ...)."""
    name = (policy or Policy()).priority_name(tier)
    return name[:1].upper() + name[1:]


OUTCOME_WORDS = {
    "placed": "Placed",
    "first_choice": "Placed at their first choice",
    "not_first_choice": "Not at their first choice (or not placed)",
    "unplaced": "Not placed",
}
