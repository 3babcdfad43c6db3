"""--add past any sensible number of new places is refused at the option (exit 2), never an
internal error from an integer past int64, and nothing is written."""

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

LANCASHIRE = Path(__file__).resolve().parents[2] / "data" / "lancashire" / "case"


def test_a_huge_add_is_refused_at_the_option(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan-places", str(LANCASHIRE), "--add", "9" * 30, "--out", str(out)])
    assert result.exit_code == 2
    assert "Invalid value for '--add'" in result.output
    assert not out.exists()
