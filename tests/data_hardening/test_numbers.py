"""Issue 10, item 1: every number is range-checked where it is read (README, "Limits on numbers
and text"), decimals are finite, and a number out of range is a located problem (exit 2, nothing
written), never an internal error or an overflow reaching the solver. Each test compares the
whole list of problems, through the command (`allocator solve`) and, where a workbook can hold
the same input, through a workbook."""

import json
from pathlib import Path

import pytest

from allocator.checker import check_allocation, independent_travel
from data.loader import load_case
from data.workbook import load_workbook_case
from models.problems import CaseInvalid
from tests.conftest import VALID_CASE, CliRunner
from tests.core.test_cli_contract import allocation_from_files
from tests.data_hardening.helpers import case_with, cli_problems, set_cells, workbook_from

HUGE = "123456789012345678901234567890"  # 30 digits
PAST_INT64 = "9223372036854775808"  # 2**63


def replaced(name: str, old: str, new: str) -> str:
    assert VALID_CASE[name].count(old) == 1, old
    return VALID_CASE[name].replace(old, new)


def test_a_huge_integer_in_every_whole_number_column(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(
        tmp_path / "case",
        {
            "schools.csv": replaced(
                "schools.csv", "S2,Beta School,53.7,-2.5,11,18", f"S2,Beta School,53.7,-2.5,11,{HUGE}"
            ),
            "places.csv": replaced("places.csv", "S1,ASD,2", f"S1,ASD,{HUGE}"),
            "children.csv": replaced("children.csv", "K1,ASD,7,", f"K1,ASD,{HUGE},").replace(
                "K3,ASD,9,53.76,-2.44,2,", f"K3,ASD,9,53.76,-2.44,{HUGE},"
            ),
        },
    )
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"schools.csv:3: age_max: {HUGE} is above the largest allowed value 25",
        f"places.csv:2: places: {HUGE} is above the largest allowed value 100000",
        f"children.csv:2: age: {HUGE} is above the largest allowed value 25",
        f"children.csv:4: priority: {HUGE} is above the largest allowed value 100",
    ]


def test_a_huge_integer_in_a_workbook(tmp_path: Path) -> None:
    book = workbook_from(
        {name: VALID_CASE[name] for name in ("schools.csv", "places.csv", "children.csv")}, tmp_path / "r.xlsx"
    )
    set_cells(book, {"places": {"C2": 10**30}, "children": {"C2": 10**30, "F4": 2**63}, "schools": {"F3": 1e20}})
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book)
    assert raised.value.lines() == [
        f"schools:3: age_max: 1{'0' * 20} is above the largest allowed value 25",
        # a workbook holds numbers as doubles: 10**30 reads back as the double nearest to it
        f"places:2: places: {int(1e30)} is above the largest allowed value 100000",
        f"children:2: age: {int(1e30)} is above the largest allowed value 25",
        f"children:4: priority: {PAST_INT64} is above the largest allowed value 100",
    ]


def test_a_number_of_thousands_of_digits(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {"places.csv": replaced("places.csv", "S2,SEMH,1", "S2,SEMH," + "9" * 5000)})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"places.csv:3: places: '{'9' * 80}...' is not a whole number within the allowed range",
    ]


def test_a_rank_past_int64(tmp_path: Path, run_cli: CliRunner) -> None:
    preferences = replaced("preferences.csv", "K1,S1,1", f"K1,S1,{PAST_INT64}").replace("K3,S1,2", "K3,S1,1001")
    case = case_with(tmp_path / "case", {"preferences.csv": preferences})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"preferences.csv:2: rank: {PAST_INT64} is above the largest allowed value 1000",
        "preferences.csv:4: rank: 1001 is above the largest allowed value 1000",
    ]


