"""policy.toml: the panel's rules for a round."""

import re
import tomllib

from pydantic import ValidationError

from data.rows import friendly_message
from models.case import Policy
from models.problems import Problem

POLICY_FILE = "policy.toml"


def parse_policy(text: str, problems: list[Problem], name: str = POLICY_FILE) -> Policy:
    """Parse policy text; defaults for what is not given. Problems are recorded, not raised."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _line_from_toml_error(str(error))
        problems.append(Problem(name, line, "-", f"not valid TOML: {error}"))
        return Policy()
    try:
        # strict: TOML already types its values, so "45" (a string) must not pass as 45.
        return Policy.model_validate(raw, strict=True)
    except ValidationError as error:
        for detail in error.errors():
            key = ".".join(str(part) for part in detail["loc"]) or "-"
            problems.append(Problem(name, _key_line(text, detail["loc"]), key, _policy_message(detail)))
        return Policy()


def _policy_message(detail: object) -> str:
    assert isinstance(detail, dict)
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("int_type", "int_parsing"):
        return f"{detail.get('input')!r} must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return f"{detail.get('input')!r} must be a number"
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
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1)
            if section is None and current == key:
                return number
            continue
        if re.match(rf"^{re.escape(key)}\s*=", stripped) and current == section:
            return number
    return 0


def _line_from_toml_error(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0
