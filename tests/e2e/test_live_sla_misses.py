"""On a real ``couture standalone``: the scheduler records an SLA miss, the live stream announces it,
Browse → SLA Misses lists it, and stopping the process ends open streams instead of waiting on them."""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
from typing import Any

import httpx

from tests.e2e.standalone import Standalone

# The latest daily interval ended long before the run starts: its 1-second SLA is missed at once.
SLA_WATCH = """
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG('sla_watch', start_date=datetime(2024, 1, 1), schedule='@daily', catchup=False):
    BashOperator(task_id='slow', bash_command='sleep 5', sla=timedelta(seconds=1))
"""

END = object()


def listen(standalone: Standalone, heard: queue.Queue[Any]) -> None:
    """Every event of one live stream, then END when the server closes it."""
    headers = {"Authorization": f"Bearer {standalone.token()}"}
    url = f"{standalone.base_url}/api/couture/live"
    with httpx.stream("GET", url, headers=headers, timeout=None) as stream:
        assert stream.status_code == 200
        event = None
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                heard.put((event, json.loads(line.removeprefix("data:"))))
    heard.put(END)


def test_a_missed_sla_is_announced_listed_and_shutdown_ends_streams(standalone: Standalone) -> None:
    standalone.upload_sources({"sla_watch.py": SLA_WATCH})
    standalone.wait_for_dags(["sla_watch"])
    heard: queue.Queue[Any] = queue.Queue()
    listener = threading.Thread(target=listen, args=(standalone, heard), daemon=True)
    listener.start()
    assert heard.get(timeout=10)[0] == "ready"

    with standalone.client() as client:
        client.patch("/api/v2/dags/sla_watch", json={"is_paused": False}).raise_for_status()
    kinds: set[str] = set()
    deadline = time.monotonic() + 60
    while {"dag_run", "sla_miss"} - kinds:
        assert time.monotonic() < deadline, f"heard only {kinds}"
        event, data = heard.get(timeout=max(0.1, deadline - time.monotonic()))
        if event == "change":
            kinds |= {c["kind"] for c in data["changes"] if c.get("dag_id") == "sla_watch"}

    with standalone.client() as client:
        misses = client.get("/api/couture/slaMisses", params={"dag_id": "sla_watch"}).json()
        run = client.get(f"/api/v2/dags/sla_watch/dagRuns/{misses['sla_misses'][0]['dag_run_id']}").json()
    assert misses["total_entries"] == 1
    miss = misses["sla_misses"][0]
    assert (miss["task_id"], run["run_type"]) == ("slow", "scheduled")
    assert miss["deadline"] > run["data_interval_end"]

    assert standalone.wait_for_run("sla_watch", run["dag_run_id"])["state"] == "success"
    # A stream never ends by itself: stopping must end it, not wait for the client to leave.
    assert standalone.process is not None
    stopping = time.monotonic()
    standalone.process.send_signal(signal.SIGTERM)
    standalone.process.wait(15)
    assert time.monotonic() - stopping < 15
    standalone.process = None
    while (item := heard.get(timeout=5)) is not END:
        assert item[0] in ("change", "resync"), item
    listener.join(5)
