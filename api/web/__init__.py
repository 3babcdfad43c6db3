"""The web pages (issue 11), served by the same app as /v1: `install_web(app)` adds the page
routers, the static files and the handlers that turn "sign in first" and "not allowed" into a
redirect and a 403 page. How to add a page: api/web/README.md."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web import routes_cases, routes_child, routes_estates, routes_runs, routes_sign_in
from api.web.session import PageForbidden, SignInRequired
from api.web.templating import STATIC, render

ROUTERS = [routes_sign_in.router, routes_cases.router, routes_runs.router, routes_child.router, routes_estates.router]
"""Every page router, in order; add a new one here (see api/web/README.md)."""


def install_web(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # govuk-frontend's and MoJ's compiled CSS look for fonts and images under /assets.
    app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(_request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(error.next_path, status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, error: PageForbidden) -> Response:
        return render(request, "message.html", None, status_code=403, title="You cannot do that", message=error.message)
