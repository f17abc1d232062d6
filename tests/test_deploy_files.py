"""The deployment recipe (deploy/) refers only to commands, options, settings and routes
that exist, and its files agree with each other about ports and paths.

This is all the suite does with deploy/: nothing here starts systemd, nginx, Caddy, a
container engine or the image (docs/deploy.md says what was checked by hand).
"""

from __future__ import annotations

import json
import re
import shlex
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bot.cli import EXIT_CONFIG, main
from bot.ops import OpsEndpoint
from bot.settings import Settings
from scheduler.metrics import Metrics

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))

# Read from the process environment directly, not through Settings (storage/secret.py).
ENVIRONMENT_ONLY = frozenset({"NUDGEBOT_SECRET_KEY"})
# The official PostgreSQL image's own variables (compose's postgres service).
POSTGRES_IMAGE = frozenset({"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"})


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def known_names() -> set[str]:
    return setting_names() | ENVIRONMENT_ONLY


def check_cli(argv: list[str]) -> None:
    """`argv` (after the program name) names an existing nudgebot command and options."""
    command: click.Command = main
    ctx = click.Context(main)
    words = list(argv)
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name = words.pop(0)
        found = command.get_command(ctx, name)
        assert found is not None, f"`nudgebot {' '.join(argv)}`: no command {name!r}"
        command = found
    assert not isinstance(command, click.Group), f"`nudgebot {' '.join(argv)}` is a group"
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in options, f"`nudgebot {' '.join(argv)}`: {word}?"


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> every value (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], defaultdict(list))
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current[key.strip()].append(value.strip())
    return sections


def env_assignments(text: str, *, commented: bool = True) -> dict[str, str]:
    """NAME=value lines of an environment file (also `# NAME=value` examples)."""
    pattern = r"^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, text, re.MULTILINE)}


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def nudgebot_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image", "").startswith("localhost/nudgebot")
    }


def containerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = (DEPLOY / "Containerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def container_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, rest in containerfile():
        if instruction == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return env


def healthcheck_url(test: list[str]) -> str:
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", " ".join(test))
    assert found is not None, test
    return f":{found.group(1)}{found.group(2)}"


def ops_routes() -> set[str]:
    endpoint = OpsEndpoint(None, Metrics(), None, clock=None)  # type: ignore[arg-type]
    return {route.path for route in endpoint.app.routes}  # type: ignore[attr-defined]


# Settings and names.


def test_the_environment_example_names_only_real_settings() -> None:
    names = env_assignments((DEPLOY / "nudgebot.env.example").read_text())
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "NUDGEBOT_SECRET_KEY"} <= set(names)
    assert set(names) <= known_names(), set(names) - known_names()
    assert names["DATABASE_URL"].startswith("postgresql+psycopg://")
    # An example must not carry anything that could be mistaken for a real token.
    assert names["TELEGRAM_BOT_TOKEN"] == ""


# systemd.


def test_there_is_a_worker_template_and_a_migration_unit() -> None:
    assert {p.name for p in UNITS} == {"nudgebot@.service", "nudgebot-migrate.service"}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_run_real_commands_with_real_settings(path: Path) -> None:
    unit = parse_unit(path)
    service = unit["Service"]
    [exec_start] = service["ExecStart"]
    program, *argv = shlex.split(exec_start)
    assert Path(program).name == "nudgebot"
    check_cli(argv)
    assert service["EnvironmentFile"] == ["/etc/nudgebot/nudgebot.env"]
    for assignment in service.get("Environment", []):
        name = assignment.split("=", 1)[0]
        assert name in known_names(), name
    assert service["User"] != ["root"]
    hardening = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
    }
    for key, value in hardening.items():
        assert service[key] == [value], key
    assert "AF_INET" in service["RestrictAddressFamilies"][0]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_workers_restart_on_failure_but_not_on_a_bad_setting() -> None:
    service = parse_unit(DEPLOY / "systemd" / "nudgebot@.service")["Service"]
    assert service["ExecStart"][0].endswith("nudgebot run")
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == [str(EXIT_CONFIG)]
    assert service["KillSignal"] == ["SIGTERM"]
    # Longer than a graceful stop takes (tests/test_sigterm.py: under 6 s).
    assert int(service["TimeoutStopSec"][0]) >= 10


def test_workers_wait_for_the_migration_unit() -> None:
    worker = parse_unit(DEPLOY / "systemd" / "nudgebot@.service")["Unit"]
    migrate = parse_unit(DEPLOY / "systemd" / "nudgebot-migrate.service")
    assert "nudgebot-migrate.service" in worker["Requires"][0].split()
    assert "nudgebot-migrate.service" in worker["After"][0].split()
    assert migrate["Service"]["Type"] == ["oneshot"]
    assert migrate["Service"]["ExecStart"][0].endswith("nudgebot db upgrade")


def instance_ports(instances: range) -> dict[str, set[int]]:
    """The ports nudgebot@N gets for each setting, for N in `instances`."""
    service = parse_unit(DEPLOY / "systemd" / "nudgebot@.service")["Service"]
    ports: dict[str, set[int]] = {}
    for assignment in service["Environment"]:
        name, value = assignment.split("=", 1)
        ports[name] = {int(value.replace("%i", str(n))) for n in instances}
    return ports


