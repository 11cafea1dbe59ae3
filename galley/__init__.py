"""galley's operator tooling: `galley up`, `galley schema` (see galley.cli)."""
