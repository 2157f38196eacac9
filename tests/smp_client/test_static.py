"""Static directory mode: YAML/JSON file → the same LookupResult and failure classes as the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.testpki import TestPki
from smp_client import (
    Discovery,
    DocumentTypeNotServed,
    EndpointDirectory,
    LookupResult,
    NoMatchingEndpoint,
    ParticipantNotRegistered,
    StaticDirectory,
    StaticDirectoryError,
    UntrustedEndpointCertificate,
)
from tests.smp_client.world import DOCTYPE, ORDER, PROCESS

PID = "iso6523-actorid-upis::9915:Demo"
IDS = (ParticipantId.parse(PID), DocumentTypeId.parse(DOCTYPE), ProcessId.parse(PROCESS))


def _yaml(pki: TestPki, cert: str = "ap.pem", extra: str = "") -> str:
    return f"""
participants:
  - id: {PID}
    services:
      - document_type: "{DOCTYPE}"
        process: {PROCESS}
        endpoints:
          - url: https://old.example.test/as4
            certificate: {cert}
            expiration: 2020-01-01T00:00:00Z
          - url: https://ap.example.test/as4
            certificate: {cert}
            activation: 2021-01-01
            description: Demo AP
            technical_contact: ops@example.test
{extra}
      - document_type: "{ORDER}"
        process: cenbii-procid-ubl::urn:fdc:peppol.eu:poacc:bis:ordering:3
        endpoints:
          - url: https://ap.example.test/as4
            transport_profile: peppol-transport-as4-v2_0
            certificate: {cert}
