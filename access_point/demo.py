"""``make demo``: the four-corner exchange on loopback, with real components end to end.

C1 (the marketplace) hands a call for tenders to C2 (our access point): it is validated, wrapped in an
SBDH, the receiver's endpoint is discovered (static directory, certificate validated against the AP
trust store), and the document is signed, encrypted and posted over TLS to C3 (a partner access point:
the same receiver core a partner would run), which verifies it, persists it for C4 and answers with a
signed receipt that C2 verifies. The identical bytes are then re-posted, as a retry would, to show the
duplicate is answered with the stored receipt and not delivered twice. Finally the partner platform
answers with a tender, which travels the same way back to the marketplace.

Everything runs in this process on 127.0.0.1 with a freshly generated test PKI under ``var/demo``.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml
from rich.console import Console
from rich.table import Table

from access_point.store import Store, open_store
from exchange import (
    AttemptOutcome,
    OutboundRequest,
    PreparedMessage,
    attempt,
    build,
    discover,
    prepare_document,
)
from peppol.identifiers import ParticipantId
from peppol.pki import CertificateValidator, seat_id
from peppol.testpki import KeyPairFiles, TestPki, generate_test_pki
from smp_client.static import StaticDirectory
from transport.receiver import CallbackHooks, ReceiverConfig
from transport.sbdh import read_sbd
from transport.sender import As4Sender
from transport.server import RunningServer, create_app, start_server
from ubl.result import ValidationResult

#: Where the demo writes its PKI, directory and inboxes (ignored by git).
DEMO_DIR: Final = Path("var/demo")
#: C1: the marketplace (a French contracting authority platform, SIRET).
MARKETPLACE: Final = ParticipantId.parse("iso6523-actorid-upis::0009:78430177200025")
#: C4: the partner platform (a German economic operator, DE VAT).
PARTNER: Final = ParticipantId.parse("iso6523-actorid-upis::9930:de298946909")


@dataclass(frozen=True)
class Corner:
    """One access point of the demo: its identity files, its store (ledger + payloads) and its running
    /as4 server."""

    name: str
    keys: KeyPairFiles
    store: Store
    server: RunningServer


def call_for_tenders(folder_id: str, call_id: str, now: datetime) -> bytes:
    """C1's document: a Peppol pre-award T004 CallForTenders 1.2 (UBL 2.2)."""
    deadline = (now + timedelta(days=30)).date().isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CallForTenders xmlns="urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID>2.2</cbc:UBLVersionID>
  <cbc:CustomizationID>urn:fdc:peppol.eu:prac:trns:t004:1.2</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:prac:bis:p002:1.2</cbc:ProfileID>
  <cbc:ID schemeURI="urn:uuid">{call_id}</cbc:ID>
  <cbc:ContractFolderID>{folder_id}</cbc:ContractFolderID>
  <cbc:IssueDate>{now.date().isoformat()}</cbc:IssueDate>
  <cbc:IssueTime>{now.strftime("%H:%M:%S")}Z</cbc:IssueTime>
  <cbc:VersionID>1</cbc:VersionID>
  <cac:ContractingParty>
    <cac:Party>
      <cbc:EndpointID schemeID="0009">78430177200025</cbc:EndpointID>
      <cac:PartyIdentification><cbc:ID schemeID="0009">78430177200025</cbc:ID></cac:PartyIdentification>
      <cac:PartyName><cbc:Name>Region Marketplace - Purchasing Department</cbc:Name></cac:PartyName>
      <cac:PartyLegalEntity>
        <cac:RegistrationAddress>
          <cac:Country>
            <cbc:IdentificationCode listID="ISO3166-1:Alpha2">FR</cbc:IdentificationCode>
          </cac:Country>
        </cac:RegistrationAddress>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:ContractingParty>
  <cac:TenderingTerms>
    <cbc:VariantConstraintIndicator>false</cbc:VariantConstraintIndicator>
    <cac:TenderRecipientParty>
      <cbc:EndpointID schemeID="0009">78430177200025</cbc:EndpointID>
    </cac:TenderRecipientParty>
  </cac:TenderingTerms>
  <cac:TenderingProcess>
    <cbc:ProcedureCode listID="PR_PROC">open</cbc:ProcedureCode>
    <cbc:SubmissionMethodCode listID="BII_SUBMISSION">ELECTRONIC</cbc:SubmissionMethodCode>
    <cac:TenderSubmissionDeadlinePeriod>
      <cbc:EndDate>{deadline}</cbc:EndDate>
      <cbc:EndTime>12:00:00Z</cbc:EndTime>
    </cac:TenderSubmissionDeadlinePeriod>
  </cac:TenderingProcess>
  <cac:ProcurementProject>
    <cbc:Name>School laptops 2027</cbc:Name>
    <cbc:Description>Supply of 400 laptops for the region's secondary schools.</cbc:Description>
    <cbc:ProcurementTypeCode listID="PROJECT_TYPE">1</cbc:ProcurementTypeCode>
    <cac:MainCommodityClassification>
      <cbc:ItemClassificationCode listID="CPV">30213100</cbc:ItemClassificationCode>
    </cac:MainCommodityClassification>
    <cac:RealizedLocation><cbc:ID schemeID="NUTS">FRL04</cbc:ID></cac:RealizedLocation>
  </cac:ProcurementProject>
