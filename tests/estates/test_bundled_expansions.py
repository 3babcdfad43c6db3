"""The bundled Lancashire case ships expansions.csv, so `plan-places` runs on it as the README
shows; and the seeded generator, reading only data/lancashire/sources, rebuilds every case file."""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import data
from cli.main import app

LANCASHIRE = Path(data.__file__).parent / "lancashire"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_plan_places_runs_on_the_bundled_case(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan-places", str(LANCASHIRE / "case"), "--add", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expansions = _rows(LANCASHIRE / "case" / "expansions.csv")
    max_extra = {(r["school_id"], r["need"]): int(r["max_extra"]) for r in expansions}
    plan = _rows(out / "plan.csv")
    assert plan, "the plan adds no place at all"
    for row in plan:
        assert 0 < int(row["extra_places"]) <= max_extra[(row["school_id"], row["need"])], row
    assert sum(int(row["extra_places"]) for row in plan) <= 200
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"


def test_regenerating_the_bundled_case_reproduces_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("lancashire_generate", LANCASHIRE / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, generate)  # dataclasses look their module up there
    spec.loader.exec_module(generate)
    monkeypatch.setattr(generate, "OUT", tmp_path)
    generate.main()
    committed = {path.name: path.read_bytes() for path in (LANCASHIRE / "case").iterdir()}
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == committed
    assert "expansions.csv" in committed
