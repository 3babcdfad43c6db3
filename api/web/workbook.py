"""An uploaded `.xlsx` workbook as the case files the service stores (one CSV per sheet and
policy.toml), after the CLI's workbook loader has checked it: its problems are located at
`sheet:row: column` as `allocator solve round.xlsx` reports them. The workbook is written to a
private temporary file only while it is read (openpyxl reads files), then removed."""

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from api.errors import ApiError, case_invalid
from data.workbook import CASE_SHEETS, load_workbook_case, read_workbook_sheets
from models.problems import CaseInvalid, Problem

WORKBOOK_FIELD = "workbook"


def workbook_fields(file_name: str, content: bytes) -> dict[str, bytes]:
    """Upload field -> file content for a valid workbook; ApiError 422 `case_invalid` listing every
    problem otherwise."""
    folder = tempfile.mkdtemp(prefix="allocator-upload-")
    path = Path(folder) / Path(file_name).name
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        try:
            loaded = load_workbook_case(path)
        except CaseInvalid as error:
            raise case_invalid(error) from None
        problems: list[Problem] = []
        sheets = read_workbook_sheets(path, problems, CASE_SHEETS) or {}
    finally:
        path.unlink(missing_ok=True)
        os.rmdir(folder)
    fields: dict[str, bytes] = {}
    for name, table in sheets.items():
        if name == "policy":
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.header)
        writer.writerows(table.rows)
        fields[name] = buffer.getvalue().encode()
    if "policy" in sheets:
        fields["policy"] = policy_toml(loaded.case.policy.model_dump(mode="json")).encode()
    if not fields:
        raise ApiError(422, "case_invalid", "the workbook holds no case sheets")
    return fields


def policy_toml(settings: dict[str, Any]) -> str:
    """Settings (scalars and one level of tables, as Policy dumps) as TOML text."""
    lines = [f"{key} = {_value(value)}" for key, value in settings.items() if not isinstance(value, dict)]
    for key, value in settings.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{name} = {_value(item)}" for name, item in value.items() if item is not None)
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))