</CallForTenders>
""".encode()


def tender(folder_id: str, call_id: str, now: datetime) -> bytes:
    """C4's answer: a Peppol pre-award T005 Tender 1.2 (UBL 2.2) referring to the call for tenders; the
    offer itself (an encrypted ``.p7m``) is referenced by its SHA-256, as T005 requires."""
    offer_hash = hashlib.sha256(b"demo offer " + folder_id.encode()).hexdigest()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Tender xmlns="urn:oasis:names:specification:ubl:schema:xsd:Tender-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID>2.2</cbc:UBLVersionID>
  <cbc:CustomizationID>urn:fdc:peppol.eu:prac:trns:t005:1.2</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:prac:bis:p003:1.2</cbc:ProfileID>
  <cbc:ID schemeURI="urn:uuid">{uuid.uuid4()}</cbc:ID>
  <cbc:ContractFolderID>{folder_id}</cbc:ContractFolderID>
  <cbc:IssueDate>{now.date().isoformat()}</cbc:IssueDate>
  <cbc:IssueTime>{now.strftime("%H:%M:%S")}Z</cbc:IssueTime>
  <cac:DocumentReference>
    <cbc:ID>{call_id}</cbc:ID>
    <cbc:DocumentTypeCode listID="UNCL1001">311</cbc:DocumentTypeCode>
    <cbc:DocumentDescription>Call for tenders</cbc:DocumentDescription>
  </cac:DocumentReference>
  <cac:DocumentReference>
    <cbc:ID>offer-1</cbc:ID>
    <cbc:DocumentTypeCode listID="UNCL1001">310</cbc:DocumentTypeCode>
    <cbc:DocumentDescription>Technical and financial offer</cbc:DocumentDescription>
    <cac:Attachment>
      <cac:ExternalReference>
        <cbc:DocumentHash>{offer_hash}</cbc:DocumentHash>
        <cbc:HashAlgorithmMethod>http://www.w3.org/2001/04/xmlenc#sha256</cbc:HashAlgorithmMethod>
        <cbc:MimeCode>application/pdf</cbc:MimeCode>
        <cbc:FileName>offer.pdf.p7m</cbc:FileName>
      </cac:ExternalReference>
    </cac:Attachment>
  </cac:DocumentReference>
  <cac:TendererParty>
    <cbc:EndpointID schemeID="9930">DE298946909</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID schemeID="0088">4012345000009</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Muster Computer GmbH</cbc:Name></cac:PartyName>
  </cac:TendererParty>
  <cac:ContractingParty>
    <cac:Party>
      <cbc:EndpointID schemeID="0009">78430177200025</cbc:EndpointID>
      <cac:PartyIdentification><cbc:ID schemeID="0009">78430177200025</cbc:ID></cac:PartyIdentification>
      <cac:PartyName><cbc:Name>Region Marketplace - Purchasing Department</cbc:Name></cac:PartyName>
    </cac:Party>
  </cac:ContractingParty>
  <cac:TenderedProject>
    <cac:ProcurementProjectLot><cbc:ID>NA</cbc:ID></cac:ProcurementProjectLot>
  </cac:TenderedProject>
</Tender>
""".encode()


