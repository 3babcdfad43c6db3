"""The Jinja environment of the pages: our templates, then govuk-frontend-jinja's macros
(imported as `govuk_frontend_jinja/components/<name>/macro.html`)."""

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.web.session import WebCaller

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SERVICE_NAME = "Specialist school places"

environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
        ]
    ),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)


def figure_text(value: float) -> str:
    """A summary figure: whole numbers with thousands separators, others to 2 decimal places."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def sentence_case(text: str) -> str:
    """The first letter upper case and the rest as written (Jinja's `capitalize` would lower
    school names and need codes: "holly grove school", "pmld")."""
    return text[:1].upper() + text[1:]


environment.filters["figure"] = figure_text
environment.filters["sentence"] = sentence_case
environment.globals["role_names"] = {
    "officer": "an officer",
    "panel": "a panel member",
    "estates": "an estates officer",
    "admin": "an administrator",
}


def render(
    request: Request, template: str, caller: WebCaller | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page `template` with the caller (None on the sign-in page) and `context`."""
    page = environment.get_template(template).render(
        request=request, caller=caller, service_name=SERVICE_NAME, path=request.url.path, **context
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})
