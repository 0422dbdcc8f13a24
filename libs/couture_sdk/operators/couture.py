"""The seed's cluster operators: Spark, PySpark, Dask-on-YARN, TensorFlow and Jupyter notebooks.

Their arguments are validated when the DAG file is parsed. Submitting the job is not part of this
build: running one fails the task with a clear message rather than pretending to succeed.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from couture_sdk import _validation as v
from couture_sdk.baseoperator import BaseOperator
from couture_sdk.exceptions import AirflowException


def method_payload(
    *,
    method_id: str,
    dag_id: str,
    method_args_dict: dict[str, Any] | None = None,
    input_base_dir_path: str | None = None,
    output_base_dir_path: str | None = None,
    input_filenames_dict: dict[str, str] | None = None,
    output_filenames_dict: dict[str, str] | None = None,
) -> str:
    """The JSON string a Couture* job's main method receives: method and DAG ids, then each
    optional argument that was given, in the seed manual's order."""
    payload: dict[str, Any] = {"method_id": method_id, "dag_id": dag_id}
    optional = {
        "method_args_dict": method_args_dict,
        "input_base_dir_path": input_base_dir_path,
        "output_base_dir_path": output_base_dir_path,
        "input_filenames_dict": input_filenames_dict,
        "output_filenames_dict": output_filenames_dict,
    }
    payload.update({k: value for k, value in optional.items() if value is not None})
    return json.dumps(payload)


