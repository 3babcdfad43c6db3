"""Turning refusals into GOV.UK error summaries: each problem a sentence linking to its field."""

import re
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<column>[^:]+): (?P<message>.*)$")
FIELD_PROBLEM = re.compile(r"^(?P<field>[A-Za-z_.]+): (?P<message>.*)$")


@dataclass(frozen=True)
class FieldError:
    text: str
    href: str

    def item(self) -> dict[str, str]:
        return {"text": self.text, "href": self.href}


def error_context(errors: list[FieldError]) -> dict[str, Any]:
    """What a page with a form needs to show `errors`: the summary's list (`errors`) and each
    field's own message by its id (`field_errors`)."""
    return {
        "errors": [error.item() for error in errors],
        "field_errors": {error.href.lstrip("#"): error.text for error in errors},
    }


def upload_field_id(file_name: str) -> str:
    """The id of the upload form's input for a contract file (`children.csv` -> `file-children`)."""
    return "file-" + file_name.rsplit(".", 1)[0].replace("_", "-")


def located_problem(problem: str, fallback_href: str) -> FieldError:
    """`children.csv:12: need: must be one of ...` as 'children.csv, line 12, column need: ...',
    linking to that file's input."""
    found = LOCATED.match(problem)
    if found is None:
        return FieldError(problem, fallback_href)
    file, line, column, message = found["file"], int(found["line"]), found["column"], found["message"]
    where = file if line == 0 else f"{file}, line {line}"
    if column != "-":
        where += f", column {column}"
    return FieldError(f"{where}: {message}", f"#{upload_field_id(file)}")


def upload_errors(error: ApiError, fallback_href: str) -> list[FieldError]:
    """Every problem of a refused upload, located; the message alone when it lists none."""
    if not error.problems:
        return [FieldError(error.message, fallback_href)]
    found = []
    for problem in error.problems:
        field = FIELD_PROBLEM.match(problem)
        if field is not None and not LOCATED.match(problem):
            found.append(FieldError(f"{field['field']}: {field['message']}", f"#{upload_field_id(field['field'])}"))
        else:
            found.append(located_problem(problem, fallback_href))
    return found
