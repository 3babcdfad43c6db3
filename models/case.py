"""The case: schools, places, children, preferences and policy of one panel round.

Travel minutes are not held here: a county case has millions of child-school pairs, which
live as arrays in `data.travel`.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from models.base import Frozen
from models.need import Need

Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]
Years = Annotated[int, Field(ge=0, le=30)]


class SchoolKind(StrEnum):
    SPECIAL = "special"
    RESOURCE_BASE = "resource_base"
    INDEPENDENT = "independent"
    CANDIDATE = "candidate"


class School(Frozen):
    """A school, resource base, independent provider or candidate site."""

    school_id: str = Field(min_length=1)
    name: str
    lat: Latitude
    lon: Longitude
    age_min: Years
    age_max: Years
    kind: SchoolKind = SchoolKind.SPECIAL
    annual_place_cost_gbp: float | None = Field(default=None, ge=0)
    district: str | None = None

    @model_validator(mode="after")
    def _ages_ordered(self) -> "School":
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        return self

    def takes_age(self, age: int) -> bool:
        return self.age_min <= age <= self.age_max


class PlaceOffer(Frozen):
    """Places free in this round at one school for one need."""

    school_id: str
    need: Need
    places: int = Field(ge=0)


class Child(Frozen):
    """A child to place; pseudonymous."""

    child_id: str = Field(min_length=1)
    need: Need
    age: Years
    lat: Latitude
    lon: Longitude
    priority: int = Field(default=0, ge=0)
    district: str | None = None
    locked_school_id: str | None = None
    # An addition to the contract: the home's ward, used only to aggregate homes on the
    # report's map (homes themselves are never shown).
    ward: str | None = None

    @property
    def phase(self) -> str:
        """Primary when age <= 10, else secondary (CONTRACT.md)."""
        return "primary" if self.age <= 10 else "secondary"


class Preference(Frozen):
    child_id: str
    school_id: str
    rank: int = Field(ge=1)


class TravelLimits(Frozen):
    primary: int = Field(default=45, ge=0)
    secondary: int = Field(default=75, ge=0)


class TravelEstimate(Frozen):
    speed_kmh: float = Field(default=30.0, gt=0)
    circuity: float = Field(default=1.3, gt=0)


class Policy(Frozen):
    """policy.toml; defaults as in CONTRACT.md."""

    open_sites: int = Field(default=1, ge=0)
    unranked_cost: int = Field(default=10, ge=0)
    max_travel_minutes: TravelLimits = TravelLimits()
    travel_estimate: TravelEstimate = TravelEstimate()
    # Additions to the contract: a year's home-to-school transport per placed child
    # (DOMAIN.md: county average 9,800 GBP), used only for cost reporting.
    transport_cost_gbp: float = Field(default=9800.0, ge=0)

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
