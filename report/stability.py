"""The report's stability section (issue 9, item 6): counts from summary.json's `stability` and,
for an `objective = "stable"` run, its `price_of_stability`. Counts only: no child is named."""

from models.case import Policy
from models.results import Allocation, PriceOfStability
from report.svg import esc, thousands

STABILITY_TITLE = "Fair claims to preferred schools"


def children(count: int) -> str:
    return f"{thousands(count)} child" if count == 1 else f"{thousands(count)} children"


def stability_sections(allocation: Allocation, policy: Policy) -> list[tuple[str, str]]:
    """The section as `(title, html)` for `report.build_report(extra_sections=...)`; none when
    the summary has no stability figures."""
    stability = allocation.summary.stability
    if stability is None:
        return []
    rows = [
        (
            "children who asked for a school above the one they got (or have no place) where a child "
            "of the same need with a less urgent priority was placed",
            thousands(stability.justified_envy),
        ),
        (
            "children who asked for a school above the one they got (or have no place) that still has "
            "a free place for their need",
            thousands(stability.prefers_free_place),
        ),
    ]
    table = "".join(f'<tr><th scope="row">{esc(label)}</th><td>{value}</td></tr>' for label, value in rows)
    parts = [f'<table class="figures"><caption>Stability of this allocation</caption>{table}</table>']
    price = allocation.summary.price_of_stability
    if price is None:
        parts.insert(0, _optimal_lede(stability.justified_envy))
    else:
        parts.insert(0, _stable_lede())
        parts.append(_price_table(price, policy))
    return [(STABILITY_TITLE, "".join(parts))]


def _optimal_lede(envy: int) -> str:
    if envy == 0:
        return (
            "<p>No child has a fair claim to a school they prefer: every such school's places went to "
            "children at least as urgent.</p>"
        )
    return (
        f"<p>This allocation places as many children as possible, most urgent first. To do so, "
        f"{children(envy)} did not get a school they prefer while a child of the same need with a less "
        f'urgent priority did. The policy\'s <code>objective = "stable"</code> removes such claims, '
        f"usually at the cost of fewer children placed.</p>"
    )


def _stable_lede() -> str:
    return (
        "<p>This is the stable allocation: no child would rather have a school that has a free place "
        "for them, or that took a child it ranks lower (less urgent, then farther away, then by a fixed "
        "lottery). Below, what it costs against the allocation that places the most children.</p>"
    )


def _price_table(price: PriceOfStability, policy: Policy) -> str:
    rows = [
        (
            f"children placed ({policy.priority_name(int(tier))})",
            thousands(price.optimal_placed_by_priority[tier]),
            thousands(price.optimal_placed_by_priority[tier] + change),
            _signed(change),
        )
        for tier, change in price.placed_by_priority.items()
    ]
    rows += [
        (
            "preference cost (sum of ranks)",
            thousands(price.optimal_preference_cost),
            thousands(price.optimal_preference_cost + price.preference_cost),
            _signed(price.preference_cost),
        ),
        (
            "travel minutes (all placed children)",
            thousands(price.optimal_travel_minutes),
            thousands(price.optimal_travel_minutes + price.travel_minutes),
            _signed(price.travel_minutes),
        ),
    ]
    head = "".join(f'<th scope="col">{h}</th>' for h in ("", "most placed", "stable", "change"))
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th><td>{a}</td><td>{b}</td><td>{c}</td></tr>' for label, a, b, c in rows
    )
    return f'<table class="figures"><caption>The price of stability</caption><tr>{head}</tr>{body}</table>'


def _signed(value: int) -> str:
    return "0" if value == 0 else ("+" if value > 0 else "-") + thousands(abs(value))