def test_the_proxies_and_the_scrape_config_point_at_the_units_ports() -> None:
    ports = instance_ports(range(1, 3))
    nginx = (DEPLOY / "nginx" / "nudgebot.conf").read_text()
    upstream = re.search(r"upstream nudgebot_dashboard \{(.*?)\}", nginx, re.S)
    assert upstream is not None
    assert {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", upstream.group(1))} == ports[
        "DASHBOARD_PORT"
    ]
    caddy = (DEPLOY / "caddy" / "Caddyfile").read_text()
    dashboard = re.search(r"reverse_proxy (127\.0\.0\.1:8\d+ ?)+", caddy.split("handle {")[1])
    assert dashboard is not None
    assert {int(p) for p in re.findall(r":(\d+)", dashboard.group(0))} == ports["DASHBOARD_PORT"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = prometheus["scrape_configs"]
    assert job["metrics_path"] in ops_routes()
    targets = {int(t.rsplit(":", 1)[1]) for t in job["static_configs"][0]["targets"]}
    assert targets == ports["OPS_PORT"]


# Reverse proxies.


def test_both_proxies_forward_the_webhook_secret_on_the_same_secret_path() -> None:
    nginx = (DEPLOY / "nginx" / "nudgebot.conf").read_text()
    caddy = (DEPLOY / "caddy" / "Caddyfile").read_text()
    example = env_assignments((DEPLOY / "nudgebot.env.example").read_text())
    path = "/" + example["TELEGRAM_WEBHOOK_URL"].split("://", 1)[1].split("/", 1)[1]
    assert f"location = {path} " in nginx
    assert f"path {path}\n" in caddy
    for config in (nginx, caddy):
        directives = "\n".join(
            line for line in config.splitlines() if not line.lstrip().startswith("#")
        )
        assert "X-Telegram-Bot-Api-Secret-Token" in directives
        # The ops endpoint is never exposed through the proxy.
        for ops in ("/metrics", "/healthz", "/readyz", ":909"):
            assert ops not in directives, ops
    assert "ssl_certificate " in nginx and "return 301 https://" in nginx


# Containers.


def test_the_containerfile_installs_the_package_as_a_non_root_user() -> None:
    steps = containerfile()
    assert steps[0] == ("FROM", "docker.io/library/python:3.11-slim")
    runs = " ".join(rest for instruction, rest in steps if instruction == "RUN")
    assert "pip install ." in runs
    [user] = [rest for instruction, rest in steps if instruction == "USER"]
    assert user not in {"root", "0"}
    assert "--uid" in runs and user in runs
    # What it copies exists, and is everything the wheel is built from.
    copied = set()
    for instruction, rest in steps:
        if instruction == "COPY":
            *sources, _target = rest.split()
            for source in sources:
                assert (REPO / source).exists(), source
                copied.add(source)
    pyproject = (REPO / "pyproject.toml").read_text()
    packages = re.search(r"packages = \[(.*?)\]", pyproject)
    assert packages is not None
    assert set(re.findall(r'"(\w+)"', packages.group(1))) | {"templates"} <= copied
    [cmd] = [rest for instruction, rest in steps if instruction == "CMD"]
    program, *argv = json.loads(cmd)
    assert program == "nudgebot"
    check_cli(argv)
    env = container_env()
    ours = {name for name in env if not name.startswith(("PYTHON", "PIP_"))}
    assert ours == {"DASHBOARD_HOST", "DASHBOARD_PORT", "OPS_HOST", "OPS_PORT"}
    assert ours <= known_names()
    [health] = [rest for instruction, rest in steps if instruction == "HEALTHCHECK"]
    assert f"127.0.0.1:{env['OPS_PORT']}/healthz" in health
    assert "/healthz" in ops_routes()


def test_compose_runs_postgresql_and_two_bot_processes_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("docker.io/library/postgres:")
    assert set(services["postgres"]["environment"]) <= POSTGRES_IMAGE
    bots = nudgebot_services()
    runners = {name: s for name, s in bots.items() if s["command"][1] == "run"}
    assert len(runners) >= 2
    ops_port = container_env()["OPS_PORT"]
    published = []
    for name, service in bots.items():
        program, *argv = service["command"]
        assert program == "nudgebot"
        check_cli(argv)
        assert service["build"]["dockerfile"] == "deploy/Containerfile"
        assert (DEPLOY / service["build"]["context"] / "deploy" / "Containerfile").exists()
        assert set(service.get("environment", {})) <= known_names(), name
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    for name, service in runners.items():
        assert healthcheck_url(service["healthcheck"]["test"]) == f":{ops_port}/healthz", name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["stop_grace_period"] == "30s"
        for mapping in service.get("ports", []):
            host, _, container = mapping.rpartition(":")
            assert host.startswith("127.0.0.1:"), mapping  # loopback only
            assert container == container_env()["DASHBOARD_PORT"]
            assert container != ops_port  # the ops port is never published
            published.append(host)
    assert len(published) == len(set(published))
    migrate = bots["migrate"]
    assert migrate["command"][1:] == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]


def test_compose_reads_the_environment_file_the_example_describes() -> None:
    for service in nudgebot_services().values():
        assert service["env_file"] == "nudgebot.env"
    assert (DEPLOY / "nudgebot.env.example").exists()


# The documentation.


def test_the_deploy_guide_explains_every_metric() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    families = {family.name for family in Metrics().registry.collect()}
    assert families >= {"nudgebot_deliveries", "nudgebot_queue_depth"}
    for name in families:
        assert f"`{name}" in guide, name
    for route in ops_routes():
        assert f"`{route}`" in guide, route
    for setting in ("OPS_PORT", "OPS_HOST"):
        assert f"`{setting}`" in guide
