"""Typing raw rows into domain models, turning every validation error into a Problem."""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from data.tables import RawTable, column_label
from models.case import MAX_ID_LENGTH, escaped, first_refused_character, shown
from models.problems import Problem

ModelT = TypeVar("ModelT", bound=BaseModel)


def require_columns(table: RawTable, required: Sequence[str], problems: list[Problem]) -> bool:
    """Record a problem per missing required column; True when all are there."""
    missing = [column for column in required if column not in table.header]
    for column in missing:
        problems.append(Problem(table.name, table.header_line, column, "required column is missing"))
    return not missing


def typed_rows(
    table: RawTable,
    model: type[ModelT],
    columns: Sequence[str],
    required: Sequence[str],
    problems: list[Problem],
    failed: set[int] | None = None,
) -> list[tuple[int, ModelT]]:
    """(line, model) for each valid row, in file order; record problems for the others.

    An empty cell means "not given": the field takes its default, or is a problem when the
    column is required. Columns outside `columns` are carried by the file but ignored. A row
    with a refused character in a cell (`table.refused`) is already a problem: it is skipped.

    The rows are validated by the model in one call over the whole list (pydantic's own list
    validation: the same checks, without a call per row); when any row is invalid, each row is
    validated on its own, so that every problem is found and said as for a single row.
    """
    index = table.column_index()
    present = [column for column in columns if column in index]
    positions = [index[column] for column in present]
    failed = set() if failed is None else failed
    if positions == list(range(len(table.header))):
        picked = table.rows  # every column, in order: the rows themselves
    else:
        picked = [[row[position] for position in positions] for row in table.rows]
    if not table.refused and "" not in itertools.chain.from_iterable(picked):
        # the usual file: every row is a candidate with every cell given
        lines, candidates = table.lines, list(map(dict, map(zip, itertools.repeat(present), picked)))
    else:
        lines, candidates = _candidates(table, present, picked, required, problems, failed)
    try:
        return list(zip(lines, _list_adapter(model).validate_python(candidates), strict=True))
    except ValidationError:
        pass
    typed: list[tuple[int, ModelT]] = []
    for line, values in zip(lines, candidates, strict=True):
        try:
            typed.append((line, model.model_validate(values)))
        except ValidationError as error:
            failed.add(line)
            for detail in error.errors():
                column = str(detail["loc"][0]) if detail["loc"] else _column_named_in(detail, columns)
                problems.append(Problem(table.name, line, column, friendly_message(detail)))
    return typed


def _candidates(
    table: RawTable,
    present: list[str],
    picked: list[list[str]],
    required: Sequence[str],
    problems: list[Problem],
    failed: set[int],
) -> tuple[list[int], list[dict[str, Any]]]:
    """The lines and values of the rows to validate: not refused, and no required cell empty (a
    problem); an empty cell that is not required is left out (the field takes its default)."""
    required_present = [column for column in present if column in required]
    lines: list[int] = []
    candidates: list[dict[str, Any]] = []
    for line, cells in zip(table.lines, picked, strict=True):
        if line in table.refused:
            failed.add(line)
            continue
        if "" in cells:
            empty = [column for column, cell in zip(present, cells, strict=True) if cell == ""]
            missing = [column for column in empty if column in required_present]
            for column in missing:
                problems.append(Problem(table.name, line, column, "required value is empty"))
            if missing:
                failed.add(line)
                continue
            values = {column: cell for column, cell in zip(present, cells, strict=True) if cell != ""}
        else:
            values = dict(zip(present, cells, strict=True))
        lines.append(line)
        candidates.append(values)
    return lines, candidates


_LIST_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _list_adapter(model: type[ModelT]) -> "TypeAdapter[list[ModelT]]":
    """pydantic's validator of a list of `model`, built once per model."""
    if model not in _LIST_ADAPTERS:
        _LIST_ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _LIST_ADAPTERS[model]


@dataclass(frozen=True)
class Ids:
    """The ids a reference may name. `valid`: rows that became models. `declared`: every id
    written in the file, valid or not, or None when the file could not be read at all.

    A reference to a declared id whose own row is invalid is not reported again (fixing that
    row fixes the reference); one named nowhere is unknown. Without the file, nothing is."""

    valid: set[str]
    declared: set[str] | None

    def unknown(self, identifier: str) -> bool:
        return self.declared is not None and identifier not in self.declared


def unknown_references_in_failed_rows(
    table: RawTable, failed: set[int], references: dict[str, tuple[str, Ids]], problems: list[Problem]
) -> None:
    """For rows that could not be typed, still name the unknown ids they refer to, so that
    one run reports every problem. `references` maps a column to (what it names, its ids)."""
    index = table.column_index()
    for line, row in zip(table.lines, table.rows, strict=True):
        if line not in failed:
            continue
        for column, (what, ids) in references.items():
            if column not in index:
                continue
            cell = row[index[column]]
            if _is_id(cell) and ids.unknown(cell):
                problems.append(Problem(table.name, line, column, f"unknown {what} '{cell}'"))


def _is_id(cell: str) -> bool:
    """A cell that could be an id; one that cannot (empty, too long, a refused character) has its
    own problem, and is not also reported as unknown."""
    return 0 < len(cell) <= MAX_ID_LENGTH and first_refused_character(cell) is None


def _column_named_in(detail: Any, columns: Sequence[str]) -> str:
    """A whole-row check (such as age_min above age_max) is located at the column its
    message starts with."""
    words = friendly_message(detail).split()
    return column_label(words[0]) if words and words[0] in columns else "-"


def friendly_message(detail: Any) -> str:
    """A sentence for a person, from one pydantic error."""
    kind = detail["type"]
    value = shown(detail.get("input"))  # escaped and cut: one problem is one line
    context = detail.get("ctx") or {}
    if kind in ("int_parsing", "int_from_float"):
        return f"'{value}' is not a whole number"
    if kind == "int_parsing_size":
        return f"'{value}' is not a whole number within the allowed range"
    if kind == "float_parsing":
        return f"'{value}' is not a number"
    if kind == "finite_number":
        return f"'{value}' is not a finite number"
    if kind in ("greater_than_equal", "greater_than"):
        bound = _number(context.get("ge", context.get("gt")))
        if bound == 0:
            return (
                f"{value} is negative; it must be 0 or more"
                if kind == "greater_than_equal"
                else f"{value} must be above 0"
            )
        return f"{value} is below the smallest allowed value {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = _number(context.get("le", context.get("lt")))
        return f"{value} is above the largest allowed value {bound}"
    if kind in ("enum", "literal_error"):
        return f"'{value}' is not one of {context.get('expected', '')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"'{value}' is longer than {context.get('max_length')} characters"
    if kind == "value_error":
        return shown_message(str(context.get("error", detail["msg"])))
    if kind == "extra_forbidden":
        return "unknown key"
    return shown_message(str(detail["msg"]))


def _number(bound: object) -> object:
    """A limit as written in the README: 25, 1, 10000000 (not 1.0 for a decimal's whole limit)."""
    return int(bound) if isinstance(bound, float) and bound.is_integer() else bound


def shown_message(message: str) -> str:
    """A message from a library, on one line (its own refused characters escaped, no trailing newline)."""
    return escaped(message.strip())
