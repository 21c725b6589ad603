"""The register: SQLAlchemy models, sessions and migrations for SQLite and PostgreSQL alike."""
