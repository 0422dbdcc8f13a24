"""BashOperator: ``bash -c <bash_command>`` in a subprocess, its output streamed to the task log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Container
from typing import Any, ClassVar

from couture_sdk import _validation as v
from couture_sdk.baseoperator import BaseOperator
from couture_sdk.exceptions import AirflowException, AirflowSkipException


def airflow_context_env(context: dict[str, Any]) -> dict[str, str]:
    """The ``AIRFLOW_CTX_*`` variables Airflow puts in a bash task's environment."""
    task = context["task"]
    return {
        "AIRFLOW_CTX_DAG_OWNER": task.owner,
        "AIRFLOW_CTX_DAG_ID": task.dag_id,
        "AIRFLOW_CTX_TASK_ID": task.task_id,
        "AIRFLOW_CTX_EXECUTION_DATE": context["logical_date"].isoformat(),
        "AIRFLOW_CTX_TRY_NUMBER": str(context["try_number"]),
        "AIRFLOW_CTX_DAG_RUN_ID": context["run_id"],
    }


class BashOperator(BaseOperator):
    template_fields: ClassVar[tuple[str, ...]] = ("bash_command", "env", "cwd")
    template_ext: ClassVar[tuple[str, ...]] = (".sh", ".bash")
    ui_color: ClassVar[str] = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Container[int] | None = 99,
        skip_exit_code: int | None = None,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"task '{self.task_id}'"
        self.bash_command = v.check_type(bash_command, str, field="bash_command", owner=who)
        if not bash_command.strip():
            raise ValueError(f"bash_command of {who} must not be empty")
        self.env = v.check_optional(env, dict, field="env", owner=who)
        self.append_env = v.check_type(append_env, bool, field="append_env", owner=who)
        self.output_encoding = v.check_type(output_encoding, str, field="output_encoding", owner=who)
        codes = skip_exit_code if skip_exit_code is not None else skip_on_exit_code
        if codes is None:
            self.skip_on_exit_code: Container[int] = ()
        elif isinstance(codes, int) and not isinstance(codes, bool):
            self.skip_on_exit_code = (codes,)
        elif isinstance(codes, list | tuple | set | frozenset) and all(isinstance(c, int) for c in codes):
            self.skip_on_exit_code = tuple(codes)
        else:
            raise TypeError(f"skip_on_exit_code of {who} must be an int, a list of ints or None")
        self.cwd = v.check_optional(cwd, str, field="cwd", owner=who)
        self._process: subprocess.Popen[bytes] | None = None

    def _environment(self, context: dict[str, Any]) -> dict[str, str]:
        if self.env is None:
            env = dict(os.environ)
        elif self.append_env:
            env = {**os.environ, **self.env}
        else:
            env = dict(self.env)
        env.update(airflow_context_env(context))
        return env

    def execute(self, context: dict[str, Any]) -> str | None:
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise AirflowException(f"Can not find the cwd: {self.cwd}")
            if not os.path.isdir(self.cwd):
                raise AirflowException(f"The cwd {self.cwd} must be a directory")
        env = self._environment(context)
        with tempfile.TemporaryDirectory(prefix="couturetmp") as scratch:
            exit_code, last_line = self._run(env, self.cwd or scratch)
        if exit_code in self.skip_on_exit_code:
            raise AirflowSkipException(f"Bash command returned exit code {exit_code}. Skipping.")
        if exit_code != 0:
            raise AirflowException(
                f"Bash command failed. The command returned a non-zero exit code {exit_code}."
            )
        return last_line if self.do_xcom_push else None

    def _run(self, env: dict[str, str], cwd: str) -> tuple[int, str | None]:
        print(f"Running command: {self.bash_command}", flush=True)
        self._process = subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        last_line = None
        try:
            assert self._process.stdout is not None
            for raw in self._process.stdout:
                last_line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip("\n")
                sys.stdout.write(last_line + "\n")
                sys.stdout.flush()
            exit_code = self._process.wait()
        finally:
            if self._process.poll() is None:
                self.on_kill()
        print(f"Command exited with return code {exit_code}", flush=True)
        return exit_code, last_line

    def on_kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def spec_extra(self) -> dict[str, Any]:
        return {"bash_command": self.bash_command}
