"""Schools whose names are cut to fit a chart stay distinguishable: never two schools, one label."""

import re
from html import unescape

from hypothesis import given
from hypothesis import strategies as st

from allocator.solve import allocate
from models.case import School, SchoolKind
from report.charts import label_chars
from report.labels import DISTRICT_MOST, school_labels
from report.map import placement_map
from report.page import build_report
from report.sections import PLACES_LABEL_WIDTH, places_chart
from tests.core.helpers import child, make_case, places, school
from tests.strategies import RandomCase

PREFIX = "St Bartholomew's Church of England Specialist Academy and Sixth Form"  # longer than any label


def _named(school_id: str, name: str, district: str | None, kind: SchoolKind = SchoolKind.SPECIAL) -> School:
    return school(school_id, kind=kind).model_copy(update={"name": name, "district": district})


def _case(schools: list[School]) -> RandomCase:
    return make_case(schools, [places(s.school_id, 1) for s in schools], [child("K1")])


def _places_labels(random_case: RandomCase) -> list[str]:
    """The row labels written on the places chart (right-aligned text at the label column)."""
    chart = places_chart(random_case.case, allocate(random_case.loaded()))
    return [
        unescape(label)
        for label in re.findall(r'<text x="[\d.]+" y="[\d.]+" text-anchor="end"[^>]*>([^<]*)</text>', chart)
    ]


def test_truncated_school_names_stay_distinguishable() -> None:
    most = label_chars(PLACES_LABEL_WIDTH)
    north, south = f"{PREFIX}, North Campus", f"{PREFIX}, South Campus"
    assert north[: most - 1] == south[: most - 1]  # cut alone, they would read the same

    def labelled(qualifier: str) -> str:  # the name cut to leave room for "…" and the qualifier
        return f"{PREFIX[: most - len(f' ({qualifier})') - 1]}… ({qualifier})"

    apart = _places_labels(_case([_named("S1", north, "Burnley"), _named("S2", south, "Pendle")]))
    assert sorted(apart) == sorted([labelled("Burnley"), labelled("Pendle")])

    same_district = _places_labels(_case([_named("S1", north, "Burnley"), _named("S2", south, "Burnley")]))
    assert sorted(same_district) == [labelled("S1"), labelled("S2")]

    no_district = _places_labels(_case([_named("S1", north, None), _named("S2", south, None)]))
    assert sorted(no_district) == [labelled("S1"), labelled("S2")]

    for labels in (apart, same_district, no_district):
        assert len(labels) == 2 and len(set(labels)) == 2
        assert all(len(label) <= most for label in labels)


def test_names_that_fit_are_left_alone_and_shared_short_names_are_told_apart() -> None:
    schools = [
        _named("S1", "Hope School", "Burnley"),
        _named("S2", "Hope School", "Chorley"),
        _named("S3", "Acorns School", "Preston"),
    ]
    labels = _places_labels(_case(schools))
    assert sorted(labels) == ["Acorns School", "Hope School (Burnley)", "Hope School (Chorley)"]


def test_the_full_name_and_id_stay_in_the_tooltip() -> None:
    random_case = _case([_named("S1", f"{PREFIX}, North Campus", "Burnley")])
    chart = places_chart(random_case.case, allocate(random_case.loaded()))
    assert f"<title>{PREFIX}, North Campus (S1): used 1</title>" in unescape(chart)


def test_opened_sites_on_the_maps_are_labelled_with_their_ids() -> None:
    north = _named("N1", f"Candidate: {PREFIX}, North Campus", None, SchoolKind.CANDIDATE)
    south = _named("N2", f"Candidate: {PREFIX}, South Campus", None, SchoolKind.CANDIDATE)
    random_case = make_case(
        [north, south], [places("N1", 1), places("N2", 1)], [child("K1"), child("K2")], open_sites=2
    )
    loaded = random_case.loaded()
    allocation = allocate(loaded)
    assert allocation.summary.opened_sites == ["N1", "N2"]
    svg = placement_map(loaded.case, allocation, [], [])
    assert "new site opened: N1" in svg and "new site opened: N2" in svg
    assert "<script" not in build_report(loaded.case, allocation)


_text = st.text(alphabet="ab (…)", min_size=0, max_size=14)


@given(
    st.lists(
        st.tuples(st.text(alphabet="ab (…)", min_size=1, max_size=60), st.none() | _text),
        min_size=1,
        max_size=8,
    ),
    st.integers(4, 50),
)
def test_labels_are_distinct_for_any_names_districts_and_widths(rows: list[tuple[str, str | None]], most: int) -> None:
    # Ids such as "(a)" and names that look like other schools' labels are allowed on purpose.
    schools = [_named(f"({i})" if i % 2 else f"S{i}", name, district) for i, (name, district) in enumerate(rows)]
    labels = school_labels(schools, most)
    assert len(set(labels.values())) == len(schools)
    for one in schools:
        label = labels[one.school_id]
        if label == one.name:
            assert len(label) <= most
        elif label != one.school_id:  # cut or shared: a qualifier in brackets at the end
            qualifier = label.rsplit(" (", 1)[1].removesuffix(")")
            assert qualifier in (one.school_id, one.district)
            assert qualifier == one.school_id or len(qualifier) <= DISTRICT_MOST


def test_school_names_with_markup_are_escaped_where_cut_and_whole() -> None:
    risky = '<img src=x onerror="alert(1)"> & Sons\' "Academy" of Specialist Learning, Upper School'
    random_case = _case([_named("S1", risky, "Burnley"), _named("S2", risky, "Pendle")])
    loaded = random_case.loaded()
    html = build_report(loaded.case, allocate(loaded))
    assert "<img" not in html and 'onerror="' not in html
    assert html.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Sons&#x27;") >= 4  # labels, tooltips
    labels = _places_labels(random_case)
    assert sorted(labels) == sorted(
        f"{risky[: label_chars(PLACES_LABEL_WIDTH) - len(f' ({d})') - 1]}… ({d})" for d in ("Burnley", "Pendle")
    )
