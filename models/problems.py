"""Input problems, located as `file:line: column: message`."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, where a person can find and fix it.

    `line` is 1 for the header row and 0 for a problem with the file as a whole; for a
    workbook `file` is the sheet name and `line` the sheet row.
    """

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class CaseInvalid(Exception):
    """The input has problems; nothing may be written. Holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_reading_order)
        super().__init__(f"{len(self.problems)} problem(s) in the input")

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems]


_CASE_PARTS = ["schools", "places", "children", "preferences", "travel_times", "policy", "expansions"]
# Problems are listed file by file in the contract's order, whether the case came as a folder
# (schools.csv ...) or a workbook (sheet `schools` ...).
_FILE_ORDER = {name: index for index, part in enumerate(_CASE_PARTS) for name in (part, f"{part}.csv", f"{part}.toml")}


def _reading_order(problem: Problem) -> tuple[int, str, int, str, str]:
    return (
        _FILE_ORDER.get(problem.file, len(_FILE_ORDER)),
        problem.file,
        problem.line,
        problem.column,
        problem.message,
    )
