"""The HTML report of a run: one self-contained, offline, printable file (see `page.build_report`)."""

from report.page import build_report

__all__ = ["build_report"]
