"""The HTTP API under /api/v1 (DESIGN §10): one module per subject, each a thin layer over the
same calls the CLI makes, answering with the same JSON as the matching `--json`."""
