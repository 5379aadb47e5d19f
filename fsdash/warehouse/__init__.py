"""The DuckDB warehouse: schema, connections, and loading validated tables into it."""
