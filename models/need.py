"""SEN2 primary-need codes."""

from enum import StrEnum


class Need(StrEnum):
    """Primary need as recorded in the SEN2 return."""

    ASD = "ASD"
    SEMH = "SEMH"
    SLCN = "SLCN"
    MLD = "MLD"
    SLD = "SLD"
    PMLD = "PMLD"
    SPLD = "SPLD"
    HI = "HI"
    VI = "VI"
    MSI = "MSI"
    PD = "PD"
    OTH = "OTH"


NEED_LABELS: dict[Need, str] = {
    Need.ASD: "autism",
    Need.SEMH: "social, emotional and mental health",
    Need.SLCN: "speech, language and communication",
    Need.MLD: "moderate learning difficulty",
    Need.SLD: "severe learning difficulty",
    Need.PMLD: "profound and multiple learning difficulty",
    Need.SPLD: "specific learning difficulty",
    Need.HI: "hearing impairment",
    Need.VI: "visual impairment",
    Need.MSI: "multi-sensory impairment",
    Need.PD: "physical disability",
    Need.OTH: "other difficulty or disability",
}
