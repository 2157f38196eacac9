"""The deployment files (``deploy/``, docs/operations.md § Deployment) checked with real tools: the
systemd units by ``systemd-analyze verify``, the nginx configuration by ``nginx -t`` (both Debian's,
unpacked from their packages when not installed), and every command and environment variable of the
compose file, the units and ``ap.env.example`` against the real CLI (``ap … --help`` parses the very
arguments) and the configuration (``ap config check`` under the environment they give)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from access_point.cli import app
from access_point.dev.pair import write_pair
from access_point.service.config import DEFAULT_PORT, Limits, environment_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
#: The console script of this environment, standing in for the installed one.
AP = Path(sys.executable).parent / "ap"
INSTALLED_AP = "/opt/ap/.venv/bin/ap"
#: Variables read outside the service configuration (docs/cli.md § Environment).
PROCESS_VARIABLES = frozenset({"AP_KEY_PASSWORD", "AP_ARTIFACTS_DIR"})
UNITS = {"ap-serve@.service": "8443", "ap-worker@.service": "1"}
runner = CliRunner()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("deploy")
    info = write_pair(directory / "pair")
    info["directory"] = directory / "pair"
    return info


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _ap_parses(arguments: list[str]) -> None:
    """``ap ARGUMENTS --help`` exits 0: every option and command of ARGUMENTS exists (a wrong one is a
    usage error, exit 2, even with ``--help``)."""
    result = runner.invoke(app, [*arguments, "--help"])
    assert result.exit_code == 0, (arguments, result.output[-1500:])


def _config_check(config: str, env: dict[str, str]) -> None:
    """``ap config check CONFIG`` under the environment ``env`` (on top of a clean one)."""
    clean = {name: None for name in os.environ if name in environment_names() | PROCESS_VARIABLES}
    result = runner.invoke(app, ["config", "check", config], env={**clean, **env})
    assert result.exit_code == 0, (env, result.output)


def _interpolate(value: str) -> str:
    """Compose's ``${VAR:?message}`` / ``${VAR:-default}`` with test values."""
    return re.sub(
        r"\$\{(\w+)(:[?-][^}]*)?\}", lambda m: "" if (m.group(2) or "").startswith(":-") else "x", value
    )


def _unit(name: str) -> str:
    return (DEPLOY / "systemd" / name).read_text()


def _unit_values(text: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}=")]


