"""Issue 10, item 2: deeply nested or oversized TOML (policy.toml, a what-if scenario) is a located
problem, never a RecursionError (an internal error) nor gigabytes of memory. Each test compares
the whole list of problems, through the command."""

from pathlib import Path

import pytest

from data.scenario import parse_scenario
from data.toml_text import MAX_TOML_DEPTH
from models.problems import CaseInvalid
from tests.conftest import CliRunner
from tests.data_hardening.helpers import case_with, cli_problems

TOO_DEEP = "values are nested more than 20 tables or arrays deep"


@pytest.mark.parametrize(
    ("policy", "line"),
    [
        ("open_sites = 1\na = " + "[" * 5000 + "]" * 5000 + "\n", 2),  # RecursionError in tomllib
        ("a = " + "[" * 21 + "]" * 21 + "\n", 1),
        ("a = " + "{b = " * 30 + "1" + "}" * 30 + "\n", 1),
        ("a = " + "[{b = " * 11 + "1" + "}]" * 11 + "\n", 1),
        ("\n\n" + ".".join(["a"] * 100_000) + " = 1\n", 3),  # gigabytes in tomllib
        ("[" + ".".join(["t"] * 21) + "]\nx = 1\n", 1),
        ("[[" + ".".join(["t"] * 21) + "]]\nx = 1\n", 1),
        ("t = {a = 1, " + ".".join(["b"] * 21) + " = 2}\n", 1),
    ],
    ids=[
        "arrays 5000",
        "arrays 21",
        "inline tables",
        "arrays of tables",
        "dotted key",
        "table",
        "array table",
        "in table",
    ],
)
def test_deeply_nested_policy(tmp_path: Path, run_cli: CliRunner, policy: str, line: int) -> None:
    case = case_with(tmp_path / "case", {"policy.toml": policy})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [f"policy.toml:{line}: -: {TOO_DEEP}"]


def test_nesting_at_the_limit_is_read(tmp_path: Path, run_cli: CliRunner) -> None:
    """Twenty levels are allowed: the problems are the keys' own, not their depth."""
    policy = "a = " + "[" * MAX_TOML_DEPTH + "]" * MAX_TOML_DEPTH + "\n" + ".".join(["b"] * MAX_TOML_DEPTH) + " = 1\n"
    case = case_with(tmp_path / "case", {"policy.toml": policy})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "policy.toml:1: a: unknown key",
        "policy.toml:2: b: unknown key",
    ]


def test_nesting_made_of_tables_and_dotted_keys_together(tmp_path: Path, run_cli: CliRunner) -> None:
    """Each part within the limit, the whole beyond it: found on the parsed value."""
    policy = "[" + ".".join(["t"] * 15) + "]\n" + ".".join(["u"] * 15) + " = 1\n"
    case = case_with(tmp_path / "case", {"policy.toml": policy})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [f"policy.toml:0: -: {TOO_DEEP}"]


def test_an_oversized_policy(tmp_path: Path, run_cli: CliRunner) -> None:
    policy = "open_sites = 1\n# " + "x" * 1_048_576 + "\n"
    case = case_with(tmp_path / "case", {"policy.toml": policy})
    size = len(policy.encode())
    assert size == 1_048_594
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"policy.toml:0: -: file is {size:,} bytes; at most 1,048,576 (1 MB) are read",
    ]


def test_nested_and_oversized_scenarios(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {})
    nested = tmp_path / "nested.toml"
    nested.write_text('close_schools = ["S2"]\n' + "x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    assert cli_problems(run_cli, "whatif", case, nested, out=tmp_path / "out") == [f"nested.toml:2: -: {TOO_DEEP}"]
    large = tmp_path / "large.toml"
    large.write_text('open_sites = 1\nnote = "' + "y" * 2_000_000 + '"\n', encoding="utf-8")
    assert cli_problems(run_cli, "whatif", case, large, out=tmp_path / "out") == [
        f"large.toml:0: -: file is {large.stat().st_size:,} bytes; at most 1,048,576 (1 MB) are read",
    ]


def test_a_scenario_given_as_text_is_checked_the_same(tmp_path: Path) -> None:
    """The service passes the scenario as text (`api.jobs.whatif_run`): the same limits hold."""
    from data.loader import load_case

    case = load_case(case_with(tmp_path / "case", {})).case
    with pytest.raises(CaseInvalid) as raised:
        parse_scenario("a." * 50_000 + "a = 1\n", case, "s.toml")
    assert raised.value.lines() == [f"s.toml:1: -: {TOO_DEEP}"]
    with pytest.raises(CaseInvalid) as raised:
        parse_scenario('close_schools = ["S\\u0000", "' + "S" * 65 + '"]\n', case, "s.toml")
    assert raised.value.lines() == [
        "s.toml:1: close_schools[0]: 'S\\x00' contains a control character (U+0000)",
        f"s.toml:1: close_schools[1]: '{'S' * 65}' is longer than 64 characters",
    ]
