"""A case given as its files' bytes (an upload) loads exactly as the same files in a folder:
the same case, travel table and input hash, or the same whole list of problems."""

from pathlib import Path

import numpy as np
import pytest

from data.loader import LoadedCase, load_case, load_case_files
from models.problems import CaseInvalid, Problem
from tests.conftest import REPO, SAMPLE_CASE, VALID_CASE, write_case

LANCASHIRE = REPO / "data" / "lancashire" / "case"

Files = dict[str, str | bytes]

BROKEN: dict[str, dict[str, str | bytes | None]] = {
    "required files missing": {"places.csv": None, "children.csv": None},
    "empty and header-only files": {"schools.csv": "", "children.csv": "child_id,need,age,lat,lon\n"},
    "not UTF-8": {"children.csv": b"child_id,need,age,lat,lon\nK\xff,ASD,7,53.8,-2.4\n", "policy.toml": b"\xfe = 1"},
    "byte-order mark and CRLF with bad rows": {
        "children.csv": "\ufeffchild_id,need,age,lat,lon\r\nK1,XYZ,seven,95,-2.4\r\nK1,ASD,7,53.8\r\n",
    },
    "malformed CSV and a repeated header column": {
        "places.csv": 'school_id,need,places\nS1,ASD,"2\n',
        "preferences.csv": "child_id,child_id,rank\nK1,K1,1\n",
    },
    "unknown references, ranks and locks": {
        "preferences.csv": "child_id,school_id,rank\nK1,S9,1\nK9,S1,0\nK1,S1,1\nK1,S2,1\n",
        "children.csv": VALID_CASE["children.csv"].replace("K2,SEMH,12,53.71,-2.5,1,S2", "K2,SEMH,12,53.71,-2.5,1,S1"),
    },
    "bad travel times": {
        "travel_times.csv": "child_id,school_id,minutes\nK1,S1,5\nK9,S1,3\nK1,S7,-2\nK2,S2,1.5\nK3,S1,x\nK1,S1,6\n",
    },
    "travel times not UTF-8 or with no header": {"travel_times.csv": b"\xff\xfe\x00"},
    "travel times without columns": {"travel_times.csv": "child,school\nK1,S1\n"},
    "bad policy": {
        "policy.toml": 'open_sites = -1\nunranked_cost = "ten"\ncolour = 1\n[max_travel_minutes]\nprimary = 4.5\n'
    },
    "policy not TOML": {"policy.toml": "open_sites = = 1\n"},
    "problems in every file at once": {
        "schools.csv": VALID_CASE["schools.csv"] + "S1,Again,53.8,-2.4,11,4,special\n",
        "places.csv": VALID_CASE["places.csv"] + "S9,ASD,1\nS1,ASD,-1\n",
        "children.csv": VALID_CASE["children.csv"] + "K4,ASD,7,53.8,-2.41,-1,C9\n",
        "preferences.csv": VALID_CASE["preferences.csv"] + "K4,S1,one\n",
        "travel_times.csv": VALID_CASE["travel_times.csv"] + "K4,S9,5\n",
        "policy.toml": "open_sites = 0\n",
    },
}


def folder_and_files(tmp_path: Path, changes: dict[str, str | bytes | None]) -> tuple[Path, dict[str, bytes]]:
    files: Files = {name: text for name, text in {**VALID_CASE, **changes}.items() if text is not None}
    folder = write_case(tmp_path / "case", files)
    return folder, {path.name: path.read_bytes() for path in folder.iterdir()}


def problems(load: object) -> list[Problem]:
    assert callable(load)
    with pytest.raises(CaseInvalid) as raised:
        load()
    return raised.value.problems


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_bytes_give_the_folders_whole_list_of_problems(tmp_path: Path, name: str) -> None:
    folder, files = folder_and_files(tmp_path, BROKEN[name])
    from_folder = problems(lambda: load_case(folder))
    assert from_folder, "each broken case has problems"
    assert problems(lambda: load_case_files(files)) == from_folder


def assert_same_case(left: LoadedCase, right: LoadedCase) -> None:
    assert left.case == right.case
    assert left.input_sha256 == right.input_sha256
    assert np.array_equal(left.travel.keys, right.travel.keys)
    assert np.array_equal(left.travel.minutes, right.travel.minutes)
    assert left.travel.school_count == right.travel.school_count


@pytest.mark.parametrize("folder", [SAMPLE_CASE, LANCASHIRE], ids=["sample", "lancashire"])
def test_bytes_load_the_same_case_as_the_folder(folder: Path) -> None:
    files = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    assert_same_case(load_case_files(files), load_case(folder))


def test_files_that_are_not_case_files_are_ignored_as_in_a_folder(tmp_path: Path) -> None:
    folder, files = folder_and_files(tmp_path, {"README.md": "notes\n", "expansions.csv": "school_id\n"})
    loaded = load_case_files(files)
    assert_same_case(loaded, load_case(folder))
    assert loaded.input_sha256 == load_case_files({k: v for k, v in files.items() if k in VALID_CASE}).input_sha256


def test_a_case_file_that_cannot_be_read_is_one_problem_not_also_missing(tmp_path: Path) -> None:
    folder, _ = folder_and_files(tmp_path, {"schools.csv": None})
    (folder / "schools.csv").mkdir()
    found = problems(lambda: load_case(folder))
    assert [(p.file, p.line) for p in found if p.file == "schools.csv"] == [("schools.csv", 0)]
    assert "cannot be read" in next(p.message for p in found if p.file == "schools.csv")
