"""The database schema's history, as Alembic revisions (PostgreSQL and SQLite)."""