def test_non_finite_and_out_of_range_decimals(tmp_path: Path, run_cli: CliRunner) -> None:
    schools = (
        "school_id,name,lat,lon,age_min,age_max,kind,annual_place_cost_gbp\n"
        "S1,Alpha School,nan,-2.4,4,11,special,inf\n"
        "S2,Beta School,53.7,1e400,11,18,special,10000001\n"
        "C1,Gamma Site,53.75,-2.45,4,18,candidate,-1\n"
    )
    children = replaced("children.csv", "K1,ASD,7,53.8,-2.41,", "K1,ASD,7,-inf,Infinity,")
    case = case_with(tmp_path / "case", {"schools.csv": schools, "children.csv": children})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "schools.csv:2: annual_place_cost_gbp: 'inf' is not a finite number",
        "schools.csv:2: lat: 'nan' is not a finite number",
        "schools.csv:3: annual_place_cost_gbp: 10000001 is above the largest allowed value 10000000",
        "schools.csv:3: lon: '1e400' is not a finite number",
        "schools.csv:4: annual_place_cost_gbp: -1 is negative; it must be 0 or more",
        "children.csv:2: lat: '-inf' is not a finite number",
        "children.csv:2: lon: 'Infinity' is not a finite number",
    ]


TRAVEL = (
    "child_id,school_id,minutes\n"
    "K1,S1,inf\n"
    "K3,S1,1e20\n"
    "K1,S2,-5\n"
    "K3,C1,2.5\n"
    "K2,S2,99999999999999999999999\n"
    "K2,S1,nan\n"
    "K1,C1,10081\n"
    "K3,S2,10080\n"
)
TRAVEL_PROBLEMS = [
    "{f}:2: minutes: 'inf' is not a whole number",
    "{f}:3: minutes: 1e20 is above the largest allowed value 10080 (a week)",
    "{f}:4: minutes: -5 is negative; minutes must be 0 or more",
    "{f}:5: minutes: '2.5' is not a whole number",
    "{f}:6: minutes: 99999999999999999999999 is above the largest allowed value 10080 (a week)",
    "{f}:7: minutes: 'nan' is not a whole number",
    "{f}:8: minutes: 10081 is above the largest allowed value 10080 (a week)",
]


def test_inf_1e20_and_other_minutes_in_travel_times(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {"travel_times.csv": TRAVEL})
    expected = [line.format(f="travel_times.csv") for line in TRAVEL_PROBLEMS]
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == expected


def test_inf_1e20_and_other_minutes_in_a_travel_sheet(tmp_path: Path) -> None:
    files = {**VALID_CASE, "travel_times.csv": TRAVEL}
    book = workbook_from(files, tmp_path / "r.xlsx")
    set_cells(book, {"travel_times": {"C2": "inf", "C3": 1e20, "C6": 10**23, "C7": "nan"}})
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book)
    assert raised.value.lines() == [
        "travel_times:2: minutes: 'inf' is not a whole number",
        f"travel_times:3: minutes: 1{'0' * 20} is above the largest allowed value 10080 (a week)",
        "travel_times:4: minutes: -5 is negative; minutes must be 0 or more",
        "travel_times:5: minutes: '2.5' is not a whole number",
        f"travel_times:6: minutes: {int(1e23)} is above the largest allowed value 10080 (a week)",
        "travel_times:7: minutes: 'nan' is not a whole number",
        "travel_times:8: minutes: 10081 is above the largest allowed value 10080 (a week)",
    ]


def test_many_bad_minutes_are_listed_then_counted(tmp_path: Path, run_cli: CliRunner) -> None:
    rows = "".join(f"K{i},S1,inf\n" for i in range(60))
    children = "child_id,need,age,lat,lon\n" + "".join(f"K{i},ASD,7,53.8,-2.41\n" for i in range(60))
    case = case_with(
        tmp_path / "case",
        {"children.csv": children, "preferences.csv": None, "travel_times.csv": "child_id,school_id,minutes\n" + rows},
    )
    expected = [f"travel_times.csv:{line}: minutes: 'inf' is not a whole number" for line in range(2, 52)]
    expected.append("travel_times.csv:52: minutes: and 10 more rows with the same problem (first 50 listed)")
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == expected


EXTREME_POLICY = (
    "open_sites = 99999999999999999999999999999\n"
    "unranked_cost = 9223372036854775807\n"
    "transport_cost_gbp = inf\n"
    "[max_travel_minutes]\n"
    "primary = -1\n"
    "secondary = 100001\n"
    "[travel_estimate]\n"
    "speed_kmh = 1e-300\n"
    "circuity = 1e300\n"
)


