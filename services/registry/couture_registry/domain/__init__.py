"""The registry's pure domain: data in, events out; no I/O, no clock."""
