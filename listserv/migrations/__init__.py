"""Alembic migrations of the listserv schema."""
