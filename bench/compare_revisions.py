"""Are the outputs of an earlier revision and of this tree byte-identical on the same inputs?

Runs the same commands with the code of REV (`git archive`, imported through PYTHONPATH with
this virtual environment) and with this tree: solve, demo, sites and a what-if on the bundled
Lancashire case, solve on the seeded 20,000-child bench case, and solve on four bad-input
copies of the Lancashire case (bad number, unknown school and need, invalid TOML, unknown
child). Prints, per command, the exit codes and whether every output file (and stderr, for bad
input) is identical; exits 1 on any difference unless the file is named with --expect.

Usage: python -m bench.compare_revisions REV [--expect FILE ...] [--skip-large]
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.cases import write_case

ROOT = Path(__file__).resolve().parent.parent
LANCASHIRE = ROOT / "data" / "lancashire" / "case"
SCENARIO = """open_sites = 2
close_schools = ["LAN-SP-02"]
[max_travel_minutes]
primary = 50
[demand_growth_percent]
ASD = 10
"""


def _entry(tree: Path) -> str:
    """The command's entry point in that tree (the CLI moved from allocator/ to cli/)."""
    if (tree / "cli" / "main.py").exists():
        return "from cli.main import main; main()"
    return "from allocator.cli import main; main()"


def _bad_cases(work: Path) -> dict[str, Path]:
    cases = {}
    for name in ("age", "places", "toml", "preferences"):
        folder = work / f"bad_{name}"
        shutil.copytree(LANCASHIRE, folder)
        cases[name] = folder
    children = (cases["age"] / "children.csv").read_text().splitlines()
    fields = children[2].split(",")
    fields[2] = "ten"
    children[2] = ",".join(fields)
    (cases["age"] / "children.csv").write_text("\n".join(children) + "\n")
    with (cases["places"] / "places.csv").open("a") as handle:
        handle.write("NOPE,ASD,3\nLAN-SP-01,XYZ,-1\n")
    with (cases["toml"] / "policy.toml").open("a") as handle:
        handle.write("open_sites = [\n")
    with (cases["preferences"] / "preferences.csv").open("a") as handle:
        handle.write("ZZZ,LAN-SP-01,1\n")
    return cases


def _commands(work: Path, skip_large: bool) -> dict[str, list[str]]:
    scenario = work / "scenario.toml"
    scenario.write_text(SCENARIO)
    commands = {
        "solve": ["solve", str(LANCASHIRE), "--out", "{out}"],
        "demo": ["demo", "--out", "{out}"],
        "sites": ["sites", str(LANCASHIRE), "--out", "{out}"],
        "whatif": ["whatif", str(LANCASHIRE), str(scenario), "--out", "{out}"],
    }
    if not skip_large:
        large = write_case(work / "case_20000x200", 20_000, 200, full_travel=True)
        commands["solve_20000"] = ["solve", str(large), "--out", "{out}"]
    for name, folder in _bad_cases(work).items():
        commands[f"bad_{name}"] = ["solve", str(folder), "--out", "{out}"]
    return commands


def _run(tree: Path, arguments: list[str], out: Path) -> tuple[int, str]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", _entry(tree), *(a.replace("{out}", str(out)) for a in arguments)]
    done = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def _differences(first: Path, second: Path) -> list[str]:
    if not first.exists() and not second.exists():
        return []
    found = []
    names = sorted({p.name for p in first.iterdir()} | {p.name for p in second.iterdir()})
    for name in names:
        a, b = first / name, second / name
        if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
            found.append(name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev")
    parser.add_argument("--expect", nargs="*", default=[], help="output files expected to differ")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare-") as folder:
        work = Path(folder)
        old = work / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.rev], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        unexpected = []
        for name, arguments in _commands(work, args.skip_large).items():
            runs = {}
            for label, tree in (("old", old), ("new", ROOT)):
                out = work / f"{label}_{name}"
                runs[label] = (_run(tree, arguments, out), out)
            (old_code, old_err), old_out = runs["old"]
            (new_code, new_err), new_out = runs["new"]
            differing = _differences(old_out, new_out)
            if name.startswith("bad_") and old_err != new_err:
                differing.append("stderr")
            surprising = [d for d in differing if d not in args.expect]
            if old_code != new_code:
                surprising.append(f"exit {old_code} -> {new_code}")
            unexpected += [f"{name}: {d}" for d in surprising]
            verdict = "identical" if not differing and old_code == new_code else "differs: " + ", ".join(differing)
            print(f"{name:>14}  exit {old_code} / {new_code}  {verdict}")
    print("as expected" if not unexpected else "UNEXPECTED: " + "; ".join(unexpected))
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
