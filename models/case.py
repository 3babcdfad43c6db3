"""The case: schools, places, children, preferences and policy of one panel round.

Travel minutes are not held here: a county case has millions of child-school pairs, which
live as arrays in `data.travel`.

Every number has stated limits (README, "Limits on numbers and text") and every decimal is
finite, so nothing read from a file can overflow the solver's 64-bit arithmetic; ids are
printable text of at most MAX_ID_LENGTH characters, other text at most MAX_TEXT_LENGTH.
"""

import unicodedata
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from models.base import Frozen
from models.need import Need

# Limits on numbers (README, "Limits on numbers and text"). Whole numbers are Python integers
# until they pass these checks, so a 30-digit number is a problem, never an overflow.
MAX_AGE = 25  # an EHCP runs from birth to age 25
MAX_PLACES = 100_000  # places of one need at one school in one round
MAX_PRIORITY = 100  # urgency tiers 0-100
MAX_RANK = 1_000  # a family's ranking of schools
MAX_GIVEN_MINUTES = 10_080  # a week: a door-to-door figure beyond it is a unit error (seconds?)
MAX_LIMIT_MINUTES = 100_000  # a travel limit; anything above a week already means "no limit"
MAX_UNRANKED_COST = 1_000
MAX_OPEN_SITES = 10_000
MIN_SPEED_KMH, MAX_SPEED_KMH = 1, 200  # walking pace to motorway speed
MIN_CIRCUITY, MAX_CIRCUITY = 1, 10  # road distance is never shorter than the geodesic
MAX_GBP = 10_000_000  # a year's cost of one place, or of one child's transport
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 200  # names, districts, wards

# Characters refused in every cell and id (a scenario's too): controls (newline, carriage return,
# tab, NUL, ...), format characters (byte-order mark, bidirectional overrides, zero-width
# joiners, ...), surrogates and the Unicode line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_SHOWN = 80  # characters of a value echoed in a problem


def first_refused_character(text: str) -> str | None:
    """The first character of `text` that a cell may not hold (REFUSED_CATEGORIES), or None."""
    if text.isprintable():  # fast path: printable text holds none of them
        return None
    return next((char for char in text if unicodedata.category(char) in REFUSED_CATEGORIES), None)


def escaped(text: str) -> str:
    """`text` with every refused character written as an escape (`\\n`, `\\x00`, `\\ufeff`), so
    that it always prints as one line."""
    if first_refused_character(text) is None:
        return text
    return "".join(_escape(char) if unicodedata.category(char) in REFUSED_CATEGORIES else char for char in text)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(value: object) -> str:
    """A value as a problem echoes it: escaped, and cut after MAX_SHOWN characters."""
    text = escaped(str(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def refused_character_message(text: str, char: str) -> str:
    return f"'{shown(text)}' contains a control character (U+{ord(char):04X})"


def _printable(text: str) -> str:
    char = first_refused_character(text)
    if char is not None:
        raise ValueError(refused_character_message(text, char))
    return text


Identifier = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_printable)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH), AfterValidator(_printable)]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Years = Annotated[int, Field(ge=0, le=MAX_AGE)]
Pounds = Annotated[float, Field(ge=0, le=MAX_GBP, allow_inf_nan=False)]


class SchoolKind(StrEnum):
    SPECIAL = "special"
    RESOURCE_BASE = "resource_base"
    INDEPENDENT = "independent"
    CANDIDATE = "candidate"


class School(Frozen):
    """A school, resource base, independent provider or candidate site."""

    school_id: Identifier
    name: Text
    lat: Latitude
    lon: Longitude
    age_min: Years
    age_max: Years
    kind: SchoolKind = SchoolKind.SPECIAL
    annual_place_cost_gbp: Pounds | None = None
    district: Text | None = None

    @model_validator(mode="after")
    def _ages_ordered(self) -> "School":
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        return self

    def takes_age(self, age: int) -> bool:
        return self.age_min <= age <= self.age_max


