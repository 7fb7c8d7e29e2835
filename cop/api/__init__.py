"""The HTTP API (/api/v1): ingest and export endpoints, every one behind a token or a session."""