"""


@pytest.fixture
def static_file(tmp_path: Path, test_pki: TestPki) -> Path:
    (tmp_path / "ap.pem").write_bytes(test_pki.aps[0].cert.read_bytes())
    path = tmp_path / "directory.yaml"
    path.write_text(_yaml(test_pki))
    return path


def test_static_yaml_lookup_returns_the_network_result_type(static_file: Path, test_pki: TestPki) -> None:
    directory = StaticDirectory(static_file, ap_validator=test_pki.ap_validator())
    result = directory.lookup(*IDS)
    assert isinstance(result, LookupResult) and result.source == "static"
    assert result.endpoint.url == "https://ap.example.test/as4"  # the expired one is skipped
    assert result.endpoint.certificate == test_pki.aps[0].certificate()
    assert result.endpoint.service_description == "Demo AP"
    assert result.certificate.valid is True
    assert result.as_dict()["endpoints"][0]["certificate_valid"] is True


def test_static_without_validator_pins_certificate(static_file: Path) -> None:
    result = StaticDirectory(static_file).lookup(*IDS)
    assert result.certificate.valid is None and "pinned" in result.certificate.detail


def test_static_json_with_inline_pem(tmp_path: Path, test_pki: TestPki) -> None:
    pem = test_pki.aps[0].cert.read_text()
    data = {
        "participants": [
            {
                "id": PID,
                "services": [
                    {
                        "document_type": DOCTYPE,
                        "process": PROCESS,
                        "endpoints": [{"url": "https://ap.example.test/as4", "certificate": pem}],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "d.json"
    path.write_text(json.dumps(data))
    assert StaticDirectory(path).lookup(*IDS).endpoint.certificate == test_pki.aps[0].certificate()


def test_static_service_group(static_file: Path) -> None:
    assert [d.uri for d in StaticDirectory(static_file).service_group(IDS[0])] == [DOCTYPE, ORDER]


def test_static_failures_use_the_taxonomy(static_file: Path) -> None:
    directory = StaticDirectory(static_file)
    with pytest.raises(ParticipantNotRegistered, match="9915:other"):
        directory.lookup(ParticipantId.parse("iso6523-actorid-upis::9915:other"), IDS[1], IDS[2])
    with pytest.raises(DocumentTypeNotServed, match="Order2"):
        directory.lookup(IDS[0], DocumentTypeId.parse(ORDER.replace("Order##", "Order2##")), IDS[2])
    with pytest.raises(NoMatchingEndpoint, match="bdxr-transport-ebms3-as4-v1p0"):
        directory.lookup(*IDS, "bdxr-transport-ebms3-as4-v1p0")


def test_static_revoked_certificate_rejected(tmp_path: Path, test_pki: TestPki) -> None:
    (tmp_path / "revoked.pem").write_bytes(test_pki.revoked_ap.cert.read_bytes())
    path = tmp_path / "d.yaml"
    path.write_text(_yaml(test_pki, cert="revoked.pem"))
    with pytest.raises(UntrustedEndpointCertificate, match="revoked"):
        StaticDirectory(path, ap_validator=test_pki.ap_validator()).lookup(*IDS)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("participants: 3", "expected a mapping with a 'participants' list"),
        ("- just a list", "expected a mapping with a 'participants' list"),
        (
            "participants:\n  - id: not-an-id\n    services: []",
            r"participants\[0\]\.id: 'not-an-id' is not of the form 'scheme::value'",
        ),
        ("{{{", "is not valid YAML"),
        ("", "expected a mapping with a 'participants' list"),
    ],
)
def test_static_bad_file(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(StaticDirectoryError, match=reason):
        StaticDirectory(path)


def test_static_missing_certificate_file(tmp_path: Path, test_pki: TestPki) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(_yaml(test_pki, cert="missing.pem"))
    with pytest.raises(StaticDirectoryError, match="certificate"):
        StaticDirectory(path)


def test_static_directory_usable_where_discovery_is(static_file: Path) -> None:
    """Both classes offer every method of the EndpointDirectory protocol with the same parameters (the
    tests are not type-checked, so this is checked at run time), and a static directory answers."""
    import inspect

    for name in ("lookup", "service_group", "service_group_result"):
        wanted = inspect.signature(getattr(EndpointDirectory, name)).parameters
        for kind in (StaticDirectory, Discovery):
            got = inspect.signature(getattr(kind, name)).parameters
            for param in wanted.values():
                assert param.name in got and got[param.name].kind == param.kind, (kind, name, param)
            extra = [p for p in got.values() if p.name not in wanted]
            assert all(p.default is not inspect.Parameter.empty for p in extra), (kind, name, extra)
    directory: EndpointDirectory = StaticDirectory(static_file)
    assert directory.lookup(*IDS).endpoint.url == "https://ap.example.test/as4"


def test_static_wildcard_lookup(tmp_path: Path, test_pki: TestPki) -> None:
    from tests.smp_client.world import PINT_WILDCARD

    (tmp_path / "ap.pem").write_bytes(test_pki.aps[0].cert.read_bytes())
    path = tmp_path / "d.yaml"
    path.write_text(
        "participants:\n"
        f"  - id: {PID}\n"
        "    services:\n"
        f'      - document_type: "{PINT_WILDCARD}"\n'
        f"        process: {PROCESS}\n"
        "        endpoints:\n"
        "          - url: https://pint.example.test/as4\n"
        "            certificate: ap.pem\n"
    )
    wanted = DocumentTypeId.parse(PINT_WILDCARD.replace("billing-1*", "billing-1@sg-1"))
    result = StaticDirectory(path).lookup_wildcard(IDS[0], wanted, IDS[2])
    assert result.endpoint.url == "https://pint.example.test/as4"
    assert result.document_type.uri == PINT_WILDCARD


_SVC = f'      - document_type: "{DOCTYPE}"\n        process: {PROCESS}\n'
_HEAD = f"participants:\n  - id: {PID}\n"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            _HEAD + "    services:\n" + _SVC + "        endpoints:\n          - certificate: AAAA\n",
            "'url' is missing",
        ),
        (
            _HEAD
            + "    services:\n"
            + _SVC
            + "        endpoints:\n          - url: [1, 2]\n            certificate: AAAA\n",
            "'url' must be a string",
        ),
        (
            _HEAD + "    services:\n" + _SVC + "        endpoints:\n          - just-a-string\n",
            "an endpoint must be a mapping",
        ),
        (_HEAD, r"participants\[0\]: needs 'id' and a 'services' list"),
        (
            _HEAD + "    services:\n" + _SVC,
            r"services\[0\]: needs document_type, process and an 'endpoints' list",
        ),
    ],
    ids=["missing-url", "url-not-text", "endpoint-not-mapping", "no-services", "no-endpoints"],
)
def test_static_structure_errors_name_the_place(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(content)
    with pytest.raises(StaticDirectoryError, match=reason):
        StaticDirectory(path)


def test_static_file_over_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import smp_client.static as static

    path = tmp_path / "d.yaml"
    path.write_text("participants: []\n")
    monkeypatch.setattr(static, "MAX_STATIC_FILE_BYTES", 10)
    with pytest.raises(StaticDirectoryError, match="17 bytes exceeds 10"):
        StaticDirectory(path)


def test_static_service_group_of_an_unknown_participant(static_file: Path) -> None:
    with pytest.raises(ParticipantNotRegistered, match="9915:other is not in the static"):
        StaticDirectory(static_file).service_group(ParticipantId.parse("iso6523-actorid-upis::9915:other"))
