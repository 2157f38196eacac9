"""The service's identity and trust settings (issue 14): the current key pair plus the other
certificates of a renewal (``[[identity.renewal]]``, ``AP_IDENTITY_RENEWAL``), the key password from
``key_password_file`` or ``$AP_KEY_PASSWORD`` and never from the file, ``[trust] network`` and
``receipt_signer`` — each mistake explained by ``ap config check`` in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from access_point.cli import app
from access_point.dev.pair import write_pair
from access_point.service.config import check_config, load_config, load_service_identity
from peppol.pki import IdentitySet, load_certificate, network_bundle
from tests.service.renewal import PASSWORD, renew


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The partner side of an ``ap dev pair`` with a renewal of its certificate next to it."""
    directory = tmp_path_factory.mktemp("renewal")
    info = write_pair(directory / "pair")
    config = Path(info["partner"]["config"])
    pki = directory / "pair" / "pki"
    p12, password = renew(pki, pki / "ap-PFR000002.pem", config.parent / "renewal")
    return {"config": config, "pki": pki, "p12": p12, "password": password}


def _with(setup: dict[str, Path], tmp_path: Path, extra: str, *, identity: str | None = None) -> Path:
    """The partner configuration, its ``[identity]`` replaced by ``identity`` and ``extra`` appended."""
    text = setup["config"].read_text()
    if identity is not None:
        start = text.index("[identity]")
        text = text[:start] + identity + text[text.index("[trust]") :]
    path = setup["config"].parent / f"{tmp_path.name}.toml"
    path.write_text(text + extra)
    return path


def test_renewal_entries_decrypt_and_the_current_pair_signs(setup: dict[str, Path], tmp_path: Path) -> None:
    path = _with(
        setup, tmp_path, '\n[[identity.renewal]]\nkey = "renewal/ap-renewed.p12"\n'
        'key_password_file = "renewal/ap-renewed.password"\n',
    )  # fmt: skip
    assert check_config(path, environ={}) == []
    config = load_config(path, environ={})
    assert [pair.key for pair in config.identity_renewal] == [setup["p12"]]
    identity = load_service_identity(config)
    assert isinstance(identity, IdentitySet)
    old = load_certificate(setup["pki"] / "ap-PFR000002.pem")
    assert identity.certificate == old  # the current one signs
    (new,) = [c for c in identity.certificates if c != old]
    assert identity.decryption_key(new) is not None and identity.decryption_key(old) is not None


def test_the_new_pair_as_current_with_its_password_file_and_the_environment(
    setup: dict[str, Path], tmp_path: Path
) -> None:
    """The switch: the PKCS#12 renewal becomes current (no cert needed), the old PEM pair is listed as
    previous; the same through the environment (AP_IDENTITY_*), the password file given once."""
    current = (
        '[identity]\nkey = "renewal/ap-renewed.p12"\nkey_password_file = "renewal/ap-renewed.password"\n'
    )
    previous = '\n[[identity.renewal]]\nkey = "../pki/ap-PFR000002.key"\ncert = "../pki/ap-PFR000002.pem"\n'
    path = _with(setup, tmp_path, previous, identity=current)
    assert check_config(path, environ={}) == []
    identity = load_service_identity(load_config(path, environ={}))
    assert isinstance(identity, IdentitySet)
    assert identity.certificate != load_certificate(setup["pki"] / "ap-PFR000002.pem")
    assert len(identity.certificates) == 2

    environ = {
        "AP_IDENTITY_KEY": "renewal/ap-renewed.p12",
        "AP_IDENTITY_CERT": "",
        "AP_IDENTITY_RENEWAL": "../pki/ap-PFR000002.key,../pki/ap-PFR000002.pem",
        "AP_KEY_PASSWORD": PASSWORD.decode(),  # no key_password_file: $AP_KEY_PASSWORD still works
    }
    assert check_config(setup["config"], environ=environ) == []
    switched = load_config(setup["config"], environ=environ)
    assert switched.identity_cert is None and len(switched.identity_renewal) == 1
    problems = check_config(setup["config"], environ={**environ, "AP_KEY_PASSWORD": "wrong"})
    assert len(problems) == 1 and problems[0].startswith("identity: cannot load the key pair:")
    assert "password" in problems[0]


