"""``ap config check`` and the configuration loader: every problem explained in one line; environment
overrides; the file ``ap dev pair`` writes is valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from access_point.service.config import ConfigError, check_config, load_config
from access_point.service.keys import hash_key, key_id_of, matches, new_key
from peppol.identifiers import ParticipantId


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    directory = tmp_path_factory.mktemp("pair")
    result = CliRunner().invoke(app, ["dev", "pair", str(directory), "--json"])
    assert result.exit_code == 0, result.output
    info: dict[str, dict[str, str]] = json.loads(result.stdout)
    return info


def test_dev_pair_writes_two_valid_configurations(pair: dict[str, dict[str, str]]) -> None:
    for side in ("marketplace", "partner"):
        assert set(pair[side]) >= {"config", "participant", "api_url", "api_key"}
        assert check_config(pair[side]["config"], environ={}) == []
        config = load_config(pair[side]["config"], environ={})
        (tenant,) = config.tenants
        assert tenant.participants == (ParticipantId.parse(pair[side]["participant"]),)
        assert matches(pair[side]["api_key"], tenant.api_keys[0].hash)
        assert config.api_key == pair[side]["api_key"]
        assert config.sml_zone and config.nameservers and config.static_directory is None
    assert pair["marketplace"]["api_url"] != pair["partner"]["api_url"]


def test_config_check_command_ok(pair: dict[str, dict[str, str]]) -> None:
    result = CliRunner().invoke(app, ["config", "check", pair["marketplace"]["config"]])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_config_check_explains_every_problem_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "ap.toml"
    bad.write_text(
        """
public_url = "ftp://nowhere"
colour = "blue"
[server]
port = 70000
[identity]
cert = "missing.pem"
[trust]
revocation = "sometimes"
[discovery]
[[tenants]]
id = "a"
participants = ["iso6523-actorid-upis::0009:1", "not an id"]
format = "pdf"
webhook_url = "https://hooks.example/in"
[[tenants.api_keys]]
id = "k1"
hash = "plaintext-key"
scopes = ["send", "fly"]
[[tenants]]
id = "b"
participants = ["iso6523-actorid-upis::0009:1"]
"""
    )
    problems = check_config(bad, environ={})
    text = "\n".join(problems)
    for expected in (
        "public_url: 'ftp://nowhere' is not",
        "unknown setting 'colour'",
        "server.port 70000",
        "identity.cert: file not found",
        "identity.key is required",
        "trust.ap is required",
        "trust.revocation must be one of",
        "discovery: set sml_zone",
        "participant 'not an id'",
        "format must be one of",
        "webhook_url needs a webhook_secret",
        "hash must be 'sha256:'",
        "unknown scope 'fly'",
        "already belongs to tenant 'a'",
        "no tls_cert/tls_key",
    ):
        assert expected in text, expected
    assert all("\n" not in p for p in problems)
    result = CliRunner().invoke(app, ["config", "check", str(bad)], env={})
    assert result.exit_code == 1
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == len(problems)
    with pytest.raises(ConfigError):
        load_config(bad, environ={})


def test_config_check_unreadable_and_not_toml(tmp_path: Path) -> None:
    assert check_config(tmp_path / "none.toml", environ={})[0].startswith("cannot read")
    (tmp_path / "x.toml").write_text("this is = = not toml")
    assert check_config(tmp_path / "x.toml", environ={})[0].startswith("not valid TOML")


def test_environment_overrides_the_file(pair: dict[str, dict[str, str]]) -> None:
    environ = {
        "AP_SERVER_PORT": "9999",
        "REDIS_URL": "redis://127.0.0.1:6399/0",
        "DATABASE_URL": "postgresql://u@localhost/ap",
        "AP_LIMITS_SEND_MAX_ATTEMPTS": "3",
        "AP_LIMITS_LEASE_SECONDS": "4.5",
        "AP_CLIENT_API_KEY": "apk_x_y",
    }
    config = load_config(pair["partner"]["config"], environ=environ)
    assert config.port == 9999
    assert config.redis_url == "redis://127.0.0.1:6399/0" and not config.embedded_redis
    assert config.database_url == "postgresql://u@localhost/ap"
    assert config.limits.send_max_attempts == 3 and config.limits.lease_seconds == 4.5
    assert config.api_key == "apk_x_y"
    problems = check_config(pair["partner"]["config"], environ={"AP_SERVER_PORT": "many"})
    assert problems == ["server.port must be a number, not 'many'"]
    problems = check_config(pair["partner"]["config"], environ={"AP_LIMITS_LEASE_SECONDS": "0.5"})
    assert problems == ["limits.lease_seconds must be at least 2"]


def test_api_keys_are_kept_hashed() -> None:
    key = new_key()
    assert key.hash == hash_key(key.key) and key.key not in key.hash
    assert key_id_of(key.key) == key.id
    assert matches(key.key, key.hash) and not matches(key.key + "x", key.hash)
    assert key_id_of("Bearer nonsense") is None


def test_service_commands_explain_bad_input_in_one_line(
    pair: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    bad = tmp_path / "ap.toml"
    bad.write_text('public_url = "https://x/as4"\n')
    result = CliRunner().invoke(app, ["serve", "--config", str(bad)], env={})
    assert result.exit_code == 2 and "identity.cert is required" in result.stderr
    assert "Traceback" not in result.output
    config = pair["marketplace"]["config"]
    result = CliRunner().invoke(app, ["send", str(tmp_path / "missing.xml"), "--to", "x", "--config", config])
    assert result.exit_code == 2 and "cannot read" in result.stderr
    (tmp_path / "doc.json").write_text("{not json")
    result = CliRunner().invoke(app, ["send", str(tmp_path / "doc.json"), "--to", "x", "--config", config])
    assert result.exit_code == 2 and "is not OCDS" in result.stderr
    # nothing listens on the pair's port yet: one line, exit 1
    result = CliRunner().invoke(app, ["outbound", "get", "some-id", "--config", config])
    assert result.exit_code == 1 and "cannot reach the service" in result.stderr