def _start_corner(name: str, keys: KeyPairFiles, serves: ParticipantId, pki: TestPki, root: Path) -> Corner:
    validator: CertificateValidator = pki.ap_validator()
    store = open_store(root / f"{name}-inbox")
    hooks = CallbackHooks(is_served_fn=lambda receiver, _d, _p: receiver == serves)
    work = root / f"{name}-work"
    work.mkdir(parents=True, exist_ok=True)
    config = ReceiverConfig(
        identity=keys.identity(), validate_signer=validator.validate, ledger=store.ledger, work_dir=work
    )
    server = start_server(
        create_app(config, hooks),
        tls_cert=pki.tls_server.cert,
        tls_key=pki.tls_server.key,
        url_host="localhost",
    )
    return Corner(name, keys, store, server)


def _write_directory(
    path: Path, corners: dict[ParticipantId, Corner], doctypes: list[tuple[str, str]]
) -> None:
    """The static directory (closed-network replacement for SML + SMP): who is served where."""
    participants: list[dict[str, Any]] = []
    for participant, corner in corners.items():
        services = [
            {
                "document_type": doctype,
                "process": process,
                "endpoints": [
                    {
                        "url": corner.server.url,
                        "certificate": str(corner.keys.cert.resolve()),
                        "description": f"{corner.name} access point",
                    }
                ],
            }
            for doctype, process in doctypes
        ]
        participants.append({"id": participant.uri, "services": services})
    path.write_text(yaml.safe_dump({"participants": participants}, sort_keys=False))


#: Where the official artifacts come from when the team corpus sits beside the repository.
CORPUS_DIR: Final = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DEMO_ARTIFACT_SETS: Final = ("ubl-2.2", "peppol-preaward")


def _artifact_store(root: Path) -> Any:
    """The user's artifact store when it has the pre-award sets; else, offline, a demo store installed
    from ``../shared/corpus`` (verified against the shipped manifests); else the user's store as is."""
    from ubl.artifacts import ArtifactStore, default_store, install_from_corpus

    store = default_store()
    if all(store.is_installed(name) for name in DEMO_ARTIFACT_SETS) or not CORPUS_DIR.is_dir():
        return store
    demo_store = ArtifactStore(root / "artifacts")
    install_from_corpus(demo_store, CORPUS_DIR, DEMO_ARTIFACT_SETS)
    return demo_store


def _validator(root: Path) -> Callable[[bytes | Path], ValidationResult]:
    """The official validation (XSD + Schematron) when the artifacts can be had offline; else a result
    with no layers (valid), shown as skipped."""

    def validate(document: bytes | Path) -> ValidationResult:
        from ubl.artifacts import ArtifactError
        from ubl.validate import validate_document

        try:
            return validate_document(document, store=_artifact_store(root))
        except ArtifactError as exc:
            return ValidationResult(source=f"skipped ({exc})", document_type=None)

    return validate


def _describe(result: ValidationResult | None) -> str:
    if result is None or not result.layers:
        reason = result.source if result is not None else "not run"
        return f"{reason}; run `ap artifacts install peppol-preaward` and `ubl-2.2`"
    failures = [f"{i.rule_id}" for i in result.items if i.severity.is_failure]
    layers = ", ".join(f"{layer.name}: {layer.status}" for layer in result.layers)
    return (
        f"{'valid' if result.valid else 'INVALID'} ({layers}){' ' + ' '.join(failures) if failures else ''}"
    )


def _send(
    request: OutboundRequest,
    *,
    c2: Corner,
    directory: StaticDirectory,
    pki: TestPki,
    root: Path,
    log: Callable[[str, str], None],
) -> tuple[AttemptOutcome, PreparedMessage]:
    """C2's outbound pipeline through :mod:`exchange`: validate + SBDH, discovery, sign + encrypt, one
    attempt over TLS (receipt verified), then the identical bytes re-posted as a retry would."""
    document = prepare_document(request, validator=_validator(root))
    log("validate", _describe(document.validation))
    log("SBDH", f"{document.document_type.value.split('##')[1]} instance {document.instance_id}")
    endpoint = discover(document, resolver=directory)
    log("discovery", f"{endpoint.url} (certificate {seat_id(endpoint.certificate)})")
    message = build(document, endpoint, identity=c2.keys.identity())
    log(
        "AS4",
        f"message {message.message_id}: signed (RSA-SHA256), encrypted (AES-128-GCM), {message.message.size}"
        " bytes",
    )
    with As4Sender(ca_bundle=pki.tls_ca.cert, validate_signer=pki.ap_validator().validate) as client:
        outcome = attempt(message, endpoint, sender=client)
        log("receipt", outcome.summary)
        again = attempt(message, endpoint, sender=client)
        same = again.receipt == outcome.receipt
        log("retry", f"identical bytes re-posted: {again.summary}; same receipt returned: {same}")
    return outcome, message


