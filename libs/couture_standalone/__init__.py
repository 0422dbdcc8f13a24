"""The standalone deployment: every service in one process, on one SQLite event log."""
