"""Everything that touches the OS: the fork server, task processes, DAG files."""
