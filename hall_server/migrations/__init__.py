"""Alembic migrations of the hall server's database."""
