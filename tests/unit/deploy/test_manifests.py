"""deploy/ stays consistent with the code: manifests parse, run real commands,
set variables the services read (and the README documents), probe the ports
the services listen on, and scale on the queue the runners consume."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from ferry.amqp.topology import Topology
from ferry.durations import parse_duration

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SCRIPTS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
CODE = "\n".join(p.read_text() for folder in ("common", "services", "cli")
                 for p in (ROOT / folder).rglob("*.py") if "/v1/" not in str(p))
README = (ROOT / "README.md").read_text()


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _k8s() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in _documents(path)]


def _by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _k8s() if doc["kind"] == kind}


def _containers() -> list[tuple[str, dict]]:
    return [(name, container) for name, deployment in _by_kind("Deployment").items()
            for container in deployment["spec"]["template"]["spec"]["containers"]]


def _configmap() -> dict[str, str]:
    return _by_kind("ConfigMap")["ferry-config"]["data"]


def _env(container: dict) -> dict[str, str]:
    """Literal values of a container's environment (ConfigMap values included)."""
    values = dict(_configmap()) if container.get("envFrom") else {}
    values.update({e["name"]: e.get("value", "<from>") for e in container.get("env", [])})
    return values


def _ferry_variables_in_manifests() -> set[str]:
    names: set[str] = set(_configmap())
    names |= set(_by_kind("Secret")["ferry-secrets"]["stringData"])
    for _, container in _containers():
        names |= {e["name"] for e in container.get("env", [])}
    compose = _documents(DEPLOY / "compose.yaml")[0]
    for service in compose["services"].values():
        names |= set(service.get("environment") or {})
    return {n for n in names if n.startswith("FERRY_")}


def test_every_manifest_parses_and_kustomization_lists_them_all() -> None:
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    listed = set(_documents(K8S / "kustomization.yaml")[0]["resources"])
    assert listed == files
    assert all("kind" in doc and "apiVersion" in doc for doc in _k8s())


def test_containers_run_real_commands() -> None:
    commands = {c["command"][0] for _, c in _containers()}
    assert commands == {"ferry-registry", "ferry-scheduler", "ferry-runner"}
    assert commands <= SCRIPTS
    compose = _documents(DEPLOY / "compose.yaml")[0]["services"]
    assert {s["command"][0] for s in compose.values() if "command" in s} <= SCRIPTS
    cmd = re.search(r'^CMD \["([^"]+)"\]', (DEPLOY / "Dockerfile").read_text(), re.M)
    assert cmd and cmd.group(1) in SCRIPTS


def test_dockerfile_copies_every_package_folder() -> None:
    copied = {line.split()[1] for line in (DEPLOY / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["where"]
    # Services sit under services/, copied as one folder.
    folders = {folder.split("/")[0] for folder in packages}
    assert folders <= copied, f"the image misses {sorted(folders - copied)}"


def test_dockerfile_copies_folders_that_exist() -> None:
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


@pytest.mark.parametrize("name", sorted(_ferry_variables_in_manifests()))
def test_variables_are_read_by_the_code_and_documented(name: str) -> None:
    assert f'"{name}"' in CODE, f"{name} is set in deploy/ but no service reads it"
    assert f"`{name}`" in README, f"{name} is set in deploy/ but missing from the README table"


def test_probes_hit_the_ports_the_services_listen_on() -> None:
    listen = {"ferry-registry": "FERRY_REGISTRY", "ferry-scheduler": "FERRY_SCHEDULER_HEALTH",
              "ferry-runner": "FERRY_RUNNER_HEALTH"}
    for _, container in _containers():
        address = _env(container)[listen[container["command"][0]]]
        port = int(address.rsplit(":", 1)[1])
        assert address.startswith("0.0.0.0:"), "pods must listen beyond loopback"
        ports = {p["containerPort"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == port
        assert port in ports
        metrics = int(_env(container)["FERRY_METRICS_ADDRESS"].rsplit(":", 1)[1])
        assert metrics in ports


def test_registry_service_and_clients_agree_on_the_address() -> None:
    service = _by_kind("Service")["ferry-registry"]
    port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert _configmap()["FERRY_REGISTRY"] == f"ferry-registry:{port}"
    assert "127.0.0.1:50051" in README and "FERRY_REGISTRY" in CODE


def test_two_schedulers_and_keda_scales_runners_on_the_run_queue() -> None:
    deployments = _by_kind("Deployment")
    assert deployments["ferry-scheduler"]["spec"]["replicas"] == 2
    scaled = _by_kind("ScaledObject")["ferry-runner"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in deployments
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == Topology(_configmap()["FERRY_AMQP_PREFIX"]).run_queue
    auth = _by_kind("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    secret_keys = set(_by_kind("Secret")["ferry-secrets"]["stringData"])
    assert {ref["key"] for ref in auth["spec"]["secretTargetRef"]} <= secret_keys


def test_runner_pods_get_time_to_hand_a_run_back() -> None:
    runner = _by_kind("Deployment")["ferry-runner"]["spec"]["template"]["spec"]
    grace = parse_duration(_configmap()["FERRY_SHUTDOWN_GRACE"])
    assert timedelta(seconds=runner["terminationGracePeriodSeconds"]) >= grace + timedelta(
        seconds=20)


def test_secret_references_point_at_keys_that_exist() -> None:
    keys = set(_by_kind("Secret")["ferry-secrets"]["stringData"])
    for _, container in _containers():
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == "ferry-secrets" and ref["key"] in keys
