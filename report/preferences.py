"""Two report sections from explanations.csv's rows (issue 9), rendered, never solved:
"Preferences" (first choices met by district and need; why the others were not, by reason) and
"Where one more place helps most" (the rows' add_place counts by school and need)."""

from collections import Counter, defaultdict
from collections.abc import Sequence

from models.case import Case
from models.need import NEED_LABELS, Need
from models.results import FIRST_CHOICE_REASONS, Allocation, ChildExplanation, Outcome
from report.svg import esc

NOT_GIVEN = "(not given)"


def explanation_sections(case: Case, allocation: Allocation) -> list[tuple[str, str, str]]:
    """(key, title, html) of both sections; none when the run has no explanations."""
    rows = allocation.explanations
    if not rows:
        return []
    return [
        ("preferences", "Preferences", preferences_section(case, rows)),
        ("one-more-place", "Where one more place helps most", one_more_place_section(case, rows)),
    ]


def preferences_section(case: Case, rows: Sequence[ChildExplanation]) -> str:
    ranked = [(child, row) for child, row in zip(case.children, rows, strict=True) if row.first_choice_school_id]
    if not ranked:
        return "<p>No family named any schools in this round.</p>"
    met = sum(1 for _, row in ranked if row.outcome is Outcome.FIRST_CHOICE)
    lede = (
        f"<p>{len(ranked)} families named schools; {met} children have a place at their first choice "
        f"({_share(met, len(ranked))}).</p>"
    )
    by_district = _met_table(
        "First choices met by district", "district", [(c.district or NOT_GIVEN, r) for c, r in ranked]
    )
    by_need = _met_table("First choices met by need", "need", [(NEED_LABELS[c.need], r) for c, r in ranked])
    reasons = Counter(row.why_not_first for _, row in ranked if row.why_not_first)
    reason_rows = "".join(
        f'<tr><td>{esc(FIRST_CHOICE_REASONS[key])}</td><td class="num">{count}</td></tr>'
        for key, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    )
    why = (
        '<table class="figures" id="why-not-first"><caption>Why the first choice was not given</caption>'
        '<thead><tr><th scope="col">main reason</th><th scope="col">children</th></tr></thead>'
        f"<tbody>{reason_rows}</tbody></table>"
        if reason_rows
        else ""
    )
    return lede + by_district + by_need + why


def _met_table(caption: str, label: str, groups: list[tuple[str, ChildExplanation]]) -> str:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, row in groups:
        counts[name][0] += 1
        counts[name][1] += row.outcome is Outcome.FIRST_CHOICE
    body = "".join(
        f'<tr><td>{esc(name)}</td><td class="num">{total}</td><td class="num">{met}</td>'
        f'<td class="num">{_share(met, total)}</td></tr>'
        for name, (total, met) in sorted(counts.items())
    )
    return (
        f'<table class="figures"><caption>{esc(caption)}</caption><thead><tr><th scope="col">{label}</th>'
        '<th scope="col">families who named schools</th><th scope="col">first choice met</th>'
        f'<th scope="col">share</th></tr></thead><tbody>{body}</tbody></table>'
    )


def one_more_place_section(case: Case, rows: Sequence[ChildExplanation]) -> str:
    names = {school.school_id: school.name for school in case.schools}
    helped: Counter[tuple[str, str]] = Counter()
    placed: Counter[tuple[str, str]] = Counter()
    for child, row in zip(case.children, rows, strict=True):
        if row.add_place_school_id is not None:
            key = (row.add_place_school_id, child.need.value)
            helped[key] += 1
            placed[key] += row.outcome is Outcome.UNPLACED
    if not helped:
        return "<p>No single extra place would give any child a place or their first choice.</p>"
    body = "".join(
        f"<tr><td>{esc(names[school_id])}</td><td>{esc(NEED_LABELS[Need(need)])}</td>"
        f'<td class="num">{count}</td><td class="num">{placed[(school_id, need)]}</td></tr>'
        for (school_id, need), count in sorted(helped.items(), key=lambda item: (-item[1], item[0]))
    )
    return (
        "<p>For each school and need: how many children one more place there would help, each on "
        "its own (a place for a child without one, or the family's first choice). Each count is "
        "exact for one extra place; two children counted at the same school may need two places.</p>"
        '<table class="figures" id="one-more-place"><thead><tr><th scope="col">school</th><th scope="col">need</th>'
        '<th scope="col">children it would help</th><th scope="col">of them now without a place</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"
