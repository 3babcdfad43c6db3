"""Reading TOML (policy.toml and what-if scenarios) without letting a hostile file through.

A policy or a scenario is a few lines. A file over MAX_TOML_BYTES, or values nested more than
MAX_TOML_DEPTH tables or arrays deep, is a problem: tomllib parses nesting by recursion and
would end in a RecursionError (an internal error) on a file of a few kilobytes of `[`, and keeps
every prefix of a dotted key (gigabytes for a key of 100,000 parts). Both are found by a scan of
the text before parsing (so they are located at their line); nesting that only the parsed value
shows (table headers and dotted keys adding up) is measured on it.
"""

import re
import tomllib
from typing import Any

from data.rows import shown_message
from models.problems import Problem

MAX_TOML_BYTES = 1_048_576
MAX_TOML_DEPTH = 20

# What opens or closes strings, comments, arrays and tables; key dots, `=`, `,` and line ends.
_TOKENS = re.compile(r'"""|\'\'\'|\[\[|\]\]|[\[\]{}"\'#\n.=,]')


def read_toml(text: str, name: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The parsed TOML, or None with a problem (too large, nested too deep, not valid TOML)."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_TOML_BYTES:
        problems.append(Problem(name, 0, "-", f"file is {size:,} bytes; at most {MAX_TOML_BYTES:,} (1 MB) are read"))
        return None
    deep = _deep_line(text)
    if deep is not None:
        problems.append(Problem(name, deep, "-", _too_deep()))
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problems.append(
            Problem(name, _line_from_toml_error(str(error)), "-", f"not valid TOML: {shown_message(str(error))}")
        )
        return None
    except RecursionError:  # nesting the scan did not see; never an internal error
        problems.append(Problem(name, 0, "-", _too_deep()))
        return None
    if _depth(raw) > MAX_TOML_DEPTH:
        problems.append(Problem(name, 0, "-", _too_deep()))
        return None
    return raw


def _too_deep() -> str:
    return f"values are nested more than {MAX_TOML_DEPTH} tables or arrays deep"


def _line_from_toml_error(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0


def _deep_line(text: str) -> int | None:
    """The line where arrays, inline tables and table headers first nest more than MAX_TOML_DEPTH
    deep, or a key first has more than MAX_TOML_DEPTH dotted parts, outside strings and comments;
    None when neither happens. (tomllib keeps every prefix of a dotted key: a key of 100,000
    parts would take gigabytes before any check on the parsed value could run.)"""
    line = 1
    stack: list[str] = []  # "[" an array, "{" an inline table, "H" a table header's brackets
    in_key, parts = True, 1  # a key is being read (and its dotted parts so far)
    state: str | None = None  # the open string's quote, "#" in a comment, None elsewhere
    for match in _TOKENS.finditer(text):
        token = match.group()
        if state is not None:
            if token == "\n":
                line += 1
                if state in ("#", '"', "'"):
                    state = None  # a comment or a one-line string ends with its line
            elif token == state and not (state in ('"', '"""') and _escaped_at(text, match.start())):
                state = None
            continue
        if token == "\n":
            line += 1
            if not stack:
                in_key, parts = True, 1
        elif token == "#" or token in ('"""', "'''", '"', "'"):
            state = token
        elif token in ("[", "[["):
            header = not stack and in_key
            stack.extend("H" if header else "[" for _ in range(1 if header else len(token)))
            in_key = header
            if len(stack) > MAX_TOML_DEPTH:
                return line
        elif token == "{":
            stack.append("{")
            in_key, parts = True, 1
            if len(stack) > MAX_TOML_DEPTH:
                return line
        elif token in ("]", "]]"):
            for _ in range(1 if stack[-1:] == ["H"] else len(token)):
                if stack:
                    stack.pop()
            in_key = False
        elif token == "}":
            if stack:
                stack.pop()
            in_key = False
        elif token == "." and in_key:
            parts += 1
            if parts > MAX_TOML_DEPTH:
                return line
        elif token == "=":
            in_key = False
        elif token == "," and stack[-1:] == ["{"]:
            in_key, parts = True, 1
    return None


def _escaped_at(text: str, position: int) -> bool:
    """Whether the character at `position` follows an odd number of backslashes."""
    count = 0
    while position - count - 1 >= 0 and text[position - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _depth(value: object) -> int:
    """How many tables and arrays deep `value` nests below the document (iteratively: a value
    tomllib built from dotted keys can be deeper than Python's recursion limit)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_TOML_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest
