"""Short labels for schools that stay distinguishable when names are cut to fit a chart.

A school whose name fits and that no other school in the chart shares is labelled by its name.
Any other (its name cut to fit, or shared with another school) gets a qualifier in brackets: its
district (schools.csv `district`) when the case gives one of at most `DISTRICT_MOST` characters,
without brackets, and no other label ends up the same; else its school_id; the name is cut, ending in "…", to leave
room for the qualifier. Two different schools never get the same label: if, against all
likelihood, names and ids still collide, every school is labelled by its school_id, unique by
the contract.
"""

from collections import Counter
from collections.abc import Sequence

from models.case import School

ELLIPSIS = "…"
DISTRICT_MOST = 16  # a longer district (e.g. "Blackburn with Darwen (outside)") would leave too little name
NAME_LEAST = 8  # a cut name keeps at least this many characters, even where the label then runs long


def cut(name: str, most: int) -> str:
    """`name` in at most `most` characters, ending in "…" when cut."""
    return name if len(name) <= most else name[: max(most - 1, 1)].rstrip(" ,;:-") + ELLIPSIS


def _qualified(name: str, qualifier: str, most: int) -> str:
    suffix = f" ({qualifier})"
    return cut(name, max(most - len(suffix), NAME_LEAST)) + suffix


def school_labels(schools: Sequence[School], most: int) -> dict[str, str]:
    """school_id -> label of at most `most` characters (more only where a qualifier leaves less
    than `NAME_LEAST` characters of name), distinct for distinct schools; see the module docstring."""
    names = Counter(school.name for school in schools)
    labels: dict[str, str] = {}
    by_district: set[str] = set()
    for school in schools:
        if len(school.name) <= most and names[school.name] == 1:
            labels[school.school_id] = school.name
        elif school.district and len(school.district) <= DISTRICT_MOST and not set("()") & set(school.district):
            labels[school.school_id] = _qualified(school.name, school.district, most)
            by_district.add(school.school_id)
        else:
            labels[school.school_id] = _qualified(school.name, school.school_id, most)
    shared = Counter(labels.values())
    for school in schools:
        if school.school_id in by_district and shared[labels[school.school_id]] > 1:
            labels[school.school_id] = _qualified(school.name, school.school_id, most)
    if len(set(labels.values())) < len(labels):
        return {school.school_id: school.school_id for school in schools}
    return labels