def run(root: Path = DEMO_DIR, console: Console | None = None) -> int:
    """Run the exchange; returns the process exit code (0 when both directions were delivered once)."""
    console = console or Console(width=None if sys.stdout.isatty() else 150)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    table = Table(title="Four-corner exchange on loopback", show_lines=False)
    table.add_column("corner")
    table.add_column("step")
    table.add_column("result", overflow="fold")

    def log(step: str, text: str, corner: str = "") -> None:
        table.add_row(corner, step, text)

    pki = generate_test_pki(root / "pki", ap_count=2)
    log(
        "PKI", f"test PKI in {pki.directory} (APs {', '.join(k.seat_id or k.name for k in pki.aps)})", "setup"
    )
    ours = _start_corner("marketplace-ap", pki.aps[0], MARKETPLACE, pki, root)
    partner = _start_corner("partner-ap", pki.aps[1], PARTNER, pki, root)
    try:
        doctypes = [
            (
                "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:CallForTenders-2::CallForTenders"
                "##urn:fdc:peppol.eu:prac:trns:t004:1.2::2.2",
                "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p002:1.2",
            ),
            (
                "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Tender-2::Tender"
                "##urn:fdc:peppol.eu:prac:trns:t005:1.2::2.2",
                "cenbii-procid-ubl::urn:fdc:peppol.eu:prac:bis:p003:1.2",
            ),
        ]
        directory_file = root / "directory.yaml"
        _write_directory(directory_file, {MARKETPLACE: ours, PARTNER: partner}, doctypes)
        directory = StaticDirectory(directory_file, ap_validator=pki.ap_validator())
        log("servers", f"C2 {ours.server.url}  C3 {partner.server.url} (TLS)", "setup")

        now = datetime.now(UTC)
        folder, call_id = str(uuid.uuid4()), str(uuid.uuid4())
        # (document, its name, sender, receiver, sending AP, receiving AP, C1 country, corner labels)
        legs = [
            (call_for_tenders(folder, call_id, now), "CallForTenders", MARKETPLACE, PARTNER, ours, partner,
             "FR", ("C1", "C2", "C3→C4")),
            (tender(folder, call_id, now), "Tender", PARTNER, MARKETPLACE, partner, ours,
             "DE", ("C4", "C3", "C2→C1")),
        ]  # fmt: skip
        ok = True
        for document, name, sender, receiver, sending, receiving, country, (origin, via, dest) in legs:
            log("document", f"{name} for folder {folder} ({len(document)} bytes)", origin)
            request = OutboundRequest(payload=document, sender=sender, receiver=receiver, c1_country=country)
            outcome, message = _send(
                request,
                c2=sending,
                directory=directory,
                pki=pki,
                root=root,
                log=functools.partial(_log_as, log, via),
            )
            ok = _delivered(receiving, message.message_id, log, dest) and outcome.delivered and ok
    finally:
        for corner in (ours, partner):
            corner.server.stop()
            corner.store.close()
    console.print(table)
    console.print(
        f"[{'green' if ok else 'red'}]{'Exchange complete' if ok else 'Exchange FAILED'}[/]: files in {root}"
    )
    return 0 if ok else 1


def _log_as(log: Callable[[str, str, str], None], corner: str, step: str, text: str) -> None:
    log(step, text, corner)


def _delivered(corner: Corner, message_id: str, log: Callable[[str, str, str], None], who: str) -> bool:
    """Check the receiving corner's ledger holds exactly one copy and show what its platform gets."""
    ledger = corner.store.ledger
    record = ledger.get_by_message_id(message_id)
    if record is None:
        log("inbox", f"message {message_id} NOT delivered", who)
        return False
    with ledger.open_payload(record) as fh:
        parsed = read_sbd(fh)
    count = ledger.count()
    log(
        "inbox",
        f"{count} message(s) in {corner.name}'s ledger: {parsed.payload.local_name} from "
        f"{record.sender} (C1 country {record.country_c1}, receipt {record.receipt_id})",
        who,
    )
    return count == 1


def main() -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