# --- systemd ---------------------------------------------------------------------------------------


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze, env = _tool(
        "systemd-analyze", ("systemd", "libsystemd-shared"), "usr/bin/systemd-analyze", tmp_path
    )
    units = []
    for template, instance in UNITS.items():
        unit = tmp_path / template.replace("@.", f"@{instance}.")
        unit.write_text(_unit(template).replace(INSTALLED_AP, str(AP)))  # the executable must exist
        units.append(str(unit))
    result = subprocess.run(
        [str(analyze), "verify", "--man=no", *units], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_systemd_commands_and_environment_match_the_cli_and_the_configuration(pair: dict[str, Any]) -> None:
    serve = shlex.split(_unit_values(_unit("ap-serve@.service"), "ExecStart")[0])
    assert serve[0] == INSTALLED_AP
    _ap_parses(serve[1:])
    shell, flag, script = shlex.split(_unit_values(_unit("ap-worker@.service"), "ExecStart")[0])
    assert (shell, flag) == ("/bin/sh", "-c") and script.startswith(f"exec {INSTALLED_AP} ")
    worker = _run([shell, flag, script.replace("%i", "1").replace(INSTALLED_AP, str(AP)) + " --help"])
    assert worker.returncode == 0, worker.stderr
    assert "--metrics-port" in script and "9301" not in script
    known = environment_names() | PROCESS_VARIABLES
    example = {
        name: value
        for name, _, value in (
            line.partition("=")
            for line in (DEPLOY / "ap.env.example").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    }
    for template, instance in UNITS.items():
        text = _unit(template)
        assert _unit_values(text, "EnvironmentFile") == ["/etc/ap/ap.env"]
        variables = dict(value.split("=", 1) for value in _unit_values(text, "Environment"))
        assert set(variables) | set(example) <= known, set(variables) | set(example)
        _config_check(
            pair["partner"]["config"],
            {**example, **{k: v.replace("%i", instance) for k, v in variables.items()}},
        )


# --- compose ---------------------------------------------------------------------------------------


def test_compose_commands_and_environment_match_the_cli_and_the_configuration(pair: dict[str, Any]) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    assert entrypoint[0] == "ap"
    for package in (
        "peppol",
        "ubl",
        "mappings",
        "smp_client",
        "transport",
        "exchange",
        "conformance",
        "access_point",
    ):
        assert f"COPY {package} {package}\n" in dockerfile, package
    known = environment_names() | PROCESS_VARIABLES
    for name in ("ap-serve", "ap-worker"):
        service = services[name]
        _ap_parses([*entrypoint[1:], *service["command"]])
        env = {key: _interpolate(str(value)) for key, value in service["environment"].items()}
        assert set(env) <= known, set(env) - known
        _config_check(pair["partner"]["config"], env)
        assert env["AP_ARTIFACTS_DIR"].startswith("/var/lib/ap/data/")  # on the shared volume
        assert "ap-data:/var/lib/ap/data" in service["volumes"]
        # a new named volume takes the ownership of the image's directory: it must be the ap user's
        assert "mkdir -p /var/lib/ap/data && chown ap:ap /var/lib/ap/data" in dockerfile
        assert dockerfile.index("chown ap:ap /var/lib/ap/data") < dockerfile.index("USER ap")
        assert services[name]["depends_on"]["ap-artifacts"] == {"condition": "service_completed_successfully"}
    # the one-shot artifact installation: real sets, real command, the same store as the nodes
    artifacts = services["ap-artifacts"]
    assert (
        artifacts["environment"]["AP_ARTIFACTS_DIR"]
        == services["ap-serve"]["environment"]["AP_ARTIFACTS_DIR"]
    )
    from ubl.artifacts import catalog

    for step in artifacts["command"][0].split("&&"):
        words = shlex.split(step)
        assert words[:3] == ["ap", "artifacts", "install"] and words[3] in catalog.OFFICIAL_SETS, words
        _ap_parses(words[1:])
    # the node port, its health check, and the proxy's upstream
    assert services["ap-serve"]["expose"] == [str(DEFAULT_PORT)]
    check = " ".join(services["ap-serve"]["healthcheck"]["test"])
    assert f"https://127.0.0.1:{DEFAULT_PORT}/readyz" in check
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert f"server ap-serve:{DEFAULT_PORT} " in nginx
    body = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert body is not None and int(body.group(1)) * 1024 * 1024 >= Limits().max_as4_body_bytes


# --- nginx -----------------------------------------------------------------------------------------


def _tool(name: str, packages: tuple[str, ...], inside: str, directory: Path) -> tuple[Path, dict[str, str]]:
    """The installed ``name``, else Debian's unpacked from ``packages`` (``apt-get download`` + ``dpkg
    -x``: no maintainer script runs, no daemon starts) with the environment to run it; skips when
    neither works."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return Path(found), dict(os.environ)
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip(
            f"{name} is not installed and this is not a Debian system (apt-get, dpkg) to fetch it from"
        )
    command = ["apt-get", "download", *packages]
    download = subprocess.run(command, capture_output=True, text=True, cwd=directory, timeout=300)
    if download.returncode != 0 and os.geteuid() == 0:  # a clean CI container has no package lists yet
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=300)
        download = subprocess.run(command, capture_output=True, text=True, cwd=directory, timeout=300)
    if download.returncode != 0:
        pytest.skip(f"{name} is not installed and could not be downloaded: {download.stderr.strip()[-300:]}")
    root = directory / "root"
    for package in directory.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(package), str(root)], check=True, timeout=120)
    libraries = [root / "usr/lib/x86_64-linux-gnu/systemd", root / "usr/lib/x86_64-linux-gnu"]
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(map(str, libraries))}
    tool = root / inside
    probe = subprocess.run(
        [str(tool), "--version" if name != "nginx" else "-v"], capture_output=True, env=env
    )
    if probe.returncode != 0:
        pytest.skip(
            f"{name} unpacked from Debian's {', '.join(packages)} does not run here: {probe.stderr[-300:]!r}"
        )
    return tool, env


def test_nginx_configuration_passes_nginx_t(pair: dict[str, Any], tmp_path: Path) -> None:
    nginx, env = _tool("nginx", ("nginx",), "usr/sbin/nginx", tmp_path)
    pki = pair["directory"] / "pki"
    tls = tmp_path / "tls"
    tls.mkdir()
    for name, source in (
        ("fullchain.pem", "tls-server-chain.pem"),
        ("privkey.pem", "tls-server.key"),
        ("nodes-ca.pem", "tls-truststore.pem"),
    ):
        shutil.copy(pki / source, tls / name)
    # the compose service name resolves only inside compose; nginx resolves upstreams when it loads
    site = (DEPLOY / "nginx.conf").read_text().replace("/etc/nginx/tls/", f"{tls}/")
    site = site.replace(f"server ap-serve:{DEFAULT_PORT}", f"server 127.0.0.1:{DEFAULT_PORT}")
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n"
    )
    command = [str(nginx), "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
