"""``exchange.outbound``: each stage alone, then the whole pipeline against the real receiver over HTTP
on loopback (one attempt, classified; a retry re-posts identical bytes and gets the same receipt)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from exchange import (
    DiscoveryFailed,
    EnvelopeFailed,
    FixedEndpoint,
    InvalidRequest,
    MappingFailed,
    OutboundRequest,
    ValidationFailed,
    attempt,
    build,
    discover,
    document_from_sbd,
    prepare,
    prepare_document,
)
from exchange.outbound import BAD_ENDPOINT_URL_CODE
from peppol.endpoint import TRANSPORT_PROFILE_AS4_V2, Endpoint
from peppol.identifiers import ParticipantId
from smp_client.static import StaticDirectory
from tests.transport.test_receiver_support import (
    DOCTYPE,
    PROCESS,
    RECEIVER,
    SENDER,
    Recorder,
    make_sbd,
    running_server,
    ubl_invoice,
)
from transport.sbdh import read_sbd
from transport.sender import As4Sender
from transport.server import RunningServer
from ubl.result import Item, Layer, LayerStatus, Severity, ValidationResult

SENDER_ID = ParticipantId.parse(SENDER)
RECEIVER_ID = ParticipantId.parse(RECEIVER)


def request(payload: bytes | None = None, **kw: Any) -> OutboundRequest:
    return OutboundRequest(
        payload=payload if payload is not None else ubl_invoice(), sender=SENDER_ID, receiver=RECEIVER_ID,
        c1_country="FR", **kw,
    )  # fmt: skip


def valid(document: bytes) -> ValidationResult:
    return ValidationResult(
        source="t", document_type="x", layers=[Layer(name="XSD", kind="xsd", status=LayerStatus.VALID)]
    )


def invalid(document: bytes) -> ValidationResult:
    item = Item(rule_id="BR-01", severity=Severity.FATAL, text="no ID")
    layer = Layer(name="Schematron", kind="schematron", status=LayerStatus.INVALID, items=[item])
    return ValidationResult(source="t", document_type="x", layers=[layer])


# --- stage 1: the document ---


def test_prepare_document_wraps_ubl_in_an_sbdh_with_detected_ids() -> None:
    document = prepare_document(request(instance_id="doc-1"), validator=valid)
    assert document.validation is not None and document.validation.valid
    assert str(document.document_type) == DOCTYPE and str(document.process) == PROCESS
    assert (document.sender, document.receiver, document.instance_id) == (SENDER_ID, RECEIVER_ID, "doc-1")
    assert isinstance(document.sbd, bytes)
    header = read_sbd(document.sbd).header
    assert header.instance_id == "doc-1" and header.country_c1 == "FR"


def test_invalid_document_raises_validation_failed_with_the_report() -> None:
    with pytest.raises(ValidationFailed) as info:
        prepare_document(request(), validator=invalid)
    assert info.value.code == "VALIDATION_FAILED" and info.value.permanent
    assert info.value.result.items[0].rule_id == "BR-01"
    assert "BR-01" in str(info.value)


def test_decp_platform_data_is_mapped_to_a_t004_call_for_tenders() -> None:
    from tests.mappings.decp_samples import MINIMAL_MARCHE
    from tests.mappings.decp_samples import document as decp_document

    payload = json.dumps(decp_document(MINIMAL_MARCHE)).encode()
    document = prepare_document(
        request(payload, input_format="decp", mapping_target="peppol-t004"), validator=None
    )
    assert document.document is not None and b"CallForTenders" in document.document[:400]
    assert "CallForTenders" in document.document_type.value and "t004" in document.document_type.value


def test_bad_platform_data_and_bad_requests_are_errors_with_codes_not_flags() -> None:
    with pytest.raises(MappingFailed) as mapping:
        prepare_document(request(b"{}", input_format="ocds", mapping_target="peppol-t004"), validator=None)
    assert mapping.value.code.startswith("MAPPING_")
    with pytest.raises(InvalidRequest):
        prepare_document(request(b"{}", input_format="ocds", mapping_target="eforms-cn"), validator=None)
    with pytest.raises(InvalidRequest):
        prepare_document(request(input_format="xlsx"), validator=None)  # type: ignore[arg-type]
    with pytest.raises(EnvelopeFailed) as envelope:
        prepare_document(
            OutboundRequest(ubl_invoice(), SENDER_ID, RECEIVER_ID, c1_country="France"), validator=None
        )
    assert envelope.value.code.startswith("SBDH_")
    for error in (mapping.value, envelope.value):
        assert "--" not in str(error)


def test_document_from_an_existing_sbd_keeps_its_header() -> None:
    sbd = make_sbd()
    document = document_from_sbd(sbd)
    assert document.sbd == sbd and document.sender == SENDER_ID and document.document is None


# --- stage 2: discovery ---


def static_directory(tmp_path: Path, pki: Any, url: str) -> StaticDirectory:
    entry = {
        "id": RECEIVER,
        "services": [{
            "document_type": DOCTYPE, "process": PROCESS,
            "endpoints": [{"url": url, "certificate": str(pki.aps[1].cert)}],
        }],
    }  # fmt: skip
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump({"participants": [entry]}))
    return StaticDirectory(path, ap_validator=pki.ap_validator())


def test_discover_through_a_static_directory(test_pki: Any, tmp_path: Path) -> None:
    document = prepare_document(request(), validator=None)
    endpoint = discover(document, resolver=static_directory(tmp_path, test_pki, "https://ap.example/as4"))
    assert endpoint.url == "https://ap.example/as4"
    assert endpoint.certificate == test_pki.aps[1].certificate()


def test_unregistered_participant_is_a_permanent_discovery_failure(test_pki: Any, tmp_path: Path) -> None:
    document = prepare_document(request(), validator=None)
    other = prepare_document(
        OutboundRequest(ubl_invoice(), SENDER_ID, ParticipantId.parse("iso6523-actorid-upis::0088:1"), "FR"),
        validator=None,
    )
    directory = static_directory(tmp_path, test_pki, "https://ap.example/as4")
    with pytest.raises(DiscoveryFailed) as info:
        discover(other, resolver=directory)
    assert info.value.permanent and info.value.code == "PARTICIPANT_NOT_REGISTERED"
    assert discover(document, resolver=directory).url == "https://ap.example/as4"


def test_fixed_endpoint_refuses_an_untrusted_certificate(test_pki: Any) -> None:
    document = prepare_document(request(), validator=None)
    resolver = FixedEndpoint(
        Endpoint("https://x/as4", TRANSPORT_PROFILE_AS4_V2, test_pki.revoked_ap.certificate()),
        validate_certificate=test_pki.ap_validator(crls=(test_pki.ap_crl.read_bytes(),)).validate,
    )
    with pytest.raises(DiscoveryFailed) as info:
        discover(document, resolver=resolver)
    assert info.value.permanent and info.value.code == "UNTRUSTED_ENDPOINT_CERTIFICATE"


# --- build + attempt against the real receiver ---


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[RunningServer]:
    yield from running_server(test_pki, tmp_path_factory.mktemp("outbound"), recorder)


def test_prepare_then_attempt_delivers_and_a_retry_gets_the_same_receipt(
    test_pki: Any, tmp_path: Path, server: RunningServer, recorder: Recorder
) -> None:
    directory = static_directory(tmp_path, test_pki, server.url)
    message = prepare(request(), validator=valid, resolver=directory, identity=test_pki.aps[0].identity())
    assert message.endpoint.url == server.url
    with As4Sender(allow_http=True, validate_signer=test_pki.ap_validator().validate) as sender:
        first = attempt(message, message.endpoint, sender=sender)
        again = attempt(message, message.endpoint, sender=sender)
    assert first.delivered and first.receipt is not None and first.evidence is not None
    assert first.evidence.ref_to_message_id == message.message_id and first.receipt_id
    assert again.delivered and again.receipt == first.receipt
    assert [m.message_id for m in recorder.persisted].count(message.message_id) == 1
    assert message.body_bytes() == message.message.body


def test_attempt_failures_are_classified(test_pki: Any, server: RunningServer, recorder: Recorder) -> None:
    document = prepare_document(request(), validator=None)
    endpoint = Endpoint(server.url, TRANSPORT_PROFILE_AS4_V2, test_pki.aps[1].certificate())
    message = build(document, endpoint, identity=test_pki.aps[0].identity())
    recorder.served = False
    try:
        with As4Sender(allow_http=True) as sender:
            refused = attempt(message, endpoint, sender=sender)
    finally:
        recorder.served = True
    assert not refused.delivered and refused.permanent
    assert (refused.code, refused.detail) == ("EBMS:0004", "PEPPOL:NOT_SERVICED")
    with As4Sender() as strict:  # plain http without the explicit flag: refused before any connection
        insecure = attempt(message, endpoint, sender=strict)
    assert insecure.code == BAD_ENDPOINT_URL_CODE and insecure.permanent
    closed = Endpoint("http://127.0.0.1:9/as4", TRANSPORT_PROFILE_AS4_V2, test_pki.aps[1].certificate())
    with As4Sender(allow_http=True, connect_timeout=2) as sender:
        down = attempt(message, closed, sender=sender)
    assert not down.delivered and not down.permanent and down.http_status is None
    assert message.message_id not in {m.message_id for m in recorder.persisted}


def test_a_document_of_no_known_type_is_an_invalid_request_not_a_crash(tmp_path: Path) -> None:
    """The real validator raises ``UnknownDocumentType`` for a root no rule set applies to; the REST
    API answered that with a 500 — it is the caller's input: ``InvalidRequest`` with its code."""
    from functools import partial

    from ubl.artifacts import ArtifactStore
    from ubl.validate import validate_document

    validator = partial(validate_document, store=ArtifactStore(tmp_path))
    with pytest.raises(InvalidRequest) as info:
        prepare_document(request(b"<x/>"), validator=validator)
    assert info.value.code == "UNKNOWN_DOCUMENT_TYPE" and info.value.permanent
    assert "unknown document type" in str(info.value)
