"""deploy/k8s: every object valid by the Kubernetes API's own schemas in strict mode (no unknown
field), for the oldest and newest Kubernetes versions we support, and the objects agree with each
other and with the product: selectors find the pods, probes and Services name ports the pods
declare, every ConfigMap and Secret key referenced exists, the autoscaler and the disruption
budgets target real Deployments, and each pod runs the image's non-root user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from couture_cli.commands.streams import DEFAULT_WEB_PORT as STREAMS_WEB_PORT
from couture_common.health import HEALTH_PORT_VARIABLE
from couture_common.topics import TASK_QUEUE, TOPICS
from tests.unit.deploy.deployfiles import (
    DOCKERFILE,
    K8S_DIR,
    PROCESSES,
    couture_commands,
    documented_settings,
    load_k8s_documents,
    load_kustomization,
    walk,
)

#: The oldest Kubernetes we support (autoscaling/v2 and policy/v1 are GA there) and the newest
#: whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
NAMESPACE = "couture"
HTTP_SERVICES = ("registry", "auth", "gateway")
#: What other pods or users call: the HTTP services and the task-duration view of streams.
EXPOSED = (*HTTP_SERVICES, "streams")
#: The processes that fold events into the read models, and so alone need the database.
READ_MODEL_WRITERS = ("gateway", "streams")
#: Single pods (one registry owns the DAG folder; one faust worker holds every table partition).
SINGLETONS = ("registry", "streams")
PLACEHOLDER = "CHANGE-ME"

DOCUMENTS = load_k8s_documents()


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == kind}


def _deployment(service: str) -> dict[str, Any]:
    return _objects("Deployment")[f"couture-{service}"]


def _pod(service: str) -> dict[str, Any]:
    pod: dict[str, Any] = _deployment(service)["spec"]["template"]["spec"]
    return pod


def _container(service: str) -> dict[str, Any]:
    (container,) = _pod(service)["containers"]
    return dict(container)


def _pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _image_user() -> tuple[int, int]:
    (user,) = re.findall(r"^USER (\d+):(\d+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    return int(user[0]), int(user[1])


def _image_env(key: str) -> str:
    (value,) = re.findall(rf"\b{key}=(\S+)", DOCKERFILE.read_text())
    return str(value)


def _env_refs() -> Iterator[tuple[str, dict[str, Any]]]:
    """(deployment name, reference) for every configMapKeyRef, secretKeyRef, configMapRef, secretRef."""
    for name, deployment in _objects("Deployment").items():
        for node in walk(deployment["spec"]["template"]["spec"]):
            if isinstance(node, dict):
                for key in ("configMapKeyRef", "secretKeyRef", "configMapRef", "secretRef"):
                    if key in node:
                        yield name, {"kind": key, **node[key]}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_by_the_kubernetes_schemas_strictly(version: str) -> None:
    problems = []
    for file_name, document in DOCUMENTS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(
                f"{file_name} {document['kind']}/{document['metadata']['name']}: {path}: {error.message}"
            )
    assert not problems, "\n".join(problems)


def test_strict_validation_refuses_an_unknown_field() -> None:
    deployment = _deployment("gateway")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_the_kustomization_lists_every_file_and_names_the_namespace_and_image() -> None:
    kustomization = load_kustomization()
    files = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    assert kustomization["namespace"] == NAMESPACE
    (namespace,) = _objects("Namespace")
    assert namespace == NAMESPACE
    for _, document in DOCUMENTS:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == NAMESPACE, document["metadata"]["name"]
    images = {
        c["image"]
        for d in _objects("Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1, f"the services run different images: {images}"
    (image,) = images
    name, _, tag = image.partition(":")
    assert tag and tag != "latest"
    assert [entry["name"] for entry in kustomization["images"]] == [name]


def test_a_deployment_per_service_running_a_real_couture_command() -> None:
    deployments = _objects("Deployment")
    assert sorted(deployments) == sorted(f"couture-{service}" for service in PROCESSES)
    commands = couture_commands()
    for service in PROCESSES:
        container = _container(service)
        assert "command" not in container, "the image's ENTRYPOINT is couture"
        assert container["args"][0] == service and service in commands


def test_selectors_find_their_pods() -> None:
    deployments = _objects("Deployment")
    for name, deployment in deployments.items():
        assert _matches(deployment["spec"]["selector"]["matchLabels"], _pod_labels(deployment)), name
    for kind in ("Service", "PodDisruptionBudget"):
        for name, obj in _objects(kind).items():
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector) if kind == "PodDisruptionBudget" else selector
            found = [
                d for d, deployment in deployments.items() if _matches(selector, _pod_labels(deployment))
            ]
            assert found == [name], f"{kind} {name} selects {found}"


def test_services_expose_the_http_services_on_ports_their_pods_declare() -> None:
    services = _objects("Service")
    assert sorted(services) == sorted(f"couture-{service}" for service in EXPOSED)
    for name, service in services.items():
        declared = {
            port["name"]: port["containerPort"] for port in _container(name.removeprefix("couture-"))["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in declared, f"{name}: targetPort {port['targetPort']} is not declared"


def test_probes_ask_liveness_and_readiness_on_the_port_each_service_serves() -> None:
    config = _objects("ConfigMap")["couture-config"]["data"]
    for service in PROCESSES:
        container = _container(service)
        declared = {port["name"]: port["containerPort"] for port in container["ports"]}
        if service == "streams":
            expected, paths = STREAMS_WEB_PORT, ("/", "/")
        elif service in HTTP_SERVICES:
            expected, paths = int(_image_env("COUTURE_PORT")), ("/health", "/ready")
        else:
            expected, paths = int(config[HEALTH_PORT_VARIABLE]), ("/health", "/ready")
        for probe, path in zip(("livenessProbe", "readinessProbe"), paths, strict=True):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{service} {probe}"
            port = declared[get["port"]] if isinstance(get["port"], str) else get["port"]
            assert port == expected, f"{service} {probe} asks port {port}; the service answers on {expected}"


def test_every_configmap_and_secret_key_referenced_exists() -> None:
    maps = {name: set(obj["data"]) for name, obj in _objects("ConfigMap").items()}
    secrets = {name: set(obj["stringData"]) for name, obj in _objects("Secret").items()}
    for deployment, ref in _env_refs():
        store = maps if ref["kind"].startswith("configMap") else secrets
        assert ref["name"] in store, f"{deployment}: {ref['kind']} {ref['name']} does not exist"
        if "key" in ref and not ref.get("optional", False):
            assert ref["key"] in store[ref["name"]], f"{deployment}: {ref['name']} has no key {ref['key']}"


def test_every_setting_is_documented_and_executors_never_see_the_database() -> None:
    documented = documented_settings()
    keys = set(_objects("ConfigMap")["couture-config"]["data"]) | set(
        _objects("Secret")["couture-secrets"]["stringData"]
    )
    for service in PROCESSES:
        keys |= {env["name"] for env in _container(service).get("env", [])}
    undocumented = sorted(key for key in keys if key not in documented)
    assert not undocumented, f"not in docs/configuration.md: {undocumented}"
    for service in PROCESSES:
        names = {env["name"] for env in _container(service).get("env", [])}
        assert ("COUTURE_DATABASE_URL" in names) == (service in READ_MODEL_WRITERS), service


def test_the_secret_holds_placeholders_only() -> None:
    for name, secret in _objects("Secret").items():
        assert "data" not in secret, f"{name}: base64 data hides what is committed; use stringData"
        for key, value in secret["stringData"].items():
            assert PLACEHOLDER in value, f"{name}.{key} must be a {PLACEHOLDER} placeholder"


def test_executors_find_the_registry_through_its_service() -> None:
    url = _objects("ConfigMap")["couture-config"]["data"]["COUTURE_REGISTRY_URL"]
    match = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url)
    assert match, url
    service = _objects("Service")[match.group(1)]
    assert int(match.group(2)) in {port["port"] for port in service["spec"]["ports"]}
    assert "COUTURE_SERVICE_TOKEN" in {env["name"] for env in _container("executor")["env"]}


def test_gateways_and_the_registry_find_the_auth_service_through_its_service() -> None:
    url = _objects("ConfigMap")["couture-config"]["data"]["COUTURE_AUTH_URL"]
    match = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url)
    assert match, url
    service = _objects("Service")[match.group(1)]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "auth"
    assert int(match.group(2)) in {port["port"] for port in service["spec"]["ports"]}


def test_the_autoscaler_drives_the_executors_within_the_task_queue_partitions() -> None:
    (hpa,) = _objects("HorizontalPodAutoscaler").values()
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        "couture-executor",
    )
    assert "replicas" not in _deployment("executor")["spec"], "the autoscaler owns the replica count"
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= TOPICS[TASK_QUEUE].partitions
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in _container("executor")["resources"]["requests"], "CPU utilisation needs a request"


def test_disruption_budgets_never_block_a_drain_forever() -> None:
    (hpa,) = _objects("HorizontalPodAutoscaler").values()
    budgets = _objects("PodDisruptionBudget")
    assert sorted(budgets) == sorted(f"couture-{s}" for s in ("scheduler", "executor", "auth", "gateway"))
    for name, budget in budgets.items():
        spec = _deployment(name.removeprefix("couture-"))["spec"]
        replicas = (
            hpa["spec"]["minReplicas"] if hpa["spec"]["scaleTargetRef"]["name"] == name else spec["replicas"]
        )
        if "minAvailable" in budget["spec"]:
            assert budget["spec"]["minAvailable"] < replicas, f"{name}: no pod could ever be evicted"
        else:
            assert budget["spec"]["maxUnavailable"] >= 1, name
    for singleton in SINGLETONS:
        assert _deployment(singleton)["spec"]["replicas"] == 1, singleton
        assert f"couture-{singleton}" not in budgets, f"a budget on the single {singleton} pod blocks drains"
    assert _deployment("registry")["spec"]["strategy"]["type"] == "Recreate", "never two registries"


def test_pods_run_the_images_non_root_user_with_nothing_writable_but_their_volumes() -> None:
    uid, gid = _image_user()
    home = _image_env("COUTURE_HOME")
    for service in PROCESSES:
        pod = _pod(service)
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True and (context["runAsUser"], context["runAsGroup"]) == (uid, gid)
        assert context["fsGroup"] == gid and context["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False, f"{service} never calls the Kubernetes API"
        container = _container(service)
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
        assert security["readOnlyRootFilesystem"] is True
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert set(mounts.values()) <= set(volumes), f"{service} mounts a volume it does not declare"
        assert home in mounts and "/tmp" in mounts, f"{service}: COUTURE_HOME and /tmp must be writable"
        for resource in ("cpu", "memory"):
            assert resource in container["resources"]["requests"], f"{service} requests no {resource}"
            assert resource in container["resources"]["limits"], f"{service} has no {resource} limit"


def test_couture_home_is_the_shared_claim_wherever_files_are_shared() -> None:
    claims = _objects("PersistentVolumeClaim")
    assert claims["couture-home"]["spec"]["accessModes"] == ["ReadWriteMany"]
    home = _image_env("COUTURE_HOME")
    for service in PROCESSES:
        pod = _pod(service)
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        (mount,) = [m for m in _container(service)["volumeMounts"] if m["mountPath"] == home]
        claim = volumes[mount["name"]].get("persistentVolumeClaim", {}).get("claimName")
        if service in ("scheduler", "streams"):
            assert claim is None, f"{service} shares no file with the others"
        else:
            assert claim in claims, f"{service}: registry, auth, executors and gateways share COUTURE_HOME"


def test_executors_outlive_their_grace_and_reap_what_tasks_leave_behind() -> None:
    container = _container("executor")
    grace = float(container["args"][container["args"].index("--grace") + 1])
    assert _pod("executor")["terminationGracePeriodSeconds"] > grace
    assert _pod("executor")["shareProcessNamespace"] is True