def test_config_check_explains_renewal_mistakes_one_line_each(setup: dict[str, Path], tmp_path: Path) -> None:
    path = _with(
        setup, tmp_path,
        '\n[[identity.renewal]]\nkey = "../pki/ap-PFR000001.key"\ncert = "../pki/ap-PFR000001.pem"\n'
        '\n[[identity.renewal]]\nkey = "renewal/ap-renewed.p12"\n'
        '\n[[identity.renewal]]\nkey = "../pki/ap-PFR000002.pem"\n'
        '\n[[identity.renewal]]\ncert = "../pki/ap-PFR000002.pem"\n',
    )  # fmt: skip
    problems = check_config(path, environ={})
    assert problems == [
        "identity.renewal[2].cert is required",
        "identity.renewal[3].key is required",
    ]
    without_last_two = path.read_text().rsplit("\n[[identity.renewal]]", 2)[0] + "\n"
    path.write_text(without_last_two)
    problems = check_config(path, environ={})
    assert len(problems) == 2 and all("\n" not in p for p in problems)
    assert problems[0] == (
        "identity.renewal[0]: certificate of seat 'PFR000001', the current one is 'PFR000002' "
        "(a renewal keeps the seat id)"
    )
    assert (
        problems[1].startswith("identity.renewal[1]: cannot load the key pair:") and "password" in problems[1]
    )
    result = CliRunner().invoke(app, ["config", "check", str(path)], env={"AP_KEY_PASSWORD": None})
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line] == [f"error: {p}" for p in problems]


def test_a_password_in_the_file_is_refused_and_the_same_pair_twice_too(
    setup: dict[str, Path], tmp_path: Path
) -> None:
    identity = (
        '[identity]\nkey = "renewal/ap-renewed.p12"\nkey_password = "renewal secret"\n'
        '[[identity.renewal]]\nkey = "renewal/ap-renewed.p12"\n'
    )
    problems = check_config(_with(setup, tmp_path, "", identity=identity), environ={})
    assert problems == [
        "identity.key_password: a password never goes in the configuration file "
        "(key_password_file = FILE, or $AP_KEY_PASSWORD)",
        "identity.renewal[0].key is the current identity.key (list only the other certificates)",
    ]


def test_trust_network_gives_the_shipped_cas_and_receipt_signer_is_checked(
    setup: dict[str, Path], tmp_path: Path
) -> None:
    text = setup["config"].read_text()
    text = text.replace(
        'ap = "../pki/ap-truststore.pem"\nsmp = "../pki/smp-truststore.pem"\n', 'network = "test"\n'
    )
    path = setup["config"].parent / f"{tmp_path.name}.toml"
    path.write_text(text)
    config = load_config(path, environ={})
    assert config.network == "test" and config.ap_trust == config.smp_trust == network_bundle("test")
    assert config.receipt_signer == "same-certificate"
    config = load_config(
        path, environ={"AP_TRUST_AP": "../pki/ap-truststore.pem", "AP_TRUST_RECEIPT_SIGNER": "same-seat"}
    )
    assert config.ap_trust == setup["pki"] / "ap-truststore.pem" and config.receipt_signer == "same-seat"
    assert config.smp_trust == network_bundle("test")  # the file wins where given, the network elsewhere
    problems = check_config(path, environ={"AP_TRUST_NETWORK": "prod", "AP_TRUST_RECEIPT_SIGNER": "anyone"})
    assert problems == [
        "trust.network must be one of test, production, not 'prod'",
        "trust.receipt_signer must be one of same-certificate, same-seat, not 'anyone'",
        "trust.smp (or trust.network) is required with discovery.sml_zone (SMP signatures are verified)",
    ]


def test_a_database_url_of_another_kind_is_one_line_without_its_password(setup: dict[str, Path]) -> None:
    problems = check_config(setup["config"], environ={"DATABASE_URL": "mysql://ap:secret@db/ap"})
    assert problems == ["database_url: 'db/ap' is not a sqlite:/// or postgresql:// URL"]
    assert check_config(setup["config"], environ={"DATABASE_URL": "postgresql://ap:secret@db/ap"}) == []
