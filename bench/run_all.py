"""Run every benchmark under bench/ and print their figures (``make bench``).

Each benchmark is its own command and can be run alone; the Kafka ones need the broker
that ``deploy/local/services up`` starts (COUTURE_KAFKA_BOOTSTRAP) and are left out without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    ("fold", "fold.py", None),
    ("event log (SQLite)", "eventlog_sqlite.py", None),
    ("executor", "executor_noop.py", None),
    ("engine", "engine.py", None),
    ("read-model replay", "projector_replay.py", None),
    ("gateway over HTTP", "gateway_http.py", None),
    ("event log (Kafka)", "eventlog_kafka.py", "COUTURE_KAFKA_BOOTSTRAP"),
    ("engine on Kafka, a process per service", "kafka_engine.py", "COUTURE_KAFKA_BOOTSTRAP"),
]


def main() -> int:
    failed = []
    for title, script, needs in BENCHMARKS:
        print(f"== {title} (bench/{script})", flush=True)
        if needs and not os.environ.get(needs):
            print(f'   skipped: {needs} is not set (eval "$(deploy/local/services up)")\n', flush=True)
            continue
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(HERE / script)], check=False)
        print(f"   ({time.monotonic() - started:.0f} s)\n", flush=True)
        if result.returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
