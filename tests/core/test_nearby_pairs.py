"""Eligibility from a k-d tree of nearby schools (large rounds) keeps exactly the pairs of the
full need-and-age product: the same pair arrays, with ranked and given pairs however far."""

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
