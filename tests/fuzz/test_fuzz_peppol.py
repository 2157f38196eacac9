"""Fuzz ``peppol``: hardened XML parsing, identifier parsing, PKI loaders (typed errors only)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from peppol.identifiers import (
    DocumentTypeId,
    IdentifierError,
    ParticipantId,
    ProcessId,
    check_identifier,
    guess_kind,
    resolve_zone,
    sml_cname_name,
    sml_naptr_name,
    split_uri,
)
from peppol.pki import (
    CertificateError,
    CertificateValidator,
    Identity,
    KeyLoadError,
    Purpose,
    TrustStore,
    load_certificate,
    load_certificates,
    load_pkcs12,
    load_private_key,
    name_purpose,
    name_stage,
    seat_id,
)
from peppol.xml import XmlCanonicalizationError, XmlError, c14n10, exc_c14n, parse_bytes
from tests.fuzz import fuzz_settings, mutated, token_mutated

# --- peppol.xml.parse_bytes --------------------------------------------------------------------------

_XML_SEED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="urn:a">'
    b'<env:Header a:x="1"><a:MessageId>id-1@x</a:MessageId><!-- c --></env:Header>'
    b"<env:Body><a:p>text &amp; <![CDATA[raw]]> &#233;</a:p><?pi data?></env:Body></env:Envelope>\n"
)
_XML_TOKENS = (b"<", b">", b"/", b"?>", b"<!--", b"-->", b"xmlns", b":", b'"', b"&", b";", b"[", b"]")

_PROLOGS = st.sampled_from(
    (
        b"",
        b'<?xml version="1.0"?>',
        b'<?xml version="1.0" encoding="UTF-16"?>',
        b'<?xml version="1.0" encoding="ISO-8859-1"?>',
        b'<?xml version="1.0" encoding="nonsense"?>',
        b'<?xml version="1.1"?>',
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"<!DOCTYPE x>",
        b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
        b"<!-- <!DOCTYPE x> -->",
    )
)


def _parse_only_typed(data: bytes, **kw: Any) -> None:
    try:
        tree = parse_bytes(data, **kw)
    except XmlError as exc:
        assert exc.code.startswith("xml-")
        assert str(exc)
        return
    root = tree.getroot()
    for canonicalise in (exc_c14n, c14n10):
        try:
            assert canonicalise(root)
        except XmlCanonicalizationError as exc:
            assert exc.code == "xml-c14n"


@fuzz_settings(200)
@given(st.one_of(mutated(_XML_SEED, max_ops=6), token_mutated(_XML_SEED, _XML_TOKENS, max_ops=4)))
def test_parse_bytes_mutated_xml_raises_only_xml_errors(data: bytes) -> None:
    _parse_only_typed(data)


@fuzz_settings(150)
@given(_PROLOGS, st.binary(max_size=200), st.integers(1, 4))
def test_parse_bytes_random_bytes_and_prologs_raise_only_xml_errors(
    prolog: bytes, tail: bytes, depth: int
) -> None:
    _parse_only_typed(prolog + tail)
    _parse_only_typed(prolog + b"<a>" * depth + tail + b"</a>" * depth, max_depth=depth + 1, max_bytes=400)


@fuzz_settings(60)
@given(st.integers(1, 4000), st.sampled_from(("utf-8", "utf-16", "utf-16-le", "utf-32")))
def test_parse_bytes_deep_or_reencoded_documents_are_refused_cleanly(depth: int, encoding: str) -> None:
    data = ("<a>" * depth + "x" + "</a>" * depth).encode(encoding)
    if depth > 100:
        with pytest.raises(XmlError):
            parse_bytes(data)
    elif encoding in ("utf-8", "utf-16"):  # self-describing (BOM) encodings must parse
        assert parse_bytes(data).getroot().tag == "a"
    else:
        _parse_only_typed(data)


@pytest.mark.parametrize(
    "doc",
    [b'<a xmlns="rel"/>', b'<a xmlns:p="rel/x" p:b="1"/>', b'<a><b xmlns:q="q"><q:c/></b></a>'],
)
def test_relative_namespace_cannot_be_canonicalised_typed_error(doc: bytes) -> None:
    """Regression (found by fuzzing the receiver): lxml's C14NError escaped exc_c14n/c14n10."""
    root = parse_bytes(doc).getroot()
    for canonicalise in (exc_c14n, c14n10):
        with pytest.raises(XmlCanonicalizationError):
            canonicalise(root)
    with pytest.raises(XmlError):
        exc_c14n(root)


