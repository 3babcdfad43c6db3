"""What-if: scenario edits, figures compared, children who move and why; deterministic growth."""

from allocator.estates.whatif import SYNTHETIC_PREFIX, apply_scenario, run_whatif
from data.scenario import parse_scenario
from models.case import SchoolKind
from models.need import Need
from tests.core.helpers import child, make_case, places, school
from tests.strategies import RandomCase


def _case() -> RandomCase:
    return make_case(
        [school("S1"), school("S2"), school("N1", kind=SchoolKind.CANDIDATE)],
        [places("S1", 1), places("S2", 1), places("N1", 2)],
        [child("K1"), child("K2", priority=1), child("K3", need=Need.SEMH)],
        minutes={
            ("K1", "S1"): 5,
            ("K2", "S1"): 10,
            ("K1", "S2"): 20,
            ("K2", "S2"): 40,
            ("K1", "N1"): 3,
            ("K2", "N1"): 50,
        },
        open_sites=0,
    )


def _run(text: str) -> tuple[dict[str, tuple[str, str, str]], dict[str, tuple[float, float]]]:
    random_case = _case()
    scenario = parse_scenario(text, random_case.case, "s.toml")
    result = run_whatif(random_case.loaded(), scenario, text)
    moves = {m.child_id: (m.from_school, m.to_school, m.why) for m in result.moves}
    changes = {name: (before, after) for name, before, after in result.changes}
    return moves, changes


def test_closing_a_school_moves_its_children() -> None:
    # Baseline: both placed; K2 -> S1 (10) + K1 -> S2 (20) = 30 beats K1 -> S1 + K2 -> S2 = 45.
    # S1 closed: one place left, and K2 (priority 1) takes it.
    moves, changes = _run('close_schools = ["S1"]\n')
    assert moves["K2"] == ("S1", "S2", "school closed")
    assert moves["K1"] == ("S2", "", "displaced by higher priority")
    assert changes["placed"] == (2.0, 1.0)


def test_opening_a_candidate_names_it() -> None:
    moves, changes = _run('open_candidates = ["N1"]\n')
    # N1 takes K1 at 3 minutes; K2 stays at S1.
    assert moves == {"K1": ("S2", "N1", "new site opened: N1")}
    assert changes["travel_minutes"] == (30.0, 13.0)


def test_added_place_and_travel_limit() -> None:
    moves, _ = _run('[[add_places]]\nschool_id = "S1"\nneed = "ASD"\nplaces = 1\n')
    assert moves == {"K1": ("S2", "S1", "nearer place opened")}
    moves, _ = _run("[max_travel_minutes]\nprimary = 15\n")
    assert moves == {"K1": ("S2", "", "travel limit changed")}


def test_demand_growth_is_seeded_by_the_case() -> None:
    random_case = _case()
    text = "[demand_growth_percent]\nASD = 50\n"
    scenario = parse_scenario(text, random_case.case, "s.toml")
    first = apply_scenario(random_case.loaded(), scenario, text)
    second = apply_scenario(random_case.loaded(), scenario, text)
    added = [c for c in first.case.children if c.child_id.startswith(SYNTHETIC_PREFIX)]
    assert len(added) == 1  # round(2 * 50 / 100)
    assert added[0].need == Need.ASD and added[0].locked_school_id is None
    assert first.case == second.case
    template = next(c for c in random_case.case.children if (c.lat, c.lon) == (added[0].lat, added[0].lon))
    assert template.need == Need.ASD
