"""Storage: SQLAlchemy 2 tables, the database connection with Alembic migrations, repositories."""
