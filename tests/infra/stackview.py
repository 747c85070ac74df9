"""Read-only queries over what one mocked run of the Pulumi program declared."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.mock_program import ROOT

RUN_TIMEOUT_SECONDS = 90
SECRET_SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def unsecret(value: Any) -> Any:
    """The plain value inside Pulumi's secret wrapper (inputs that depend on a secret arrive wrapped)."""
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return value["value"]
    return value


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    dependencies: tuple[str, ...]
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class Deployment:
    """Resources, exports and the error of one run (see deploy/mock_program.py)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.stack: str = data["stack"]
        self.config: dict[str, Any] = data["config"]
        self.exports: dict[str, Any] = data["exports"]
        self.secret_exports: list[str] = data["secret_exports"]
        self.error: dict[str, str] | None = data["error"]
        self.invokes: list[dict[str, Any]] = data["invokes"]
        self.resources = [
            Resource(r["urn"], r["type"], r["name"], r["parent"], tuple(r["dependencies"]), r["id"], r["inputs"],
                     r["outputs"])
            for r in data["resources"]
        ]
        self.by_urn = {r.urn: r for r in self.resources}

    def setting(self, key: str) -> Any:
        return self.config[f"ml-proto:{key}"]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_id(self, type_: str, id_: str) -> Resource:
        found = [r for r in self.of_type(type_) if r.id == id_]
        assert len(found) == 1, f"no {type_} with id {id_}"
        return found[0]

    def ancestors(self, resource: Resource) -> list[Resource]:
        chain, parent = [], resource.parent
        while parent in self.by_urn:
            chain.append(self.by_urn[parent])
            parent = self.by_urn[parent].parent
        return chain

    def component_of(self, resource: Resource) -> Resource:
        """The nearest ml-proto component above a resource."""
        return next(r for r in self.ancestors(resource) if r.type.startswith("ml-proto:"))

    # --- ECS ---------------------------------------------------------------------------------

    def task_definition(self, family_suffix: str) -> Resource:
        found = [r for r in self.of_type("aws:ecs/taskDefinition:TaskDefinition")
                 if r.inputs["family"].endswith(family_suffix)]
        assert len(found) == 1, f"task definitions: {[r.inputs['family'] for r in found]}"
        return found[0]

    @staticmethod
    def containers(task_definition: Resource) -> list[dict[str, Any]]:
        return json.loads(unsecret(task_definition.inputs["containerDefinitions"]))

    def container(self, family_suffix: str) -> dict[str, Any]:
        (container,) = self.containers(self.task_definition(family_suffix))
        return container

    def container_env(self, family_suffix: str) -> dict[str, str]:
        return {item["name"]: item["value"] for item in self.container(family_suffix).get("environment", [])}

    def scheduled_actions(self) -> dict[str, dict[str, Any]]:
        """The dashboard's office-hours actions by name suffix ("open", "close")."""
        return {r.inputs["name"].rsplit("-", 1)[1]: r.inputs
                for r in self.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
                if r.inputs["serviceNamespace"] == "ecs"}

    def sleep_env(self) -> dict[str, str]:
        """The sleep/wake function's environment (dashboardSleepAfterMinutes > 0 only)."""
        return self.one("aws:lambda/function:Function", "dashboard-sleep-function").inputs["environment"]["variables"]

    def lambda_env(self) -> dict[str, str]:
        return self.one("aws:lambda/function:Function", "predictor-function").inputs["environment"]["variables"]

    # --- IAM ---------------------------------------------------------------------------------

    def role_statements(self) -> dict[str, list[dict[str, Any]]]:
        """Allow/Deny statements of every role's inline policy, by role resource name."""
        roles = {r.id: r.name for r in self.of_type("aws:iam/role:Role")}
        result: dict[str, list[dict[str, Any]]] = {}
        for policy in self.of_type("aws:iam/rolePolicy:RolePolicy"):
            role_name = roles[policy.inputs["role"]]
            result.setdefault(role_name, []).extend(json.loads(unsecret(policy.inputs["policy"]))["Statement"])
        return result

    def all_policy_documents(self) -> dict[str, dict[str, Any]]:
        """Every IAM-style document the program writes (role, bucket and repository policies)."""
        docs = {}
        for type_ in ("aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPolicy:BucketPolicy",
                      "aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:iam/policy:Policy"):
            for r in self.of_type(type_):
                docs[f"{type_} {r.name}"] = json.loads(unsecret(r.inputs["policy"]))
        for role in self.of_type("aws:iam/role:Role"):
            docs[f"trust {role.name}"] = json.loads(role.inputs["assumeRolePolicy"])
        return docs


def run_program(stack: str, out_dir: Path, overrides: dict[str, str] | None = None,
                secrets: tuple[str, ...] = ()) -> Deployment:
    """Run __main__.py for `stack` in a fresh process (Pulumi's runtime state is global)."""
    out = out_dir / f"{stack}-{abs(hash((tuple(sorted((overrides or {}).items())), secrets)))}.json"
    command = [sys.executable, "-m", "deploy.mock_program", "--stack", stack, "--out", str(out)]
    for key, value in (overrides or {}).items():
        command += ["--set", f"{key}={value}"]
    for key in secrets:
        command += ["--secret", key]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert done.returncode == 0, f"harness failed:\n{done.stdout}\n{done.stderr}"
    return Deployment(json.loads(out.read_text()))
