"""Eligibility from a k-d tree of nearby schools (large rounds) keeps exactly the pairs of the
full need-and-age product: the same pair arrays, with ranked and given pairs however far."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings

import allocator.instance
from allocator.instance import Instance, build_instance
from tests.strategies import RandomCase, seeded_case, tiny_cases

FIELDS = ("pair_child", "pair_bucket", "pair_minutes", "pair_rank", "pair_cost", "pair_eligible")


def _both(random_case: RandomCase) -> tuple[Instance, Instance]:
    loaded = random_case.loaded()
    full = build_instance(loaded.case, loaded.travel)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.instance, "NEARBY_FROM", -1)  # always the k-d tree
        nearby = build_instance(loaded.case, loaded.travel)
    return full, nearby


def _kept(instance: Instance) -> set[tuple[int, ...]]:
    """Pairs that might pass rule 3 (eligible), with their figures."""
    keep = np.flatnonzero(instance.pair_eligible)
    return set(zip(*(getattr(instance, name)[keep].tolist() for name in FIELDS), strict=True))


@settings(max_examples=80, deadline=None)
@given(tiny_cases())
def test_nearby_pairs_equal_the_full_product_on_tiny_cases(random_case: RandomCase) -> None:
    full, nearby = _both(random_case)
    assert _kept(nearby) == _kept(full)


def test_nearby_pairs_equal_the_full_product_on_a_seeded_case() -> None:
    full, nearby = _both(seeded_case(seed=8, children=2_000, schools=60, candidates=5, open_sites=2))
    assert _kept(nearby) == _kept(full)
    assert len(_kept(full)) > 1_000


def test_explaining_computes_the_unplaced_options_once() -> None:
    """The unplaced reasons and the counterfactuals share one pass of geodesics over the
    unplaced children's options (issue 12), and the rows stay as they were."""
    from allocator import solve

    loaded = seeded_case(seed=8, children=2_000, schools=60, candidates=5, open_sites=2).loaded()
    calls: list[str] = []
    real = allocator.instance.pair_minutes

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(inspect.stack()[1].function)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.instance, "pair_minutes", counted)
        shared = solve.allocate(loaded, explain=True)
    assert calls.count("need_and_age_options") == 1  # the rest price the eligibility's pairs
    assert any(not p.placed for p in shared.placements)
    instance = build_instance(loaded.case, loaded.travel)
    children = np.arange(40, dtype=np.int64)
    first = instance.need_and_age_options(children)
    again = instance.need_and_age_options(children)
    fresh = build_instance(loaded.case, loaded.travel).need_and_age_options(children)
    assert again is first
    for name in ("child", "bucket", "minutes", "rank"):
        assert np.array_equal(getattr(first, name), getattr(fresh, name))
