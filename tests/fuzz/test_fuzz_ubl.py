"""Fuzz ``ubl``: type detection and validation of mutated pre-award documents from the corpus.

``detect`` may only raise :class:`~ubl.detect.UnknownDocumentType` or a :class:`peppol.xml.XmlError`;
``validate_document`` may return an INVALID result or raise one of its documented typed errors
(:data:`ubl.validate.SETUP_ERRORS`, ``SchematronError``), never anything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from peppol.xml import XmlError, parse_bytes
from tests.fuzz import fuzz_settings, mutated, token_mutated, xml_mutated
from ubl.artifacts import ArtifactStore, install_from_corpus
from ubl.detect import UnknownDocumentType, detect, read_header
from ubl.result import LayerStatus
from ubl.schematron.errors import SchematronError, SchematronSourceError
from ubl.validate import SETUP_ERRORS, validate_document

TRANSACTIONS = "peppol-preaward/guides/transactions"
#: Small examples (a few kB each) whose Schematrons compile quickly.
SEEDS = (
    "T001/files/ExpressionOfInterestRequest-instance.xml",
    "T003/files/TenderStatusRequest-instance.xml",
    "T004/files/call-for-tenders-instance.xml",
    "T006/files/tender-receipt-instance.xml",
    "T021/files/UnsubscribeFromProcedureRequest.xml",
)
_TOKENS = (
    b"CustomizationID",
    b"ProfileID",
    b"UBLVersionID",
    b"UBLExtensions",
    b"urn:fdc:peppol.eu:prac:trns:",
    b"urn:fdc:peppol.eu:prac:bis:",
    b"urn:oasis:names:specification:ubl:schema:xsd:",
    b":1.",
    b"2.2",
    b"xmlns",
    b"cbc:",
    b"cac:",
)


class _Docs(dict[str, bytes]):
    def __repr__(self) -> str:
        return f"<{len(self)} pre-award examples>"


@pytest.fixture(scope="module")
def ubl_docs(corpus: Path) -> dict[str, bytes]:
    return _Docs({name: (corpus / TRANSACTIONS / name).read_bytes() for name in SEEDS})


@pytest.fixture(scope="module")
def store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    installed = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(installed, corpus)
    return installed


def _document(data: st.DataObject, docs: dict[str, bytes]) -> bytes:
    seed = docs[data.draw(st.sampled_from(sorted(docs)), label="seed")]
    how = data.draw(st.sampled_from(("tree", "tokens", "bytes", "tree")), label="how")
    if how == "tree":
        return data.draw(xml_mutated(seed, max_ops=3), label="tree-mutated")
    if how == "tokens":
        return data.draw(token_mutated(seed, _TOKENS, max_ops=3), label="token-mutated")
    return data.draw(mutated(seed, max_ops=4), label="byte-mutated")


@fuzz_settings(200)
@given(data=st.data())
def test_detect_mutated_documents_raises_only_typed_errors(
    ubl_docs: dict[str, bytes], data: st.DataObject
) -> None:
    doc = _document(data, ubl_docs)
    try:
        found = detect(doc)
    except UnknownDocumentType as exc:
        assert exc.code == "unknown-document-type"
        event("unknown-document-type")
        return
    except XmlError as exc:
        assert exc.code.startswith("xml-")
        event(exc.code)
        return
    event(f"detected {found.key}")


@fuzz_settings(100)
@given(prolog=st.binary(max_size=40), body=st.binary(max_size=200))
def test_read_header_random_bytes_raises_only_typed_errors(prolog: bytes, body: bytes) -> None:
    try:
        read_header(prolog + b"<a>" + body)
    except XmlError as exc:
        assert exc.code.startswith("xml-")


@fuzz_settings(80)
@given(data=st.data())
def test_validate_mutated_documents_gives_result_or_typed_error(
    ubl_docs: dict[str, bytes], store: ArtifactStore, data: st.DataObject
) -> None:
    doc = _document(data, ubl_docs)
    try:
        result = validate_document(doc, store=store)
    except (*SETUP_ERRORS, SchematronError) as exc:
        event(f"error {type(exc).__name__}")
        assert str(exc)
        return
    assert result.layers, "a result always has at least one layer"
    for layer in result.layers:
        assert isinstance(layer.status, LayerStatus)
        if layer.status is LayerStatus.INVALID:
            assert layer.items, f"an INVALID layer says why: {layer.name}"
    event(f"{result.document_type} valid={result.valid}")


def _detected(source: object) -> str:
    try:
        return detect(source).key  # type: ignore[arg-type]
    except UnknownDocumentType as exc:
        return f"unknown: {exc}"


@fuzz_settings(150)
@given(data=st.data())
def test_detect_streaming_and_parsed_tree_agree(ubl_docs: dict[str, bytes], data: st.DataObject) -> None:
    """``detect`` reads bytes with a pull parser, or an already parsed tree: same answer either way."""
    doc = _document(data, ubl_docs)
    try:
        tree = parse_bytes(doc)
    except XmlError:
        return
    assert _detected(doc) == _detected(tree)


_SCH_TOKENS = (
    b"rule",
    b"assert",
    b"report",
    b"test=",
    b"context=",
    b"pattern",
    b"phase",
    b"let",
    b"value=",
    b"ns ",
    b"prefix",
    b"is-a",
    b"abstract",
    b"queryBinding",
)


@fuzz_settings(60)
@given(data=st.data())
def test_mutated_schematron_compiles_or_raises_schematron_error(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """A user-supplied Schematron (``ap validate --schematron``) that is broken gives a SchematronError
    (source, compile, unsupported, runtime), never another exception."""
    from ubl.schematron import compile_schematron

    rules = corpus / "peppol-preaward/rules/peppol-tender-status-inquiry/PEPPOL-T003.sch"
    doc = corpus / TRANSACTIONS / "T003/files/TenderStatusRequest-instance.xml"
    seed = rules.read_bytes()
    how = data.draw(st.sampled_from(("tree", "tokens", "bytes")), label="how")
    if how == "tree":
        source = data.draw(xml_mutated(seed, max_ops=3), label="schematron")
    elif how == "tokens":
        source = data.draw(token_mutated(seed, _SCH_TOKENS, max_ops=3), label="schematron")
    else:
        source = data.draw(mutated(seed, max_ops=3), label="schematron")
    work = tmp_path_factory.mktemp("sch")
    path = work / "rules.sch"
    path.write_bytes(source)
    try:
        layer = compile_schematron(path, cache_dir=work / "cache").validate(doc.read_bytes())
    except SchematronError as exc:
        event(f"{type(exc).__name__}")
        assert exc.code
        return
    event("compiled")
    assert isinstance(layer.status, LayerStatus)


@pytest.mark.parametrize("uri", ["}rn:oasis:x", "{urn:x", "urn:x y"])
def test_schematron_with_invalid_ns_uri_is_a_schematron_error(corpus: Path, tmp_path: Path, uri: str) -> None:
    from ubl.schematron import compile_schematron

    seed = (corpus / "peppol-preaward/rules/peppol-tender-status-inquiry/PEPPOL-T003.sch").read_bytes()
    good = b'uri="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
    assert good in seed
    path = tmp_path / "rules.sch"
    path.write_bytes(seed.replace(good, b'uri="' + uri.encode() + b'"', 1))
    with pytest.raises(SchematronSourceError, match="sch:ns"):
        compile_schematron(path, cache_dir=tmp_path / "cache")
