"""The pages' map data (api/web/map.py) and its partial: approximate district outlines that hold
every ward centre and school they are drawn around, the same bytes for the same input, nothing
about a child, a tile layer only when configured, and a text alternative naming every school."""

import json
from html.parser import HTMLParser

from api.settings import Settings
from api.web.map import buffered_hull, map_data_for_run, map_data_for_sites, tile_layer
from api.web.templating import STATIC, environment
from data.loader import load_case
from data.ward_centroids import bundled_ward_centroids
from models.case import Case, SchoolKind
from tests.conftest import REPO, SAMPLE_CASE

LANCASHIRE = REPO / "data" / "lancashire" / "case"


def inside(point: tuple[float, float], polygon: list[list[float]]) -> bool:
    """Ray casting (lat, lon), independent of the hull code; a point on an edge counts as inside."""
    y, x = point
    crossings = 0
    for (y1, x1), (y2, x2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if abs(at - x) < 1e-9:
                return True
            crossings += at > x
    return crossings % 2 == 1


def lancashire() -> Case:
    return load_case(LANCASHIRE).case


def test_each_district_of_the_case_has_an_approximate_outline_around_its_wards_and_schools() -> None:
    case = lancashire()
    data = map_data_for_run(case, {}, [])
    outlines = {d["name"]: d for d in data["districts"]}
    assert set(outlines) == {child.district for child in case.children}
    for ward in bundled_ward_centroids():
        assert inside((ward.lat, ward.lon), outlines[ward.district]["outline"]), ward
    for school in case.schools:
        if school.district in outlines:
            assert inside((school.lat, school.lon), outlines[school.district]["outline"]), school.school_id
    assert all(d["label"].endswith("(approximate outline)") for d in outlines.values())


def test_a_hull_of_one_point_is_a_ring_around_it() -> None:
    ring = buffered_hull([(53.8, -2.4)])
    assert len(ring) == 12 and inside((53.8, -2.4), ring)
    assert not inside((53.9, -2.4), ring)  # 11 km away: outside a 1.5 km ring


def test_the_same_case_gives_the_same_bytes_and_nothing_about_children() -> None:
    case = lancashire()
    placed = {"LAN-SP-01": 12}
    first = json.dumps(map_data_for_run(case, placed, ["LAN-CAND-02"]))
    assert first == json.dumps(map_data_for_run(lancashire(), placed, ["LAN-CAND-02"]))
    for child in case.children:
        assert child.child_id not in first
        assert f"{child.lat}, {child.lon}" not in first and f"{round(child.lat, 5)}, {round(child.lon, 5)}" not in first
    data = json.loads(first)
    assert [s["id"] for s in data["sites"]] == [s.school_id for s in case.schools if s.kind is SchoolKind.CANDIDATE]
    assert [s["id"] for s in data["sites"] if s["opened"]] == ["LAN-CAND-02"]
    assert next(s for s in data["schools"] if s["id"] == "LAN-SP-01")["placed"] == 12


def test_sites_are_listed_best_first() -> None:
    case = lancashire()
    ranking = ["LAN-CAND-03", "LAN-CAND-01"]
    sites = map_data_for_sites(case, ranking)["sites"]
    assert [s["id"] for s in sites][:2] == ranking and [s["rank"] for s in sites][:2] == [1, 2]


def test_a_tile_layer_only_when_a_url_is_configured(monkeypatch: object) -> None:
    case = load_case(SAMPLE_CASE).case
    assert Settings().tile_url is None and map_data_for_run(case, {}, [])["tiles"] is None
    url = "https://tiles.example/{z}/{x}/{y}.png"
    tiles = tile_layer(url, "© the tile server")
    assert map_data_for_run(case, {}, [], tiles)["tiles"] == {"url": url, "attribution": "© the tile server"}
    assert tile_layer(None) is None


def test_only_the_districts_the_case_names_are_outlined() -> None:
    case = load_case(SAMPLE_CASE).case
    named = {child.district for child in case.children} | {school.district for school in case.schools}
    drawn = {d["name"] for d in map_data_for_run(case, {}, [])["districts"]}
    assert drawn == named & {ward.district for ward in bundled_ward_centroids()} and len(drawn) < 12
    without = case.model_copy(
        update={"children": tuple(c.model_copy(update={"district": None}) for c in case.children)}
    )
    assert map_data_for_run(without, {}, [])["districts"] == []


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.json = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td" or (tag == "script" and ("type", "application/json") in attrs):
            self._in = tag
            if tag == "td":
                self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "td":
            self.cells[-1] += data
        elif self._in == "script":
            self.json += data


def test_the_partial_embeds_the_data_and_a_table_naming_every_school_and_site() -> None:
    case = lancashire()
    data = map_data_for_run(case, {"LAN-SP-01": 1}, ["LAN-CAND-02"])
    template = environment.from_string(
        '{% from "partials/map.html" import map_panel %}{{ map_panel(map_data, "run-map", "Where children go") }}'
    )
    page = _Page()
    page.feed(template.render(map_data=data))
    assert json.loads(page.json) == data
    for school in case.schools:
        assert school.name in page.cells
    assert "opened in this run" in page.cells and "1 child placed" in " ".join(page.cells)


def test_leaflet_is_vendored_at_its_pinned_version_with_its_licence() -> None:
    script = (STATIC.parent / "fetch_leaflet.sh").read_text()
    pinned = next(line.split("=", 1)[1] for line in script.splitlines() if line.startswith("LEAFLET="))
    folder = STATIC / "vendor" / "leaflet"
    package = json.loads((folder / "package.json").read_text())
    assert (package["name"], package["version"], package["license"]) == ("leaflet", pinned, "BSD-2-Clause")
    assert "BSD 2-Clause License" in (folder / "LICENSE").read_text()
    assert f'.version="{pinned}"' in (folder / "leaflet.js").read_text()
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        assert (folder / "images" / image).is_file()
