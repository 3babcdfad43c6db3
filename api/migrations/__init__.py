"""Alembic migrations of the service database (applied by api.storage.database.migrate)."""
