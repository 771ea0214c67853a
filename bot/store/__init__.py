"""PostgreSQL persistence: the pool, migrations and one module per table."""
