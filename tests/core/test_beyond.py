"""Pricing only the options an explanation names (allocator.beyond) gives what pricing every
need-and-age option exactly gives (`Instance.need_and_age_options`, the way it was done before):
the same options in time, the same counts and nearest options beyond the limit, the same
largest and least placing minutes; and so the same reasons and counterfactuals, on seeded cases
rich in ties (schools sharing a location, given figures, closed candidate sites, ranked far
schools)."""

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import allocator.beyond
import allocator.counterfactuals
import allocator.explain
import allocator.instance
from allocator.beyond import Beyond, beyond_limit, largest_beyond, least_placing
from allocator.instance import Instance, Options, build_instance
from allocator.solve import allocate
from data.arrays import BoolArray, IntArray
from models.case import Policy, TravelLimits
from tests.strategies import RandomCase, seeded_case, tiny_cases

NEAREST = 4


def tie_case(seed: int, children: int = 500, schools: int = 40, spots: int = 9) -> RandomCase:
    """A seeded case spread over England with its schools at `spots` shared locations (equal
    minutes at different schools), short limits (most options beyond them), a fifth of the pairs
    with given figures (ties again, and far given figures), one of four candidate sites open."""
    base = seeded_case(seed=seed, children=children, schools=schools, candidates=4, open_sites=1)
    rng = np.random.default_rng(seed)
    places = np.column_stack([rng.uniform(50.5, 55.0, spots), rng.uniform(-4.5, 1.0, spots)]).round(4)
    moved_schools = tuple(
        school.model_copy(update={"lat": float(places[i % spots, 0]), "lon": float(places[i % spots, 1])})
        for i, school in enumerate(base.case.schools)
    )
    moved_children = tuple(
        child.model_copy(
            update={"lat": round(float(rng.uniform(50.5, 55.0)), 4), "lon": round(float(rng.uniform(-4.5, 1.0)), 4)}
        )
        for child in base.case.children
    )
    policy = Policy(
        open_sites=1,
        unranked_cost=base.case.policy.unranked_cost,
        max_travel_minutes=TravelLimits(primary=int(rng.integers(60, 200)), secondary=int(rng.integers(150, 400))),
    )
    case = base.case.model_copy(update={"schools": moved_schools, "children": moved_children, "policy": policy})
    return RandomCase(case, base.given)


def _exhaustive(instance: Instance, children: IntArray) -> tuple[Options, IntArray, BoolArray]:
    """Every need-and-age option priced exactly, its school, and whether it is in time (rule 3)."""
    options = instance.need_and_age_options(children)
    in_time = (options.minutes <= instance.child_limit[options.child]) | (options.rank > 0)
    return options, instance.bucket_school[options.bucket], in_time


def exhaustive_beyond_limit(instance: Instance, children: IntArray, nearest: int) -> Beyond:
    options, schools, in_time = _exhaustive(instance, children)
    count = np.zeros(instance.child_count, np.int64)
    named: list[list[tuple[int, int, int]]] = [[] for _ in range(instance.child_count)]
    for child, bucket, school, minutes in zip(
        options.child[~in_time], options.bucket[~in_time], schools[~in_time], options.minutes[~in_time], strict=True
    ):
        count[child] += 1
        named[int(child)].append((int(minutes), int(school), int(bucket)))
    chosen = [sorted(found)[:nearest] for found in named]
    starts = np.cumsum([0] + [len(found) for found in chosen]).astype(np.int64)
    return Beyond(
        count,
        starts,
        np.array([b for found in chosen for _, _, b in found], np.int64),
        np.array([m for found in chosen for m, _, _ in found], np.int64),
    )


def exhaustive_largest(instance: Instance, children: IntArray, school_ok: BoolArray) -> int:
    options, schools, in_time = _exhaustive(instance, children)
    return int(options.minutes[~in_time & school_ok[schools]].max(initial=0))


def exhaustive_least(
    instance: Instance,
    children: IntArray,
    school_ok: BoolArray,
    budget: IntArray,
    bucket_cost: IntArray,
    reachable: BoolArray,
) -> IntArray:
    options, schools, in_time = _exhaustive(instance, children)
    least = np.full(instance.child_count, -1, np.int64)
    for child, bucket, school, minutes, late in zip(
        options.child.tolist(),
        options.bucket.tolist(),
        schools.tolist(),
        options.minutes.tolist(),
        (~in_time).tolist(),
        strict=True,
    ):
        if late and school_ok[school] and reachable[bucket] and minutes <= budget[child] - bucket_cost[bucket]:
            least[child] = minutes if least[child] < 0 else min(int(least[child]), minutes)
    return least


def _unlocked(instance: Instance) -> IntArray:
    return np.flatnonzero(instance.locked_school < 0)


def _same_beyond(found: Beyond, expected: Beyond) -> None:
    for name in ("count", "named_starts", "named_bucket", "named_minutes"):
        assert np.array_equal(getattr(found, name), getattr(expected, name)), name


def _random_open(instance: Instance, rng: np.random.Generator) -> BoolArray:
    return ~instance.is_candidate | (rng.random(instance.school_count) < 0.5)


CASES = [tie_case(1), tie_case(2, spots=3), tie_case(3, children=300, schools=25, spots=25)]