def test_extreme_policy_values(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {"policy.toml": EXTREME_POLICY})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "policy.toml:1: open_sites: 99999999999999999999999999999 is above the largest allowed value 10000",
        "policy.toml:2: unranked_cost: 9223372036854775807 is above the largest allowed value 1000",
        "policy.toml:3: transport_cost_gbp: 'inf' is not a finite number",
        "policy.toml:5: max_travel_minutes.primary: -1 is negative; it must be 0 or more",
        "policy.toml:6: max_travel_minutes.secondary: 100001 is above the largest allowed value 100000",
        "policy.toml:8: travel_estimate.speed_kmh: 1e-300 is below the smallest allowed value 1",
        "policy.toml:9: travel_estimate.circuity: 1e+300 is above the largest allowed value 10",
    ]


def test_extreme_policy_values_in_a_policy_sheet(tmp_path: Path) -> None:
    book = workbook_from({**VALID_CASE, "policy.toml": "open_sites = 1\n"}, tmp_path / "r.xlsx")
    set_cells(
        book,
        {
            "policy": {
                "A2": "open_sites",
                "B2": 10**30,
                "A3": "travel_estimate.circuity",
                "B3": "nan",
                "A4": "travel_estimate.speed_kmh",
                "B4": 0,
                "A5": "unranked_cost",
                "B5": 1001,
                "A6": "transport_cost_gbp",
                "B6": 10_000_000.5,
            }
        },
    )
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book)
    assert raised.value.lines() == [
        f"policy:2: open_sites: {int(1e30)} is above the largest allowed value 10000",
        "policy:3: travel_estimate.circuity: 'nan' is not a finite number",
        "policy:4: travel_estimate.speed_kmh: 0 is below the smallest allowed value 1",
        "policy:5: unranked_cost: 1001 is above the largest allowed value 1000",
        "policy:6: transport_cost_gbp: 10000000.5 is above the largest allowed value 10000000",
    ]


def test_expansions_and_new_places_within_limits(tmp_path: Path, run_cli: CliRunner) -> None:
    expansions = f"school_id,need,max_extra\nS1,ASD,{HUGE}\nS2,SEMH,100001\nS2,ASD,inf\n"
    case = case_with(tmp_path / "case", {"expansions.csv": expansions})
    assert cli_problems(run_cli, "plan-places", case, "--add", "3", out=tmp_path / "out") == [
        f"expansions.csv:2: max_extra: {HUGE} is above the largest allowed value 100000",
        "expansions.csv:3: max_extra: 100001 is above the largest allowed value 100000",
        "expansions.csv:4: max_extra: 'inf' is not a whole number",
    ]


def test_scenario_numbers_within_limits(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {})
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        "open_sites = 10001\n"
        "[max_travel_minutes]\n"
        "primary = 100001\n"
        "[[add_places]]\n"
        'school_id = "S1"\n'
        'need = "ASD"\n'
        "places = 5\n"
        "[[remove_places]]\n"
        'school_id = "S2"\n'
        'need = "SEMH"\n'
        f"places = {HUGE}\n"
        "[demand_growth_percent]\n"
        "ASD = inf\n"
        "SEMH = 1001\n",
        encoding="utf-8",
    )
    assert cli_problems(run_cli, "whatif", case, scenario, out=tmp_path / "out") == [
        "s.toml:1: open_sites: 10001 is above the largest allowed value 10000",
        "s.toml:3: max_travel_minutes.primary: 100001 is above the largest allowed value 100000",
        f"s.toml:11: remove_places[0].places: {HUGE} is above the largest allowed value 100000",
        "s.toml:13: demand_growth_percent.ASD: 'inf' is not a finite number",
        "s.toml:14: demand_growth_percent.SEMH: 1001 is above the largest allowed value 1000",
    ]


def test_places_added_by_a_scenario_stay_within_the_limit(tmp_path: Path, run_cli: CliRunner) -> None:
    case = case_with(tmp_path / "case", {})
    scenario = tmp_path / "s.toml"
    add = '[[add_places]]\nschool_id = "S1"\nneed = "ASD"\nplaces = 60000\n'
    scenario.write_text(add + add, encoding="utf-8")
    assert cli_problems(run_cli, "whatif", case, scenario, out=tmp_path / "out") == [
        "s.toml:8: add_places[1].places: 'S1' would have 120,002 ASD places; at most 100,000",
    ]


