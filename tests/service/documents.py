"""Documents of the service tests: the marketplace's OCDS consultation (read from the official T004
example) and the partner's T005 Tender answering it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

T004_EXAMPLE = "peppol-preaward/guides/transactions/T004/files/call-for-tenders-instance.xml"


def ocds_consultation(corpus: Path) -> bytes:
    """The official T004 example read as an OCDS release (what the platform holds)."""
    from mappings.convert import convert

    return convert((corpus / T004_EXAMPLE).read_bytes(), source="ubl", target="ocds").data


def tender(folder_id: str, call_id: str, *, now: datetime | None = None) -> bytes:
    """A T005 Tender (UBL 2.2) from the partner (DE VAT) to the marketplace (SIRET)."""
    now = now or datetime.now(UTC)
    offer_hash = hashlib.sha256(b"offer " + folder_id.encode()).hexdigest()
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