def _check_json(value: Any, *, field: str, owner: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{field} of {owner} must be JSON-serialisable: {exc}") from None
    return value


def _check_str_dict(value: Any, *, field: str, owner: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in value.items()
    ):
        raise TypeError(f"{field} of {owner} must be a dict of strings to strings")
    return dict(value)


class _ClusterJobOperator(BaseOperator):
    ui_color: ClassVar[str] = "#fbd7a8"

    def __init__(self, *, code_artifact: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.code_artifact = v.check_type(code_artifact, str, field="code_artifact", owner=self._who)

    @property
    def _who(self) -> str:
        return f"task '{self.task_id}'"

    def execute(self, context: dict[str, Any]) -> Any:
        raise AirflowException(f"{type(self).__name__} execution is not available yet in this build")

    def spec_extra(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self._extra_fields}
        return {name: value for name, value in values.items() if value is not None}

    _extra_fields: ClassVar[tuple[str, ...]] = ("code_artifact",)


class _CouturePayloadOperator(_ClusterJobOperator):
    """The Couture* variants: their optional arguments travel as one JSON payload."""

    template_fields: ClassVar[tuple[str, ...]] = (
        "method_args_dict",
        "input_base_dir_path",
        "output_base_dir_path",
        "input_filenames_dict",
        "output_filenames_dict",
    )

    def __init__(
        self,
        *,
        method_id: str,
        method_args_dict: dict[str, Any] | None = None,
        input_base_dir_path: str | None = None,
        output_base_dir_path: str | None = None,
        input_filenames_dict: dict[str, str] | None = None,
        output_filenames_dict: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self._who
        self.method_id = v.check_type(method_id, str, field="method_id", owner=who)
        if method_args_dict is not None:
            v.check_type(method_args_dict, dict, field="method_args_dict", owner=who)
            _check_json(method_args_dict, field="method_args_dict", owner=who)
        self.method_args_dict = method_args_dict
        self.input_base_dir_path = v.check_optional(
            input_base_dir_path, str, field="input_base_dir_path", owner=who
        )
        self.output_base_dir_path = v.check_optional(
            output_base_dir_path, str, field="output_base_dir_path", owner=who
        )
        self.input_filenames_dict = _check_str_dict(
            input_filenames_dict, field="input_filenames_dict", owner=who
        )
        self.output_filenames_dict = _check_str_dict(
            output_filenames_dict, field="output_filenames_dict", owner=who
        )

    def method_payload(self) -> str:
        return method_payload(
            method_id=self.method_id,
            dag_id=self.dag_id,
            method_args_dict=self.method_args_dict,
            input_base_dir_path=self.input_base_dir_path,
            output_base_dir_path=self.output_base_dir_path,
            input_filenames_dict=self.input_filenames_dict,
            output_filenames_dict=self.output_filenames_dict,
        )

    _extra_fields: ClassVar[tuple[str, ...]] = (
        "code_artifact",
        "method_id",
        "method_args_dict",
        "input_base_dir_path",
        "output_base_dir_path",
        "input_filenames_dict",
        "output_filenames_dict",
    )


class SparkOperator(_ClusterJobOperator):
    """A Java/Scala Spark job; the task and DAG ids reach it as spark.workflow.taskId/dagId."""

    template_fields: ClassVar[tuple[str, ...]] = ("application_arguments",)

    def __init__(
        self,
        *,
        method_id: str | None = None,
        app_name: str | None = None,
        class_path: str | None = None,
        application_arguments: list[Any] | None = None,
        config_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self._who
        self.method_id = v.check_optional(method_id, str, field="method_id", owner=who)
        self.app_name = v.check_optional(app_name, str, field="app_name", owner=who)
        self.class_path = v.check_optional(class_path, str, field="class_path", owner=who)
        self.application_arguments = list(
            v.check_optional(application_arguments, (list, tuple), field="application_arguments", owner=who)
            or ()
        )
        self.config_group = v.check_optional(config_group, str, field="config_group", owner=who)

    _extra_fields: ClassVar[tuple[str, ...]] = (
        "code_artifact",
        "method_id",
        "app_name",
        "class_path",
        "application_arguments",
        "config_group",
    )


class PySparkOperator(_ClusterJobOperator):
    template_fields: ClassVar[tuple[str, ...]] = ("application_arguments",)

    def __init__(
        self,
        *,
        method_id: str | None = None,
        app_name: str | None = None,
        application_arguments: list[Any] | None = None,
        python_conf: str | None = None,
        config_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self._who
        self.method_id = v.check_optional(method_id, str, field="method_id", owner=who)
        self.app_name = v.check_optional(app_name, str, field="app_name", owner=who)
        self.application_arguments = list(
            v.check_optional(application_arguments, (list, tuple), field="application_arguments", owner=who)
            or ()
        )
        self.python_conf = v.check_optional(python_conf, str, field="python_conf", owner=who)
        self.config_group = v.check_optional(config_group, str, field="config_group", owner=who)

    _extra_fields: ClassVar[tuple[str, ...]] = (
        "code_artifact",
        "method_id",
        "app_name",
        "application_arguments",
        "python_conf",
        "config_group",
    )


class CoutureSparkOperator(_CouturePayloadOperator):
    def __init__(
        self,
        *,
        app_name: str | None = None,
        class_path: str | None = None,
        config_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self._who
        self.app_name = v.check_optional(app_name, str, field="app_name", owner=who)
        self.class_path = v.check_optional(class_path, str, field="class_path", owner=who)
        self.config_group = v.check_optional(config_group, str, field="config_group", owner=who)

    _extra_fields = (*_CouturePayloadOperator._extra_fields, "app_name", "class_path", "config_group")


class CouturePySparkOperator(_CouturePayloadOperator):
    def __init__(
        self,
        *,
        app_name: str | None = None,
        python_conf: str | None = None,
        config_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self._who
        self.app_name = v.check_optional(app_name, str, field="app_name", owner=who)
        self.python_conf = v.check_optional(python_conf, str, field="python_conf", owner=who)
        self.config_group = v.check_optional(config_group, str, field="config_group", owner=who)

    _extra_fields = (*_CouturePayloadOperator._extra_fields, "app_name", "python_conf", "config_group")


class CoutureDaskYarnOperator(_CouturePayloadOperator):
    def __init__(self, *, app_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_name = v.check_optional(app_name, str, field="app_name", owner=self._who)

    _extra_fields = (*_CouturePayloadOperator._extra_fields, "app_name")


class TensorflowOperator(_ClusterJobOperator):
    template_fields: ClassVar[tuple[str, ...]] = ("application_arguments",)

    def __init__(self, *, application_arguments: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.application_arguments = v.check_type(
            application_arguments, str, field="application_arguments", owner=self._who
        )

    _extra_fields: ClassVar[tuple[str, ...]] = ("code_artifact", "application_arguments")


class CoutureTensorflowOperator(_CouturePayloadOperator):
    pass


class CoutureJupyterOperator(BaseOperator):
    """A notebook run with papermill: ``parameters`` are injected after the cell tagged
    ``parameters``."""

    template_fields: ClassVar[tuple[str, ...]] = ("input_notebook", "output_notebook", "parameters")
    ui_color: ClassVar[str] = "#f7c38e"

    def __init__(
        self,
        *,
        input_notebook: str,
        output_notebook: str,
        parameters: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"task '{self.task_id}'"
        for name, value in (("input_notebook", input_notebook), ("output_notebook", output_notebook)):
            v.check_type(value, str, field=name, owner=who)
            if not value.endswith(".ipynb"):
                raise ValueError(f"{name} of {who} must be a .ipynb notebook path, got {value!r}")
        self.input_notebook = input_notebook
        self.output_notebook = output_notebook
        params = v.as_dict(parameters, field="parameters", owner=who)
        self.parameters = _check_json(params, field="parameters", owner=who)

    def execute(self, context: dict[str, Any]) -> Any:
        raise AirflowException(f"{type(self).__name__} execution is not available yet in this build")

    def spec_extra(self) -> dict[str, Any]:
        return {
            "input_notebook": self.input_notebook,
            "output_notebook": self.output_notebook,
            "parameters": self.parameters,
        }
