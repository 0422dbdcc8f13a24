"""Read models: SQL tables folded from the event log, queried by the REST API and the UI."""
