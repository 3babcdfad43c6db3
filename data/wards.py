"""Each child's home ward, from the optional `ward` column of children.csv (or the children sheet).

The column is an addition to the contract, used only to group children on the report's map.
Returns {} when there is no such column; unreadable input gives {} too, since the case
itself has already been checked by the loader.
"""

from pathlib import Path

from data.tables import read_csv_table
from data.workbook import WORKBOOK_SUFFIX, read_workbook_sheets
from models.problems import Problem

WARD_COLUMN = "ward"


def child_wards(source: Path) -> dict[str, str]:
    """child_id -> ward for the children with a ward given, from a case folder or workbook."""
    ignored: list[Problem] = []
    if source.suffix.lower() == WORKBOOK_SUFFIX:
        table = (read_workbook_sheets(source, ignored) or {}).get("children")
    else:
        path = source / "children.csv"
        table = read_csv_table(path, ignored) if path.is_file() else None
    if table is None:
        return {}
    index = table.column_index()
    if WARD_COLUMN not in index or "child_id" not in index:
        return {}
    return {
        row[index["child_id"]]: row[index[WARD_COLUMN]] for row in table.rows if row[index[WARD_COLUMN]]
    }
