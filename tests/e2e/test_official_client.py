"""The e2e scenario driven through Airflow's official Python client (apache-airflow-client 3.x)
against a real ``couture standalone``: what an Airflow user's scripts do, unchanged."""

from __future__ import annotations

import time

import airflow_client.client as af

from tests.e2e.standalone import Standalone


def test_official_client_turns_on_triggers_and_follows_runs(standalone: Standalone) -> None:
    standalone.upload(["branching.py", "retries.py", "xcom_push_pull.py"])
    standalone.wait_for_dags(["branching", "retries", "xcom_push_pull"])
    configuration = af.Configuration(host=standalone.base_url, access_token=standalone.token())
    with af.ApiClient(configuration) as client:
        dags = af.DAGApi(client)
        runs = af.DagRunApi(client)
        task_instances = af.TaskInstanceApi(client)

        listed = dags.get_dags(limit=100)
        assert {"branching", "retries", "xcom_push_pull"} <= {d.dag_id for d in listed.dags}
        assert listed.total_entries >= 3

        outcomes = {}
        for dag_id in ("branching", "retries", "xcom_push_pull"):
            dags.patch_dag(dag_id, af.DAGPatchBody(is_paused=False))
            assert dags.get_dag(dag_id).is_paused is False
            run = runs.trigger_dag_run(
                dag_id, af.TriggerDAGRunPostBody(conf={"via": "client"}, logical_date=None)
            )
            # The answer waits for the read models, by which time the scheduler may have started it.
            assert run.state in (af.DagRunState.QUEUED, af.DagRunState.RUNNING)
            outcomes[dag_id] = run.dag_run_id

        deadline = time.monotonic() + 90
        finished: dict[str, str] = {}
        while len(finished) < len(outcomes):
            assert time.monotonic() < deadline, finished
            for dag_id, run_id in outcomes.items():
                state = runs.get_dag_run(dag_id, run_id).state
                if state in (af.DagRunState.SUCCESS, af.DagRunState.FAILED):
                    finished[dag_id] = state.value
            time.sleep(0.2)
        assert finished == {"branching": "success", "retries": "failed", "xcom_push_pull": "success"}

        tis = task_instances.get_task_instances("branching", outcomes["branching"]).task_instances
        assert {ti.task_id: ti.state.value for ti in tis} == {
            "pick": "success",
            "branch_a": "success",
            "branch_b": "skipped",
            "join": "success",
        }
        flaky = task_instances.get_task_instance("retries", outcomes["retries"], "flaky")
        assert (flaky.state.value, flaky.try_number) == ("success", 2)
        tries = task_instances.get_task_instance_tries("retries", outcomes["retries"], "flaky")
        assert sorted(t.try_number for t in tries.task_instances) == [1, 2]
        xcom = af.XComApi(client).get_xcom_entry(
            dag_id="xcom_push_pull",
            task_id="push",
            dag_run_id=outcomes["xcom_push_pull"],
            xcom_key="return_value",
            deserialize=True,
        )
        assert xcom.actual_instance.value == [1, 2, 3]
