"""The gateway's stream processors, installed on the faust app of ``couture_streams``.

They fold read-side state from the log with the same pure code the standalone path uses: the
audit trail into the read-model database (``audit``), task-duration statistics into a faust table
served over the worker's web view (``durations``).
"""
