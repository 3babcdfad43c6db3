"""`/cases`: the cases, newest first, and the upload form."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.dependencies import DatabaseDep
from api.services.browse import newest_cases
from api.web.session import ReaderPage
from api.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/cases")
async def cases_page(request: Request, database: DatabaseDep, caller: ReaderPage) -> Response:
    cases = await run_in_threadpool(newest_cases, database)
    return render(request, "cases.html", caller, title="Cases", cases=cases, errors=[])