@pytest.mark.parametrize("random_case", CASES)
def test_in_time_options_are_the_eligible_pairs(random_case: RandomCase) -> None:
    """For every unlocked child, its options within the limit or ranked (priced exactly) are
    exactly its eligible pairs, with the same minutes and ranks: candidate sites included, with
    or without the k-d tree."""
    loaded = random_case.loaded()
    for nearby_from in (allocator.instance.NEARBY_FROM, -1):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(allocator.instance, "NEARBY_FROM", nearby_from)
            instance = build_instance(loaded.case, loaded.travel)
        options, _, in_time = _exhaustive(instance, _unlocked(instance))
        expected = set(
            zip(
                *(a[in_time].tolist() for a in (options.child, options.bucket, options.minutes, options.rank)),
                strict=True,
            )
        )
        eligible = instance.pair_eligible
        found = set(
            zip(
                *(
                    a[eligible].tolist()
                    for a in (instance.pair_child, instance.pair_bucket, instance.pair_minutes, instance.pair_rank)
                ),
                strict=True,
            )
        )
        assert found == expected
        assert instance.is_candidate[instance.pair_school[eligible]].any()


@pytest.mark.parametrize("random_case", CASES)
def test_beyond_limit_equals_pricing_every_option(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    children = _unlocked(instance)
    for nearest in (1, NEAREST):
        expected = exhaustive_beyond_limit(instance, children, nearest)
        _same_beyond(beyond_limit(instance, children, nearest), expected)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(allocator.beyond, "CHUNK_OPTIONS", 7)  # blocks of a few children
            _same_beyond(beyond_limit(instance, children, nearest), expected)
    # the case is what the docstring says: ties among the named, more beyond than named
    assert (expected.count > NEAREST).sum() > 50
    minutes, starts = expected.named_minutes, expected.named_starts
    assert any(np.unique(minutes[a:b]).size < b - a for a, b in zip(starts[:-1], starts[1:], strict=True))


@pytest.mark.parametrize("random_case", CASES)
def test_largest_and_least_placing_equal_pricing_every_option(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    children = _unlocked(instance)
    rng = np.random.default_rng(11)
    for _ in range(3):
        school_ok = _random_open(instance, rng)
        assert largest_beyond(instance, children, school_ok) == exhaustive_largest(instance, children, school_ok)
        budget = instance.child_limit + rng.integers(0, 400, instance.child_count)
        bucket_cost = rng.integers(-100, 100, instance.bucket_school.size)
        reachable = rng.random(instance.bucket_school.size) < 0.8
        least = least_placing(instance, children, school_ok, budget, bucket_cost, reachable)
        expected = exhaustive_least(instance, children, school_ok, budget, bucket_cost, reachable)
        assert np.array_equal(least, expected)
        assert (expected >= 0).sum() > 20


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_cases())
def test_beyond_equals_pricing_every_option_on_tiny_cases(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    children = _unlocked(instance)
    _same_beyond(beyond_limit(instance, children, 2), exhaustive_beyond_limit(instance, children, 2))
    school_ok = ~instance.is_candidate
    assert largest_beyond(instance, children, school_ok) == exhaustive_largest(instance, children, school_ok)
    budget = instance.child_limit + 20
    cost = np.zeros(instance.bucket_school.size, np.int64)
    reachable = np.ones(instance.bucket_school.size, bool)
    assert np.array_equal(
        least_placing(instance, children, school_ok, budget, cost, reachable),
        exhaustive_least(instance, children, school_ok, budget, cost, reachable),
    )


@contextmanager
def _every_option_priced() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.explain, "beyond_limit", exhaustive_beyond_limit)
        patch.setattr(allocator.counterfactuals, "largest_beyond", exhaustive_largest)
        patch.setattr(allocator.counterfactuals, "least_placing", exhaustive_least)
        yield


@pytest.mark.parametrize("random_case", CASES)
def test_reasons_and_counterfactuals_equal_pricing_every_option(random_case: RandomCase) -> None:
    """The whole run's rows (allocation.csv's reasons, explanations.csv's sentences, forced and
    counterfactuals) are the same as when every need-and-age option is priced exactly."""
    loaded = random_case.loaded()
    fast = allocate(loaded, explain=True)
    with _every_option_priced():
        slow = allocate(loaded, explain=True)
    assert fast.placements == slow.placements
    assert fast.explanations == slow.explanations
    rows = fast.explanations
    assert any(row.extra_minutes is not None for row in rows)
    assert any(row.forced is not None for row in rows)
    assert any(" more" in p.explanation for p in fast.placements)


def test_explaining_prices_few_options_with_a_geodesic() -> None:
    """On a 2,000-child round over England the explanations price with a geodesic a small share
    of the unplaced children's options beyond the limit (the rest: exact from the instance,
    decided by the bounds, or never needed), and the rows are those of pricing every option."""
    loaded = tie_case(4, children=2_000, schools=80, spots=80).loaded()
    priced: list[int] = []
    real = allocator.beyond.estimate_minutes

    def counted(*args: object, **kwargs: object) -> IntArray:
        priced.append(int(np.asarray(args[0]).size))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.beyond, "estimate_minutes", counted)
        fast = allocate(loaded, explain=True)
    with _every_option_priced():
        slow = allocate(loaded, explain=True)
    assert fast.explanations == slow.explanations
    instance = build_instance(loaded.case, loaded.travel)
    unplaced = [i for i, p in enumerate(fast.placements) if not p.placed and instance.locked_school[i] < 0]
    _, _, in_time = _exhaustive(instance, np.array(unplaced, np.int64))
    assert int((~in_time).sum()) > 10_000
    assert 0 < sum(priced) < 0.02 * int((~in_time).sum())  # some geodesics: that path is checked too
