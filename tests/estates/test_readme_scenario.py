"""The README's scenario example (Estates -> Scenario format) runs on the bundled case as written,
sets every scenario key, and its error example is what the command prints."""

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from data.scenario import Scenario
from tests.conftest import REPO

LANCASHIRE = REPO / "data" / "lancashire" / "case"


def readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("#### Scenario format")
    return text[start : text.index("\n### ", start)]


def readme_scenario() -> str:
    match = re.search(r"```toml\n(.*?)```", readme_section(), re.S)
    assert match, "no TOML block under 'Scenario format' in README.md"
    return match.group(1)


def whatif(tmp_path: Path, scenario_text: str) -> tuple[int, list[str], Path]:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scenario_text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["whatif", str(LANCASHIRE), str(scenario), "--out", str(out)])
    return result.exit_code, result.stderr.splitlines(), out


def test_readme_scenario_example_runs_on_the_bundled_case(tmp_path: Path) -> None:
    example = readme_scenario()
    assert set(tomllib.loads(example)) == set(Scenario.model_fields)  # the example shows every key
    code, stderr, out = whatif(tmp_path, example)
    assert (code, stderr) == (0, [])
    assert sorted(p.name for p in out.iterdir()) == [
        "allocation.csv",
        "changes.csv",
        "comparison.json",
        "moves.csv",
        "summary.json",
    ]


def test_readme_scenario_error_example_is_what_whatif_prints(tmp_path: Path) -> None:
    match = re.search(r"`(s\.toml:\d+: remove_places\[0\]\.places: [^`]*cannot remove (\d+))`", readme_section())
    assert match, "no remove_places error example in README.md"
    line, removed = match.group(1), match.group(2)
    lines = readme_scenario().splitlines()
    section = next(i for i, text in enumerate(lines) if text.startswith("[[remove_places]]"))
    places = next(i for i in range(section, len(lines)) if lines[i].startswith("places ="))
    lines[places] = f"places = {removed}"
    code, stderr, out = whatif(tmp_path, "\n".join(lines) + "\n")
    assert (code, stderr) == (2, [line])
    assert not out.exists()
