"""Names vulture (`make lint`) cannot see being used: each is read by a framework, a library or a
string lookup. Never imported or run; vulture only reads the names. Every entry says who uses it.

Functions registered by a decorator (FastAPI routes and exception handlers, typer callbacks and
commands, pydantic validators, the schemathesis hook) are left out by `ignore_decorators` in
pyproject.toml's [tool.vulture] instead of one line each here.
"""

from types import SimpleNamespace

_ = SimpleNamespace()  # vulture counts `_.name` as a use of `name`, whatever kind of name it is

# OR-Tools CP-SAT parameters: set on solver.parameters, read by the solver (allocator/cpsat.py)
_.num_workers  # CP-SAT: number of search workers
_.random_seed  # CP-SAT: fixed seed, so runs repeat
_.max_time_in_seconds  # CP-SAT: the level's time limit
_.max_deterministic_time  # CP-SAT: the level's deterministic-time budget
_.linearization_level  # CP-SAT: the LP relaxation of the assignment constraints

# Alembic reads these module names in each migration (api/migrations/versions/)
_.revision  # Alembic: this migration's id
_.down_revision  # Alembic: the migration before it
_.branch_labels  # Alembic: branch names (none)
_.depends_on  # Alembic: cross-branch dependencies (none)
_.downgrade  # Alembic: called by `alembic downgrade`

# pydantic
_.model_config  # pydantic: each model's configuration (frozen, extra="forbid", settings prefix)
_.objective_bound  # RunSummary field written to summary.json (models/results.py)
_.decided_at  # DecisionOut field in the API's JSON (api/schemas/responses.py); also an ORM column below

# Run kinds named by strings in api/services/kinds.py (RunKind(module, function, options model), getattr'd)
_.solve_run  # RunKind "solve" (api/services/solve_run.py)
_.plan_places_run  # RunKind "plan-places" (api/services/estates_runs.py)
_.PlanPlacesOptionsIn  # options model of "plan-places", named by _estates_options("PlanPlacesOptionsIn")
_.WhatIfOptionsIn  # options model of "whatif", named by _estates_options("WhatIfOptionsIn")

# SQLAlchemy (api/storage/tables.py)
_.impl  # TypeDecorator: the underlying column type
_.cache_ok  # TypeDecorator: safe to cache statements using it
_.process_bind_param  # TypeDecorator hook: value on its way to the database
_.process_result_value  # TypeDecorator hook: value on its way back
_.type_annotation_map  # DeclarativeBase: Python annotations to column types

# openpyxl and zipfile attributes set to make the template workbook byte-identical (data/workbook.py)
_.creator  # openpyxl: document properties (author)
_.created  # openpyxl: document properties (fixed time)
_.modified  # openpyxl: document properties (fixed time)
_.compress_type  # zipfile.ZipInfo: each member deflated
_.font  # openpyxl: header cell style
_.alignment  # openpyxl: the notes sheet's wrapped column
_.freeze_panes  # openpyxl: header row kept in view

# pytest and the standard library, in tests/
_.postgres_server  # pytest fixture requested by name: request.getfixturevalue("postgres_server")
_._nothing_read_beside_the_repository  # pytest fixture, autouse (tests/conftest.py)
_.pytestmark  # pytest: marks for every test in the module (tests/api/test_api_fuzz.py)
_.flat_output_kind  # RunKind function named by string in tests/api/test_api_runs.py
_.gated_run  # RunKind function named by string in tests/api/test_api_runs.py
_.handle_starttag  # html.parser.HTMLParser callback (tests/report/test_sites_section.py)
_.handle_data  # html.parser.HTMLParser callback (tests/report/test_sites_section.py)
_.handle_endtag  # html.parser.HTMLParser callback (tests/web/test_map.py)
_.from_school_id  # ChildMove / MoveOut field, read by pydantic (from_attributes) into api/schemas/comparisons.py
_.to_school_id  # ChildMove / MoveOut field: the same