def test_every_limit_itself_is_allowed_and_solved_right(tmp_path: Path, run_cli: CliRunner) -> None:
    """A case at the edge of every limit (poles and the antimeridian, ages 0 and 25, priority 100,
    rank 1000, 100,000 places, the slowest and most roundabout travel estimate, the longest
    travel limits, the largest costs) solves, and the independent checker accepts the result."""
    case = case_with(
        tmp_path / "case",
        {
            "schools.csv": (
                "school_id,name,lat,lon,age_min,age_max,kind,annual_place_cost_gbp\n"
                "S1,North Pole School,90,180,0,25,special,10000000\n"
                "S2,South Pole School,-90,-180,0,25,independent,0\n"
                f"C1,{'N' * 200},0,-180,0,25,candidate,0.5\n"
            ),
            "places.csv": "school_id,need,places\nS1,ASD,100000\nS2,ASD,1\nC1,SEMH,0\nC1,ASD,1\n",
            "children.csv": (
                "child_id,need,age,lat,lon,priority,locked_school_id\n"
                f"{'K' * 64},ASD,0,-90,180,100,\n"
                "K2,ASD,25,0,0,0,\n"
                "K3,ASD,13,89.999999,-179.999999,100,S2\n"
            ),
            "preferences.csv": f"child_id,school_id,rank\n{'K' * 64},S1,1000\nK2,C1,1\n",
            "travel_times.csv": "child_id,school_id,minutes\nK2,S1,10080\nK2,S2,0\n",
            "policy.toml": (
                "open_sites = 10000\nunranked_cost = 1000\ntransport_cost_gbp = 10000000\n"
                "[max_travel_minutes]\nprimary = 100000\nsecondary = 100000\n"
                "[travel_estimate]\nspeed_kmh = 1\ncircuity = 10\n"
            ),
        },
    )
    out = tmp_path / "out"
    result = run_cli("solve", case, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    loaded = load_case(case)
    given = {("K2", "S1"): 10080, ("K2", "S2"): 0}
    allocation = allocation_from_files(out)
    assert check_allocation(loaded.case, independent_travel(loaded.case, given), allocation) == []
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["placed"] == 3 and summary["status"] == "optimal"
    # the pole-to-pole estimate (20,004 km at 1 km/h, 10 times round about) is about 12 million minutes
    assert max(p.travel_minutes or 0 for p in allocation.placements) > 10_000_000


def test_travel_problems_keep_their_lines_after_blank_lines_and_line_breaks(tmp_path: Path, run_cli: CliRunner) -> None:
    # lines 1-2 blank, 3 the header, 5 blank, 7-8 one quoted record; figures shown as written
    travel = '\n\nchild_id,school_id,minutes\nK1,S1,5\n\nK3,S1,inf\n"K3","C1","7\r\n"\nK3,S2,-1\nK2,S1,1e20\n'
    case = case_with(tmp_path / "case", {"travel_times.csv": travel})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "travel_times.csv:6: minutes: 'inf' is not a whole number",
        "travel_times.csv:8: minutes: '7\\r\\n' contains a control character (U+000D)",
        "travel_times.csv:9: minutes: -1 is negative; minutes must be 0 or more",
        "travel_times.csv:10: minutes: 1e20 is above the largest allowed value 10080 (a week)",
    ]


def test_travel_rows_of_the_wrong_length(tmp_path: Path, run_cli: CliRunner) -> None:
    # pandas would take the first column of rows one field longer than the header as an index
    longer_first = "child_id,school_id,minutes\nK1,S1,5,9\nK3,S1,4,3\n"
    case = case_with(tmp_path / "a", {"travel_times.csv": longer_first})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "travel_times.csv:2: -: row has 4 fields but the header has 3",
    ]
    longer_later = "child_id,school_id,minutes\n\nK1,S1,5\nK3,S1,4,3\n"
    case = case_with(tmp_path / "b", {"travel_times.csv": longer_later})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "travel_times.csv:4: -: row has 4 fields but the header has 3",
    ]
    repeated = "child_id,school_id,minutes,minutes\nK1,S1,5,6\n"
    case = case_with(tmp_path / "c", {"travel_times.csv": repeated})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "travel_times.csv:1: minutes: column appears twice in the header",
    ]
