"""policy.toml: the panel's rules for a round."""

import json
import re

from pydantic import ValidationError

from data.rows import friendly_message
from data.tables import column_label
from data.toml_text import read_toml
from models.case import Policy, shown
from models.problems import Problem

POLICY_FILE = "policy.toml"


def parse_policy(text: str, problems: list[Problem], name: str = POLICY_FILE) -> Policy:
    """Parse policy text; defaults for what is not given. Problems are recorded, not raised."""
    raw = read_toml(text, name, problems)
    if raw is None:
        return Policy()
    try:
        # strict: TOML already types its values, so "45" (a string) must not pass as 45.
        policy = Policy.model_validate(raw, strict=True)
    except ValidationError as error:
        for detail in error.errors():
            loc = detail["loc"]
            message = _policy_message(detail)
            if loc and loc[-1] == "[key]":  # a dict key that is not allowed: [priority_names]
                loc, message = loc[:-1], "unknown key: a priority tier is a whole number from 0 to 100"
            key = ".".join(str(part) for part in loc)
            label = column_label(key)
            if label == "-" and key:
                message = f"{message} (key '{shown(key)}')"
            problems.append(Problem(name, _key_line(text, loc), label, message))
        return Policy()
    if policy.objective == "stable" and policy.fairness.active:
        message = "'stable' cannot be combined with a [fairness] rule: use one or the other"
        problems.append(Problem(name, _key_line(text, ("objective",)), "objective", message))
        return Policy()
    return policy


def _policy_message(detail: object) -> str:
    assert isinstance(detail, dict)
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("int_type", "int_parsing"):
        return f"{_brief(detail.get('input'))} must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return f"{_brief(detail.get('input'))} must be a number"
    if kind == "string_type":
        return f"{_brief(detail.get('input'))} must be text in quotes"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a table of keys"
    return friendly_message(detail)


def _key_line(text: str, loc: tuple[object, ...]) -> int:
    """Best-effort line of the key named by `loc` (tomllib keeps no positions)."""
    if not loc:
        return 0
    key = str(loc[-1])
    section = str(loc[0]) if len(loc) > 1 else None
    current: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1)
            if section is None and current == key:
                return number
            continue
        if current == section and any(re.match(rf"^{re.escape(form)}\s*[=.]", stripped) for form in _key_forms(key)):
            return number
    return 0


def _key_forms(key: str) -> tuple[str, ...]:
    """How a key may be written: bare, or quoted (with its escapes as JSON writes them, as TOML's)."""
    return (key, f'"{key}"', f"'{key}'", json.dumps(key))


def _brief(value: object) -> str:
    """A TOML value as Python writes it (`'ten'`, `4.5`), cut to one short line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."
