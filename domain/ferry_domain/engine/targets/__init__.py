"""The SQL target store: tables from entity schemas and batched upserts."""
