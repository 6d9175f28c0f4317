"""Decoders that turn a byte stream into rows: CSV/TSV, JSON, NDJSON, XLSX,
XML/RSS, plus compression and text-encoding handling."""
