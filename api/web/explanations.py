"""One child's row of a run's `explanations.csv`, when the run wrote one.

The stored run file is parsed here, in this one function, so that it can later call
`api.services.explanations.child_explanation` instead (the explain branch's service)."""

import csv
import io

from api.errors import ApiError
from api.services.runs import output_file
from api.storage.database import Database

EXPLANATIONS_FILE = "explanations.csv"


def explanation_row(database: Database, run_id: str, file_names: list[str], child_id: str) -> dict[str, str] | None:
    """The child's row (column -> text) of the run's explanations.csv; None without the file or row."""
    if EXPLANATIONS_FILE not in file_names:
        return None
    try:
        content = output_file(database, run_id, EXPLANATIONS_FILE)
    except ApiError:
        return None
    for row in csv.DictReader(io.StringIO(content, newline="")):
        if row.get("child_id") == child_id:
            return {key: value or "" for key, value in row.items() if key}
    return None