class PlaceOffer(Frozen):
    """Places free in this round at one school for one need."""

    school_id: Identifier
    need: Need
    places: int = Field(ge=0, le=MAX_PLACES)


class Child(Frozen):
    """A child to place; pseudonymous."""

    child_id: Identifier
    need: Need
    age: Years
    lat: Latitude
    lon: Longitude
    priority: int = Field(default=0, ge=0, le=MAX_PRIORITY)
    district: Text | None = None
    locked_school_id: Identifier | None = None
    # An addition to the contract: the home's ward, used only to aggregate homes on the
    # report's map (homes themselves are never shown).
    ward: Text | None = None

    @property
    def phase(self) -> str:
        """Primary when age <= 10, else secondary (CONTRACT.md)."""
        return "primary" if self.age <= 10 else "secondary"


class Preference(Frozen):
    child_id: Identifier
    school_id: Identifier
    rank: int = Field(ge=1, le=MAX_RANK)


class TravelLimits(Frozen):
    primary: int = Field(default=45, ge=0, le=MAX_LIMIT_MINUTES)
    secondary: int = Field(default=75, ge=0, le=MAX_LIMIT_MINUTES)


class TravelEstimate(Frozen):
    speed_kmh: float = Field(default=30.0, ge=MIN_SPEED_KMH, le=MAX_SPEED_KMH, allow_inf_nan=False)
    circuity: float = Field(default=1.3, ge=MIN_CIRCUITY, le=MAX_CIRCUITY, allow_inf_nan=False)


class FairnessRule(Frozen):
    """policy.toml `[fairness]` (an addition to the contract; README, "Fairness between districts"):
    `balance = "districts"` evens out the unplaced share of districts after the priority levels;
    `travel = "kolm_pollak"` makes the travel level averse to long journeys."""

    balance: Literal["districts"] | None = None
    travel: Literal["kolm_pollak"] | None = None

    @property
    def active(self) -> bool:
        return self.balance is not None or self.travel is not None


DEFAULT_PRIORITY_NAMES = {"0": "standard priority", "1": "statutory deadline passed", "2": "out of education"}
TierKey = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]?|100)$")]
TierName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_printable)]


class Policy(Frozen):
    """policy.toml; defaults as in CONTRACT.md."""

    open_sites: int = Field(default=1, ge=0, le=MAX_OPEN_SITES)
    unranked_cost: int = Field(default=10, ge=0, le=MAX_UNRANKED_COST)
    max_travel_minutes: TravelLimits = TravelLimits()
    travel_estimate: TravelEstimate = TravelEstimate()
    # Additions to the contract: a year's home-to-school transport per placed child
    # (DOMAIN.md: county average 9,800 GBP), used only for cost reporting.
    transport_cost_gbp: Pounds = 9800.0
    # Addition (issue 9): "stable" gives the child-optimal stable allocation (allocator.stable).
    objective: Literal["optimal", "stable"] = "optimal"
    fairness: FairnessRule = FairnessRule()
    # Addition (issue 9): plain names of priority tiers for explanations, "0".."100" -> name;
    # tiers not named here take DEFAULT_PRIORITY_NAMES, or "urgency level N".
    priority_names: dict[TierKey, TierName] = Field(default_factory=dict)

    def priority_name(self, tier: int) -> str:
        key = str(tier)
        return self.priority_names.get(key) or DEFAULT_PRIORITY_NAMES.get(key) or f"urgency level {tier}"

    def travel_limit(self, age: int) -> int:
        limits = self.max_travel_minutes
        return limits.primary if age <= 10 else limits.secondary


class Case(Frozen):
    """A validated panel round. Cross-references are checked by the loader."""

    schools: tuple[School, ...]
    places: tuple[PlaceOffer, ...]
    children: tuple[Child, ...]
    preferences: tuple[Preference, ...] = ()
    policy: Policy = Policy()

    def school_by_id(self) -> dict[str, School]:
        return {school.school_id: school for school in self.schools}
