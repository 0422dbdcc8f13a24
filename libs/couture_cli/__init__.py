"""The ``couture`` command."""
