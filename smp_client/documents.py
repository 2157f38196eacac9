"""Read SMP XML documents of the three dialects into :mod:`smp_client.model` objects.

The input is an already hardened-parsed tree (``peppol.xml.parse_bytes``). Unknown roots or missing
mandatory parts raise :class:`~smp_client.errors.SmpXmlError`; optional, informational fields are
read leniently because live SMPs deviate from the XSDs (phoss-smp #337).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from urllib.parse import unquote

from lxml import etree

from peppol.xml import XmlMixedContentError, simple_text
from smp_client.errors import SmpXmlError
from smp_client.model import (
    EndpointRecord,
    ProcessRecord,
    RawId,
    RedirectRecord,
    ServiceGroupDoc,
    ServiceMetadataDoc,
    SmpDialect,
)

NS_PEPPOL: Final = "http://busdox.org/serviceMetadata/publishing/1.0/"
NS_PEPPOL_IDS: Final = "http://busdox.org/transport/identifiers/1.0/"
NS_WSA: Final = "http://www.w3.org/2005/08/addressing"
NS_BDXR1: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
NS_BDXR2_SG: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceGroup"
NS_BDXR2_SM: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceMetadata"
NS_BDXR2_CAC: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents"
NS_BDXR2_CBC: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents"
NS_DSIG: Final = "http://www.w3.org/2000/09/xmldsig#"


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _text(el: etree._Element | None) -> str | None:
    """The trimmed value of ``el`` (``None`` when absent or empty). A processing instruction or element
    inside a value is refused: ``el.text`` would stop there, handing out a truncation of what the SMP
    signed (comments are gone already: the signed tree is re-parsed from its canonical form)."""
    if el is None:
        return None
    try:
        value = simple_text(el).strip()
    except XmlMixedContentError as exc:
        raise SmpXmlError(f"SMP response: {exc}") from exc
    return value or None


def _required_text(el: etree._Element | None, what: str) -> str:
    value = _text(el)
    if value is None:
        raise SmpXmlError(f"SMP response lacks {what}")
    return value


def _id(el: etree._Element | None, attr: str, what: str) -> RawId:
    if el is None:
        raise SmpXmlError(f"SMP response lacks {what}")
    return RawId((el.get(attr) or "").strip(), _required_text(el, what))


def parse_xs_datetime(text: str, *, end_of_day: bool = False) -> datetime:
    """``xs:dateTime`` or ``xs:date`` as an aware UTC datetime (values without zone are UTC).

    A bare date used as an expiration (``end_of_day``) means "through that day"; the end of the last
    representable day (``9999-12-31``, a common "never expires") is clamped to ``datetime.max`` UTC.
    Zone offsets beyond ±14:00 (XML Schema's bound) and values outside the datetime range are
    :class:`SmpXmlError`.
    """
    raw = text.strip()
    try:
        if "T" in raw:
            value = datetime.fromisoformat(raw.replace("z", "Z"))
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            _check_offset(value.utcoffset(), text)
            return value.astimezone(UTC)
        day = date.fromisoformat(raw[:10])
        rest = raw[10:]
        offset = timedelta(0)
        if rest and rest != "Z":
            match = _ZONE_OFFSET_RE.fullmatch(rest)
            if match is None:
                raise SmpXmlError(f"invalid time zone {rest!r} in date {text!r} in SMP response")
            sign = -1 if match["sign"] == "-" else 1
            offset = sign * timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
            _check_offset(offset, text)
        start = datetime.combine(day, time(0), tzinfo=UTC) - offset
        if not end_of_day:
            return start
        return start + timedelta(days=1) if start < _LAST_DAY_START else _MAX_UTC
    except (ValueError, OverflowError) as exc:
        raise SmpXmlError(f"invalid or out-of-range date/time {text!r} in SMP response") from exc


#: XML Schema bounds time zone offsets to -14:00..+14:00.
MAX_ZONE_OFFSET: Final = timedelta(hours=14)
_ZONE_OFFSET_RE: Final = re.compile(r"(?P<sign>[+-])(?P<hours>[0-9]{2}):(?P<minutes>[0-5][0-9])")
_MAX_UTC: Final = datetime.max.replace(tzinfo=UTC)
#: From here on, "the end of the day" is past ``datetime.max``: it is clamped.
_LAST_DAY_START: Final = _MAX_UTC - timedelta(days=1)


def _check_offset(offset: timedelta | None, text: str) -> None:
    if offset is not None and abs(offset) > MAX_ZONE_OFFSET:
        raise SmpXmlError(f"time zone offset beyond ±14:00 in {text!r} in SMP response")


def _optional_datetime(el: etree._Element | None, *, end_of_day: bool = False) -> datetime | None:
    value = _text(el)
    return None if value is None else parse_xs_datetime(value, end_of_day=end_of_day)


def detect_dialect(root: etree._Element) -> SmpDialect:
    """The dialect of a ServiceGroup / (Signed)ServiceMetadata root element."""
    ns = etree.QName(root).namespace
    if ns == NS_PEPPOL:
        return SmpDialect.PEPPOL
    if ns == NS_BDXR1:
        return SmpDialect.BDXR1
    if ns in (NS_BDXR2_SG, NS_BDXR2_SM):
        return SmpDialect.BDXR2
    raise SmpXmlError(f"not an SMP document: root element {root.tag}")


# --- ServiceGroup --------------------------------------------------------------------------------


def doctype_from_href(href: str) -> RawId | None:
    """Extract the document type from a ServiceMetadataReference href (raw or percent-encoded).

    The href itself is never requested: live ServiceGroups still carry dead ``http://B-...`` hosts.
    """
    lowered = href.lower()
    for marker in ("/services/", "%2fservices%2f"):
        pos = lowered.rfind(marker)
        if pos >= 0:
            tail = unquote(href[pos + len(marker) :]).strip()
            if not tail:
                return None
            scheme, sep, value = tail.partition("::")
            return RawId(scheme, value) if sep else RawId("", tail)
    return None


def parse_service_group(root: etree._Element) -> ServiceGroupDoc:
    """Read a ServiceGroup of any dialect."""
    dialect = detect_dialect(root)
    if etree.QName(root).localname != "ServiceGroup":
        raise SmpXmlError(f"expected a ServiceGroup, got {root.tag}")
    if dialect is SmpDialect.BDXR2:
        participant = _id(root.find(_q(NS_BDXR2_CBC, "ParticipantID")), "schemeID", "ParticipantID")
        doctypes = tuple(
            _id(ref.find(_q(NS_BDXR2_CBC, "ID")), "schemeID", "ServiceReference/ID")
            for ref in root.iterfind(_q(NS_BDXR2_CAC, "ServiceReference"))
        )
        return ServiceGroupDoc(dialect, participant, doctypes)
    ns = NS_PEPPOL if dialect is SmpDialect.PEPPOL else NS_BDXR1
    ids_ns = NS_PEPPOL_IDS if dialect is SmpDialect.PEPPOL else NS_BDXR1
    participant = _id(root.find(_q(ids_ns, "ParticipantIdentifier")), "scheme", "ParticipantIdentifier")
    hrefs: list[str] = []
    doctypes_list: list[RawId] = []
    collection = root.find(_q(ns, "ServiceMetadataReferenceCollection"))
    if collection is not None:
        for ref in collection.iterfind(_q(ns, "ServiceMetadataReference")):
            href = (ref.get("href") or "").strip()
            if not href:
                continue
            hrefs.append(href)
            doctype = doctype_from_href(href)
            if doctype is not None:
                doctypes_list.append(doctype)
    return ServiceGroupDoc(dialect, participant, tuple(doctypes_list), tuple(hrefs))


# --- ServiceMetadata -----------------------------------------------------------------------------


def _v1_endpoint(ep: etree._Element, dialect: SmpDialect) -> EndpointRecord:
    ns = NS_PEPPOL if dialect is SmpDialect.PEPPOL else NS_BDXR1
    profile = (ep.get("transportProfile") or "").strip()
    if not profile:
        raise SmpXmlError("Endpoint without transportProfile")
    if dialect is SmpDialect.PEPPOL:
        url = _required_text(ep.find(f"{_q(NS_WSA, 'EndpointReference')}/{_q(NS_WSA, 'Address')}"), "Address")
    else:
        url = _required_text(ep.find(_q(ns, "EndpointURI")), "EndpointURI")
    cert = _text(ep.find(_q(ns, "Certificate")))
    return EndpointRecord(
        transport_profile=profile,
        url=url,
        certificates=(cert,) if cert and cert.strip() else (),
        activation=_optional_datetime(ep.find(_q(ns, "ServiceActivationDate"))),
        expiration=_optional_datetime(ep.find(_q(ns, "ServiceExpirationDate")), end_of_day=True),
        description=_text(ep.find(_q(ns, "ServiceDescription"))),
        technical_contact=_text(ep.find(_q(ns, "TechnicalContactUrl"))),
        technical_information=_text(ep.find(_q(ns, "TechnicalInformationUrl"))),
    )


def _v1_redirect(el: etree._Element, ns: str) -> RedirectRecord:
    href = (el.get("href") or "").strip()
    if not href:
        raise SmpXmlError("Redirect without href")
    return RedirectRecord(href=href, certificate_uid=_text(el.find(_q(ns, "CertificateUID"))))


def _parse_v1_metadata(root: etree._Element, dialect: SmpDialect) -> ServiceMetadataDoc:
    ns = NS_PEPPOL if dialect is SmpDialect.PEPPOL else NS_BDXR1
    ids_ns = NS_PEPPOL_IDS if dialect is SmpDialect.PEPPOL else NS_BDXR1
    if root.tag != _q(ns, "SignedServiceMetadata"):
        raise SmpXmlError(f"expected SignedServiceMetadata, got {root.tag}")
    sm = root.find(_q(ns, "ServiceMetadata"))
    if sm is None:
        raise SmpXmlError("SignedServiceMetadata without ServiceMetadata")
    redirect_el = sm.find(_q(ns, "Redirect"))
    if redirect_el is not None:
        return ServiceMetadataDoc(dialect, None, None, redirect=_v1_redirect(redirect_el, ns))
    info = sm.find(_q(ns, "ServiceInformation"))
    if info is None:
        raise SmpXmlError("ServiceMetadata has neither ServiceInformation nor Redirect")
    participant = _id(info.find(_q(ids_ns, "ParticipantIdentifier")), "scheme", "ParticipantIdentifier")
    doctype = _id(info.find(_q(ids_ns, "DocumentIdentifier")), "scheme", "DocumentIdentifier")
    processes: list[ProcessRecord] = []
    plist = info.find(_q(ns, "ProcessList"))
    for proc in plist.iterfind(_q(ns, "Process")) if plist is not None else ():
        pid = _id(proc.find(_q(ids_ns, "ProcessIdentifier")), "scheme", "ProcessIdentifier")
        eplist = proc.find(_q(ns, "ServiceEndpointList"))
        endpoints = tuple(
            _v1_endpoint(ep, dialect)
            for ep in (eplist.iterfind(_q(ns, "Endpoint")) if eplist is not None else ())
        )
        processes.append(ProcessRecord((pid,), endpoints))
    return ServiceMetadataDoc(dialect, participant, doctype, tuple(processes))


def _bdxr2_certs(parent: etree._Element) -> tuple[str, ...]:
    certs: list[str] = []
    for cert in parent.iterfind(_q(NS_BDXR2_CAC, "Certificate")):
        content = _text(cert.find(_q(NS_BDXR2_CBC, "ContentBinaryObject")))
        if content:
            certs.append(content)
    return tuple(certs)


def _bdxr2_endpoint(ep: etree._Element) -> EndpointRecord:
    cbc = NS_BDXR2_CBC
    return EndpointRecord(
        transport_profile=_required_text(ep.find(_q(cbc, "TransportProfileID")), "TransportProfileID"),
        url=_required_text(ep.find(_q(cbc, "AddressURI")), "AddressURI"),
        certificates=_bdxr2_certs(ep),
        activation=_optional_datetime(ep.find(_q(cbc, "ActivationDate"))),
        expiration=_optional_datetime(ep.find(_q(cbc, "ExpirationDate")), end_of_day=True),
        description=_text(ep.find(_q(cbc, "Description"))),
        technical_contact=_text(ep.find(_q(cbc, "Contact"))),
    )


def _parse_bdxr2_metadata(root: etree._Element) -> ServiceMetadataDoc:
    if root.tag != _q(NS_BDXR2_SM, "ServiceMetadata"):
        raise SmpXmlError(f"expected ServiceMetadata, got {root.tag}")
    cbc, cac = NS_BDXR2_CBC, NS_BDXR2_CAC
    participant = _id(root.find(_q(cbc, "ParticipantID")), "schemeID", "ParticipantID")
    doctype = _id(root.find(_q(cbc, "ID")), "schemeID", "ID")
    processes: list[ProcessRecord] = []
    for meta in root.iterfind(_q(cac, "ProcessMetadata")):
        pids = tuple(
            _id(p.find(_q(cbc, "ID")), "schemeID", "Process/ID") for p in meta.iterfind(_q(cac, "Process"))
        )
        redirect_el = meta.find(_q(cac, "Redirect"))
        if redirect_el is not None:
            href = _required_text(redirect_el.find(_q(cbc, "PublisherURI")), "Redirect/PublisherURI")
            redirect = RedirectRecord(href=href, certificates=_bdxr2_certs(redirect_el))
            processes.append(ProcessRecord(pids, redirect=redirect))
            continue
        endpoints = tuple(_bdxr2_endpoint(ep) for ep in meta.iterfind(_q(cac, "Endpoint")))
        processes.append(ProcessRecord(pids, endpoints))
    return ServiceMetadataDoc(SmpDialect.BDXR2, participant, doctype, tuple(processes))


def parse_service_metadata(root: etree._Element) -> ServiceMetadataDoc:
    """Read a SignedServiceMetadata (Peppol, BDXR 1) or ServiceMetadata (BDXR 2) document."""
    dialect = detect_dialect(root)
    if dialect is SmpDialect.BDXR2:
        return _parse_bdxr2_metadata(root)
    return _parse_v1_metadata(root, dialect)
