"""``ap`` start-up: the command modules import their heavy libraries only when a command needs them.

Checked by ``sys.modules`` inspection in a fresh interpreter (never by time): ``import access_point.cli``,
``ap --help`` and ``ap id check`` must not load the XML-signature, DNS, validation, web-server or mapping
stacks. The values the CLI writes out instead of importing them are checked against their sources here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from access_point import cli
from access_point.cli import lookup_cmd, validate_cmd

#: Top-level packages that no light command may import.
HEAVY = (
    "saxonche",
    "uvicorn",
    "starlette",
    "dns",
    "signxml",
    "jsonschema",
    "xmlschema",
    "mappings",
    "pyhanko_certvalidator",
)

_PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def _loaded_after(body: str) -> set[str]:
    """Top-level package names in ``sys.modules`` after running ``body`` in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(body=body)], capture_output=True, text=True, check=True
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _run_cli(args: list[str]) -> str:
    return (
        "import access_point.cli as c\n"
        "try:\n"
        f"    c.app({args!r})\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
    )


def test_import_cli_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import access_point.cli")
    assert "access_point" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_id_check_loads_no_heavy_library() -> None:
    loaded = _loaded_after(_run_cli(["id", "check", "iso6523-actorid-upis::0088:123ABC"]))
    assert "peppol" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_root_help_loads_no_heavy_library() -> None:
    loaded = _loaded_after(_run_cli(["--help"]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_lazy_commands_are_loaded_when_run() -> None:
    loaded = _loaded_after(_run_cli(["convert", "--help"]) + _run_cli(["pki", "--help"]))
    assert {"mappings", "pyhanko_certvalidator"} <= loaded


def test_pki_init_loads_no_xml_dns_or_mapping_library(tmp_path: Path) -> None:
    loaded = _loaded_after(_run_cli(["pki", "init", str(tmp_path / "pki")]))
    assert (tmp_path / "pki").is_dir()
    heavy = set(HEAVY) - {"pyhanko_certvalidator"}  # the PKI self-check validates with it
    assert not loaded & heavy, sorted(loaded & heavy)


def test_lazy_command_help_is_the_command_own_help() -> None:
    for name in cli.LAZY_COMMANDS:
        real = cli.load_command(name)
        assert real.name == name
        assert cli.LAZY_COMMANDS[name].help == real.help


def test_root_help_lists_every_command_in_registration_order() -> None:
    result = CliRunner().invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    names = ["lookup", "validate", "convert", "pki", "id", "as4", "artifacts"]  # as when all were eager
    positions = [result.output.index(f" {n} ") for n in names]
    assert positions == sorted(positions)
    words = " ".join(w for w in result.output.split() if w != "│")  # the help panel's border
    for lazy in cli.LAZY_COMMANDS.values():
        assert lazy.help in words


def test_written_out_defaults_match_their_libraries() -> None:
    from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2
    from smp_client.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    from smp_client.sml import DEFAULT_DNS_TIMEOUT
    from ubl.validate import AUTO

    assert lookup_cmd.TRANSPORT_PROFILE_AS4_V2 == TRANSPORT_PROFILE_AS4_V2
    assert lookup_cmd.DEFAULT_CONNECT_TIMEOUT == DEFAULT_CONNECT_TIMEOUT
    assert lookup_cmd.DEFAULT_READ_TIMEOUT == DEFAULT_READ_TIMEOUT
    assert lookup_cmd.DEFAULT_DNS_TIMEOUT == DEFAULT_DNS_TIMEOUT
    assert validate_cmd.AUTO == AUTO


def test_root_group_builds_every_command() -> None:
    group = typer.main.get_command(cli.app)
    assert isinstance(group, typer.core.TyperGroup)
    assert set(group.commands) == {
        "lookup", "validate", "convert", "pki", "id", "as4", "artifacts", "conformance"
    }
