"""The database adapter: tables, engine set-up, repositories, unit of work and read views."""