def test_parse_bytes_refuses_doctype_in_every_encoding() -> None:
    for encoding in ("utf-8", "utf-16", "utf-16-be", "latin-1"):
        data = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'.encode(encoding)
        with pytest.raises(XmlError) as info:
            parse_bytes(data)
        assert info.value.code.startswith("xml-")


# --- peppol.identifiers -------------------------------------------------------------------------------

_ID_SEEDS = (
    "iso6523-actorid-upis::0088:5798000000001",
    "iso6523-actorid-upis::9915:abc",
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1",
    "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
    "peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
)


@st.composite
def _identifier_text(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.text(max_size=600))
    seed = draw(st.sampled_from(_ID_SEEDS)).encode("latin-1")
    data = draw(mutated(seed, max_ops=3))
    if choice == 1:
        return data.decode("latin-1")
    return data.decode("utf-8", errors="surrogateescape")


@fuzz_settings(200)
@given(_identifier_text(), st.booleans())
def test_identifier_parsers_raise_only_identifier_error(text: str, strict: bool) -> None:
    for parse in (ParticipantId.parse, DocumentTypeId.parse, ProcessId.parse):
        try:
            ident = parse(text, strict=strict)
        except IdentifierError as exc:
            assert exc.code and str(exc)
            continue
        assert type(ident).parse(ident.uri, strict=strict) == ident
        assert ident.url_encoded
    try:
        split_uri(text)
        guess_kind(text)
    except IdentifierError:
        pass
    try:
        report = check_identifier(text, strict=strict, zone="test", on=dt.date(2026, 1, 1))
    except IdentifierError as exc:
        assert exc.code
    else:
        assert report.to_dict()


@fuzz_settings(150)
@given(st.text(max_size=300), st.text(min_size=1, max_size=140))
def test_sml_names_raise_only_identifier_error(zone: str, local: str) -> None:
    with contextlib.suppress(IdentifierError):
        resolve_zone(zone)
    try:
        pid = ParticipantId.of(f"0088:{local}", strict=False)
    except IdentifierError:
        return
    for fn in (sml_naptr_name, sml_cname_name):
        with contextlib.suppress(IdentifierError):
            assert fn(pid, zone)


# --- peppol.pki loaders ------------------------------------------------------------------------------


def _key_or_cert_errors(fn: Any, data: bytes, *args: Any) -> Any:
    try:
        return fn(data, *args)
    except KeyLoadError as exc:
        assert str(exc)
        return None


class _Seeds(dict[str, bytes]):
    """Seed blobs; a short repr keeps Hypothesis failure reports readable."""

    def __repr__(self) -> str:
        return f"<seeds {sorted(self)}>"


@pytest.fixture(scope="module")
def pki_seeds(test_pki: Any) -> dict[str, bytes]:
    ap = test_pki.aps[0]
    cert = ap.certificate()
    key = load_private_key(ap.key)
    return _Seeds(
        {
            "cert_pem": ap.cert.read_bytes(),
            "cert_der": cert.public_bytes(serialization.Encoding.DER),
            "key_pem": ap.key.read_bytes(),
            "key_der": key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            "key_enc": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            "p12": ap.p12.read_bytes() if ap.p12 is not None else b"",
            "p12_password": test_pki.p12_password,
            "bundle": test_pki.ap_truststore.read_bytes(),
            "crl": test_pki.ap_crl.read_bytes(),
        }
    )


def _check_loaded_certificate(cert: x509.Certificate) -> None:
    """Reading the names of what the loaders return must not blow up later (cryptography decodes
    lazily; the loaders decode the names up front)."""
    assert isinstance(cert.subject, x509.Name) and isinstance(cert.issuer, x509.Name)
    seat_id(cert)
    name_stage(cert.issuer)
    name_purpose(cert.issuer)


@fuzz_settings(150)
@given(st.data())
def test_certificate_loaders_raise_only_key_load_error(
    pki_seeds: dict[str, bytes], data: st.DataObject
) -> None:
    which = data.draw(st.sampled_from(("cert_pem", "cert_der", "bundle")))
    blob = data.draw(mutated(pki_seeds[which], max_ops=3))
    cert = _key_or_cert_errors(load_certificate, blob)
    if cert is not None:
        _check_loaded_certificate(cert)
    certs = _key_or_cert_errors(load_certificates, blob)
    if certs:
        with contextlib.suppress(KeyLoadError):
            TrustStore.from_certificates(certs)


