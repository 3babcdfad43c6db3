"""Typed domain and result models. No solver, pandas or web imports here."""

from models.case import (
    Case,
    Child,
    PlaceOffer,
    Policy,
    Preference,
    School,
    SchoolKind,
    TravelEstimate,
    TravelLimits,
)
from models.need import Need
from models.results import (
    Allocation,
    Placement,
    RunStatus,
    RunSummary,
    UnplacedReason,
)

__all__ = [
    "Allocation",
    "Case",
    "Child",
    "Need",
    "PlaceOffer",
    "Placement",
    "Policy",
    "Preference",
    "RunStatus",
    "RunSummary",
    "School",
    "SchoolKind",
    "TravelEstimate",
    "TravelLimits",
    "UnplacedReason",
]