@fuzz_settings(100)
@given(st.data())
def test_private_key_loader_raises_only_key_load_error(
    pki_seeds: dict[str, bytes], data: st.DataObject
) -> None:
    which = data.draw(st.sampled_from(("key_pem", "key_der", "key_enc")))
    blob = data.draw(mutated(pki_seeds[which], max_ops=3))
    password = data.draw(st.sampled_from((None, b"secret", b"", b"wrong")))
    _key_or_cert_errors(load_private_key, blob, password)


@fuzz_settings(60)
@given(st.data())
def test_pkcs12_loader_raises_only_key_load_error(pki_seeds: dict[str, bytes], data: st.DataObject) -> None:
    assert pki_seeds["p12"], "the test PKI wrote no PKCS#12 file for aps[0]"
    blob = data.draw(mutated(pki_seeds["p12"], max_ops=2))
    password = data.draw(st.sampled_from((pki_seeds["p12_password"], None, b"", b"wrong")))
    _key_or_cert_errors(load_pkcs12, blob, password)


@fuzz_settings(60)
@given(st.data())
def test_garbage_crls_are_refused_with_key_load_error(
    test_pki: Any, pki_seeds: dict[str, bytes], data: st.DataObject
) -> None:
    blob = data.draw(mutated(pki_seeds["crl"], max_ops=3))
    with contextlib.suppress(KeyLoadError):
        CertificateValidator(test_pki.ap_trust(), purpose=Purpose.AP, crls=(blob,), allow_fetching=False)


@fuzz_settings(60)
@given(st.data())
def test_identity_load_with_mutated_certificate_raises_only_key_load_error(
    test_pki: Any, pki_seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    which = data.draw(st.sampled_from(("cert_pem", "cert_der")))
    blob = data.draw(mutated(pki_seeds[which], max_ops=3))
    cert_file = tmp_path_factory.mktemp("identity") / "cert.pem"
    cert_file.write_bytes(blob)
    try:
        identity = Identity.load(cert_file, test_pki.aps[0].key)
    except KeyLoadError:
        return
    assert identity.certificate.public_key() == identity.private_key.public_key()


def test_loaders_report_unreadable_files_as_key_load_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    directory = tmp_path / "dir"
    directory.mkdir()
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"  \n")
    for source in (missing, directory, empty):
        for fn in (load_certificate, load_certificates, load_private_key):
            with pytest.raises(KeyLoadError):
                fn(source)
        with pytest.raises(KeyLoadError):
            load_pkcs12(source, None)


def test_certificate_with_malformed_issuer_name_is_a_key_load_error(pki_seeds: dict[str, bytes]) -> None:
    """Regression (found by the fuzzer): cryptography decodes names lazily, so a certificate whose
    issuer is not valid UTF-8 used to load and then crash ``TrustStore`` with a bare ValueError."""
    der = pki_seeds["cert_der"]
    i = der.index(b"PEPPOL ACCESS POINT TEST CA")
    bad = der[:i] + b"\xff\xfe" + der[i + 2 :]
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bad) + b"-----END CERTIFICATE-----\n"
    for blob in (bad, pem):
        with pytest.raises(KeyLoadError, match="malformed certificate name"):
            load_certificate(blob)
    with pytest.raises(KeyLoadError, match="malformed certificate name"):
        TrustStore.from_pem(pki_seeds["bundle"] + pem)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(9999, 12, 31, 23, 59, 59),
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
    ],
)
def test_validation_at_the_end_of_time_is_a_certificate_error(test_pki: Any, moment: dt.datetime) -> None:
    """Regression (found by fuzzing ``ap pki check --at``): pyhanko adds tolerances to the moment,
    which overflowed datetime for 9999-12-31 and escaped as OverflowError."""
    validator = test_pki.ap_validator(cache_ttl=0)
    with pytest.raises(CertificateError) as info:
        validator.validate(test_pki.aps[0].certificate(), moment=moment)
    assert info.value.code in {"untrusted", "expired"}


def test_private_key_with_unknown_algorithm_is_a_key_load_error(pki_seeds: dict[str, bytes]) -> None:
    """Regression (found by fuzzing): a PKCS#8 key whose algorithm OID is unknown raised cryptography's
    UnsupportedAlgorithm (neither ValueError nor TypeError) instead of KeyLoadError."""
    der = pki_seeds["key_der"]
    # AlgorithmIdentifier {rsaEncryption, NULL} -> {1.2.840.113549.1.1.1.5.0}: same length, unknown OID
    rsa = bytes.fromhex("06092a864886f70d0101010500")
    assert rsa in der
    unknown = der.replace(rsa, bytes.fromhex("060b2a864886f70d0101010500"), 1)
    with pytest.raises(KeyLoadError):
        load_private_key(unknown)
