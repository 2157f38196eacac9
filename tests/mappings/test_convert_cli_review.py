"""``ap convert`` checked the way an integrator uses it: real inputs, broken inputs, every target.

Each test runs the command (typer's CliRunner over the real app) and checks the exit code, the file
written and the one-line reason; ``--validate`` runs the official artifacts installed from the corpus.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from lxml import etree
from typer.testing import CliRunner

from access_point.cli import app, convert_cmd
from mappings.eforms import build_notice, read_notice
from tests.mappings.decp_samples import ENRICH, MARCHE, MINIMAL_MARCHE, document
from ubl.artifacts import ArtifactStore, install_from_corpus

NOTICES = Path("eforms-sdk-1.14.2/examples/notices")
TRANSACTIONS = Path("peppol-preaward/guides/transactions")
DECP_SCHEMA = Path("decp-v2/schema_decp_v2.0.3.json")
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

runner = CliRunner()


@pytest.fixture(scope="module")
def store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    install_from_corpus(target, corpus, ["ubl-2.2", "eforms-sdk-1.14.2", "peppol-preaward"])
    return target.root


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["convert", *(str(a) for a in args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def marche(**changes: Any) -> dict[str, Any]:
    out = dict(MINIMAL_MARCHE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- 1. input validation


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"montant": "beaucoup"}, "marches.marche[0].montant", "is not of type 'number'"),
        ({"dureeMois": "x"}, "marches.marche[0].dureeMois", "is not of type 'integer'"),
        ({"dateNotification": "2024-13-45"}, "marches.marche[0].dateNotification", "not a real date"),
        ({"dateNotification": "demain"}, "marches.marche[0].dateNotification", "not a real date"),
        ({"id": None}, "marches.marche[0]", "'id' is a required property"),
        ({"titulaires": [{"titulaire": "x"}]}, "marches.marche[0].titulaires[0].titulaire", "not of type"),
        ({"ccag": "CCAG maison"}, "marches.marche[0].ccag", "is not one of"),
        ({"formePrix": "Libre"}, "marches.marche[0].formePrix", "is not one of"),
        ({"tauxAvance": 3}, "marches.marche[0].tauxAvance", "greater than the maximum"),
        ({"acheteur": {"id": "123"}}, "marches.marche[0].acheteur.id", "does not match"),
    ],
)
def test_decp_input_errors_name_the_json_path_and_exit_2(
    tmp_path: Path, changes: dict[str, Any], path: str, reason: str
) -> None:
    """Before: wrong types were a traceback (exit 1), an impossible date gave an invalid release."""
    source = write_json(tmp_path / "decp.json", document(marche(**changes)))
    out = tmp_path / "out.json"
    code, err = run(source, "--from", "decp", "--to", "ocds", "-o", out)
    assert code == 2
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if path in x)
    assert "decp.json" in line and reason in line
    assert not out.exists()


@pytest.mark.parametrize(
    "doc",
    [{"marches": []}, {"marches": {"marche": {"id": "1"}}}, {"marches": {"marche": ["x"]}}],
    ids=["marches-list", "marche-object", "marche-item-string"],
)
def test_decp_structure_errors_exit_2(tmp_path: Path, doc: Any) -> None:
    code, err = run(write_json(tmp_path / "d.json", doc), "--from", "decp", "--to", "decp")
    assert code == 2
    assert err.startswith("invalid input") and "d.json: marches" in err


@pytest.mark.parametrize("source", ["ocds", "decp"])
@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        '{"objet": "Fourniture é"}'.encode("latin-1"),
        b"\xff\xfe{\x00}\x00",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["not-json", "latin-1", "utf-16-bom", "nested-100000-deep"],
)
def test_unreadable_json_is_one_line_and_exit_2(tmp_path: Path, source: str, payload: bytes) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(payload)
    code, err = run(bad, "--from", source, "--to", "ocds")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "bad.json: $: not JSON" in err


@pytest.mark.parametrize("source", ["ocds", "decp", "ubl"])
def test_input_over_the_size_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.setattr(convert_cmd, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1001 + b"{}")
    code, err = run(big, "--from", source, "--to", "ocds")
    assert code == 2
    assert "big.json: input is 1003 bytes, more than the 1000-byte limit" in err


def test_enrichment_errors_name_the_enrichment_file(tmp_path: Path) -> None:
    source = write_json(tmp_path / "decp.json", document(MARCHE))
    enrich = write_json(tmp_path / "orgs.json", {"organisations": {"21350238800019": {"name": 5}}})
    code, err = run(source, "--from", "decp", "--to", "ocds", "--enrich", enrich)
    assert code == 2
    assert "orgs.json: organisations.21350238800019.name: 5 is not of type 'string'" in err
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    code, err = run(source, "--from", "decp", "--to", "ocds", "--enrich", not_json)
    assert code == 2 and "broken.json: $: not JSON" in err


def test_enrich_needs_platform_input(tmp_path: Path) -> None:
    """Organisation profiles complete OCDS and DECP input, not UBL documents."""
    source = write_json(tmp_path / "r.json", {})
    enrich = write_json(tmp_path / "orgs.json", ENRICH)
    code, err = run(source, "--from", "ubl", "--to", "ocds", "--enrich", enrich)
    assert code == 2 and "--from decp|ocds" in err


@pytest.mark.parametrize(
    ("doc", "path"),
    [([1, 2], "$[0]"), ({"releases": [{"id": "1"}, 5]}, "releases[1]"), ([], "$")],
    ids=["list-of-numbers", "package-with-number", "empty-list"],
)
def test_ocds_list_entries_must_be_releases(tmp_path: Path, doc: Any, path: str) -> None:
    """Before: non-object entries were dropped silently and an empty list converted to nothing."""
    code, err = run(write_json(tmp_path / "r.json", doc), "--from", "ocds", "--to", "ocds")
    assert code == 2
    assert f"r.json: {path}:" in err


def test_impossible_ocds_date_names_the_path(tmp_path: Path) -> None:
    release = {"ocid": "o", "id": "1", "date": "2024-02-30T00:00:00Z", "tag": ["tender"]}
    release["initiationType"] = "tender"
    code, err = run(write_json(tmp_path / "r.json", release), "--from", "ocds", "--to", "eforms-cn")
    assert code == 2
    assert "r.json: date: '2024-02-30T00:00:00Z': not a real ISO 8601 date-time" in err


# ---------------------------------------------------------------- 3. eForms notices


def cn_release(corpus: Path, tmp_path: Path, *, bare: bool = False) -> Path:
    release = read_notice((corpus / NOTICES / "cn_24_minimal.xml").read_bytes())
    if bare:  # a release as the platform writes it: no kept notice metadata, no legal basis
        release.pop("platform")
        release["tender"].pop("legalBasis", None)
    return write_json(tmp_path / "cn.json", release)


@pytest.mark.corpus
def test_subtype_of_another_notice_kind_is_a_usage_error(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "can.xml"
    code, err = run(cn_release(corpus, tmp_path), "--from", "ocds", "--to", "eforms-can", "--subtype", "16")
    assert code == 2
    assert "--subtype: subtype '16' is not a ContractAwardNotice subtype" in err
    assert not out.exists()


@pytest.mark.corpus
def test_can_built_from_a_cn_release_is_a_can(corpus: Path, tmp_path: Path, store: Path) -> None:
    """Before: the CN's kept subtype 16 / cn-standard went into the CAN and validation could not run."""
    out = tmp_path / "can.xml"
    code, err = run(
        cn_release(corpus, tmp_path), "--from", "ocds", "--to", "eforms-can", "-o", out,
        "--validate", "--store", store,
    )  # fmt: skip
    assert code == 1, err  # a CN has no results: the rules say so, the validation ran
    assert "phase eforms-29" in err
    doc = etree.parse(str(out))
    assert doc.findtext(f".//{{{CBC}}}SubTypeCode") == "29"
    assert doc.findtext(f"{{{CBC}}}NoticeTypeCode") == "can-standard"


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("kind", "subtype", "notice_type"), [("cn", "E3", "cn-standard"), ("can", "E4", "can-standard")]
)
def test_e3_e4_are_standard_notices_under_other_law(
    corpus: Path, kind: str, subtype: str, notice_type: str
) -> None:
    """notice-types.json: E3 is cn-standard, E4 can-standard (BR-OPP-00070-0109/-0105), law 'other'."""
    release = read_notice((corpus / NOTICES / "cn_24_minimal.xml").read_bytes())
    release.pop("platform")
    release["tender"].pop("legalBasis", None)
    doc = etree.fromstring(build_notice(release, kind, subtype=subtype))  # type: ignore[arg-type]
    assert doc.findtext(f"{{{CBC}}}NoticeTypeCode") == notice_type
    assert doc.findtext(f"{{{CBC}}}RegulatoryDomain") == "other"


@pytest.mark.corpus
def test_e3_notice_from_a_platform_release_passes_the_notice_type_rules(
    corpus: Path, tmp_path: Path, store: Path
) -> None:
    out = tmp_path / "e3.xml"
    code, err = run(
        cn_release(corpus, tmp_path, bare=True), "--from", "ocds", "--to", "eforms-cn", "--subtype", "E3",
        "-o", out, "--validate", "--store", store,
    )  # fmt: skip
    assert code in (0, 1), err
    assert "phase eforms-E3" in err or code == 0
    for rule in ("BR-OPP-00070-0108", "BR-OPP-00070-0109", "BR-BT-00001-0229"):
        assert rule not in err


# ---------------------------------------------------------------- 3. Peppol documents, official examples


PEPPOL_EXAMPLES = [
    ("T004/files/call-for-tenders-instance.xml", "peppol-t004"),
    ("T005/files/tender-instance.xml", "peppol-t005"),
    ("T006/files/tender-receipt-instance.xml", "peppol-t006"),
    ("T018/files/ExampleTenderingMessageResponseAP.xml", "peppol-t018"),
    ("T018/files/ExampleTenderingMessageResponseBV.xml", "peppol-t018"),  # a rejection, line by line
]
PEPPOL_IDS = [Path(example).name for example, _ in PEPPOL_EXAMPLES]


@pytest.mark.corpus
@pytest.mark.parametrize(("example", "target"), PEPPOL_EXAMPLES, ids=PEPPOL_IDS)
def test_peppol_example_to_ocds_and_back_validates(
    corpus: Path, tmp_path: Path, store: Path, example: str, target: str
) -> None:
    """Before: the read release had no ocid/id (invalid OCDS, refused as input); a T018 read back
    (parties known by endpoint only) could not be rebuilt."""
    ocds = tmp_path / "doc.json"
    code, err = run(
        corpus / TRANSACTIONS / example, "--from", "ubl", "--to", "ocds", "-o", ocds, "--validate"
    )
    assert code == 0, err
    release = json.loads(ocds.read_text())
    assert release["ocid"] and release["id"].startswith(target.removeprefix("peppol-"))
    back = tmp_path / "back.xml"
    code, err = run(ocds, "--from", "ocds", "--to", target, "-o", back, "--validate", "--store", store)
    assert code == 0, err
    assert f"valid {target}" in err


@pytest.mark.corpus
def test_t004_keeps_tender_recipient_and_encryption_certificate(corpus: Path, tmp_path: Path) -> None:
    """Before: the recipient (9946:500820007) became the buyer's endpoint, and the certificate
    reference (``cid:tenderenckey.cer``, no MIME code) was dropped."""
    ocds = tmp_path / "cft.json"
    source = corpus / TRANSACTIONS / PEPPOL_EXAMPLES[0][0]
    assert run(source, "--from", "ubl", "--to", "ocds", "-o", ocds)[0] == 0
    back = tmp_path / "back.xml"
    assert run(ocds, "--from", "ocds", "--to", "peppol-t004", "-o", back)[0] == 0
    ns = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2", "cbc": CBC}
    doc = etree.parse(str(back))
    endpoint = doc.find("cac:TenderingTerms/cac:TenderRecipientParty/cbc:EndpointID", ns)
    assert endpoint is not None and (endpoint.get("schemeID"), endpoint.text) == ("9946", "500820007")
    ref = doc.find("cac:AdditionalDocumentReference", ns)
    assert ref is not None
    assert ref.findtext("cbc:ID", namespaces=ns) == "tenderenckey.cer"
    assert (
        ref.findtext("cac:Attachment/cac:ExternalReference/cbc:URI", namespaces=ns) == "cid:tenderenckey.cer"
    )
    assert ref.findtext("cbc:IssueDate", namespaces=ns) == "2016-06-27+02:00"


def _encrypted_attachment(path: Path) -> bytes:
    """A real CMS EnvelopedData (.p7m) for a throw-away buyer certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "buyer tender encryption")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    data = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(b"Offre technique: 42 pages")
        .add_recipient(cert)
        .encrypt(serialization.Encoding.DER, [])
    )
    path.write_bytes(data)
    return data


@pytest.mark.corpus
def test_t005_references_encrypted_p7m_untouched(corpus: Path, tmp_path: Path, store: Path) -> None:
    """The T005 carries the .p7m's own SHA-256, file name and MIME type; the file is never opened."""
    from tests.mappings.test_peppol_documents import bid_release

    p7m = tmp_path / "507-offre.pdf.p7m"
    original = _encrypted_attachment(p7m)
    release = bid_release()
    doc = release["bids"]["details"][0]["documents"][0]
    doc["hash"] = {"algorithm": "SHA-256", "value": hashlib.sha256(original).hexdigest()}
    doc["fileName"] = p7m.name
    source = write_json(tmp_path / "bid.json", release)
    t005 = tmp_path / "t005.xml"
    code, err = run(
        source, "--from", "ocds", "--to", "peppol-t005", "-o", t005, "--validate", "--store", store
    )
    assert code == 0, err
    back = tmp_path / "back.json"
    assert run(t005, "--from", "ubl", "--to", "ocds", "-o", back)[0] == 0
    (read,) = json.loads(back.read_text())["bids"]["details"][0]["documents"]
    assert read["hash"]["value"] == hashlib.sha256(p7m.read_bytes()).hexdigest()
    assert (read["fileName"], read["format"]) == (p7m.name, "application/pkcs7-mime")
    assert p7m.read_bytes() == original


# ---------------------------------------------------------------- 4. DECP


@pytest.mark.corpus
def test_decp_import_with_enrichment_and_export_valid(corpus: Path, tmp_path: Path) -> None:
    source = write_json(tmp_path / "decp.json", document(MARCHE, MINIMAL_MARCHE))
    enrich = write_json(tmp_path / "orgs.json", ENRICH)
    ocds = tmp_path / "ocds.json"
    code, err = run(source, "--from", "decp", "--to", "ocds", "--enrich", enrich, "-o", ocds, "--validate")
    assert code == 0, err
    releases = json.loads(ocds.read_text())["releases"]
    assert releases[1]["buyer"]["name"] == "Rennes Métropole Habitat"
    back = tmp_path / "back.json"
    code, err = run(
        ocds,
        "--from",
        "ocds",
        "--to",
        "decp",
        "-o",
        back,
        "--validate",
        "--decp-schema",
        corpus / DECP_SCHEMA,
    )
    assert code == 0, err
    assert json.loads(back.read_text()) == document(MARCHE, MINIMAL_MARCHE)


# ---------------------------------------------------------------- 3. --validate names the input path


def incomplete_release(corpus: Path, tmp_path: Path) -> dict[str, Any]:
    """A platform-made CN release lacking the lot's title (BT-21) and the buyer's city (BT-513)."""
    release: dict[str, Any] = json.loads(cn_release(corpus, tmp_path, bare=True).read_text())
    del release["tender"]["lots"][0]["title"]
    buyer = next(i for i, p in enumerate(release["parties"]) if "buyer" in p.get("roles", []))
    del release["parties"][buyer]["address"]["locality"]
    release["_buyer_index"] = buyer
    return release


@pytest.mark.corpus
def test_validate_findings_name_the_input_path(corpus: Path, tmp_path: Path, store: Path) -> None:
    """Before: a finding named only the output XPath; now also the OCDS value or object behind it."""
    release = incomplete_release(corpus, tmp_path)
    buyer = release.pop("_buyer_index")
    code, err = run(
        write_json(tmp_path / "r.json", release), "--from", "ocds", "--to", "eforms-cn",
        "-o", tmp_path / "cn.xml", "--validate", "--store", store,
    )  # fmt: skip
    assert code == 1
    findings = [line for line in err.splitlines() if line.startswith("invalid")]
    title = [line for line in findings if "BR-BT-00021-" in line]
    assert title and all("(input: tender.lots[0].title)" in line for line in title)
    city = [line for line in findings if "BR-BT-00513-" in line]
    assert city and all(f"(input: parties[{buyer}]" in line for line in city)


@pytest.mark.corpus
def test_validate_in_a_package_names_the_release(corpus: Path, tmp_path: Path, store: Path) -> None:
    release = incomplete_release(corpus, tmp_path)
    release.pop("_buyer_index")
    package = write_json(tmp_path / "package.json", {"releases": [release]})
    code, err = run(
        package, "--from", "ocds", "--to", "eforms-cn", "-o", tmp_path / "cn.xml",
        "--validate", "--store", store,
    )  # fmt: skip
    assert code == 1
    assert "(input: releases[0].tender.lots[0]." in err


@pytest.mark.corpus
def test_decp_validate_findings_name_the_release_path(corpus: Path, tmp_path: Path) -> None:
    from mappings.decp import import_decp

    (release,) = import_decp(document(MINIMAL_MARCHE))
    release["contracts"][0]["value"]["amount"] = 0  # DECP: montant >= 1
    source = write_json(tmp_path / "r.json", release)
    code, err = run(
        source, "--from", "ocds", "--to", "decp", "-o", tmp_path / "d.json", "--validate",
        "--decp-schema", corpus / DECP_SCHEMA,
    )  # fmt: skip
    assert code == 1
    assert (
        "marches.marche.0.montant: 0 is less than the minimum of 1 (input: contracts[0].value.amount)" in err
    )


@pytest.mark.corpus
def test_one_ocds_deadline_is_one_eforms_deadline(corpus: Path) -> None:
    """Several eForms fields fill ``tenderPeriod.endDate`` (BT-131, BT-1311) and ``submissionMethodDetails``
    (BT-18, BT-745). A release made by the platform (no kept UBL forms) wrote each value into every one
    of them, e.g. a participation-request deadline in an open procedure and the submission URL as a
    BT-745 justification; now only the tender deadline (BT-131) and the URL (BT-18) are written."""
    release = read_notice((corpus / NOTICES / "cn_24_minimal.xml").read_bytes())
    release.pop("platform")
    doc = etree.fromstring(build_notice(release, "cn"))
    lot = doc.find("{*}ProcurementProjectLot/{*}TenderingProcess")
    assert lot is not None
    assert lot.find("{*}TenderSubmissionDeadlinePeriod/{*}EndDate") is not None
    assert lot.find("{*}ParticipationRequestReceptionPeriod") is None
    assert lot.find("{*}ProcessJustification/{*}Description") is None
    url = doc.findtext("{*}ProcurementProjectLot/{*}TenderingTerms/{*}TenderRecipientParty/{*}EndpointID")
    assert url == release["tender"]["lots"][0]["submissionMethodDetails"]


def test_locate_follows_the_location_xpath() -> None:
    from mappings.provenance import input_path, locate

    root = etree.fromstring("<r xmlns:a='urn:a'><a:x/><a:x><a:y/></a:x></r>")
    second = root[1]
    assert locate(root, "/r/a:x[2]/a:y") is second[0]
    assert locate(root, "/*/a:x[2]/@id") is second
    assert locate(root, "/r/a:x[3]") is root  # the deepest element that exists
    assert input_path(root, {second: "tender.lots[1]"}, "/r/a:x[2]/a:y") == "tender.lots[1]"
    assert input_path(root, {}, "/r/a:x") is None


@pytest.mark.corpus
def test_decp_to_eforms_can_is_xsd_valid(corpus: Path, tmp_path: Path, store: Path) -> None:
    """Before: the CAN made from a DECP marché had a LotResult without lot or tender (XSD-invalid) and
    the CPV check digit (``77310000-6``). A DECP marché is now one lot won by one tender; what eForms
    needs and DECP lacks is reported by the rules, each naming the marché behind it."""
    source = write_json(tmp_path / "decp.json", document(MARCHE))
    enrich = write_json(tmp_path / "orgs.json", ENRICH)
    out = tmp_path / "can.xml"
    code, err = run(
        source, "--from", "decp", "--to", "eforms-can", "--enrich", enrich, "-o", out,
        "--validate", "--store", store,
    )  # fmt: skip
    assert code == 1
    findings = [line for line in err.splitlines() if line.startswith("invalid")]
    assert findings and not [line for line in findings if "XSD" in line]
    assert all("Schematron" in line for line in findings)
    assert any("(input: marches.marche[0] (OCDS tender.lots[0]." in line for line in findings)
    doc = etree.parse(str(out))
    assert doc.findtext(".//{*}MainCommodityClassification/{*}ItemClassificationCode") == "77310000"
    assert doc.findtext(".//{*}LotResult/{*}TenderLot/{*}ID") == "LOT-0001"


@pytest.mark.corpus
def test_can_to_decp_maps_the_procedure_and_names_what_is_missing(corpus: Path, tmp_path: Path) -> None:
    """Before: DECP got the eForms label ('Open procedure') as procedure, an unknown identifier was
    claimed a SIRET, and a missing DECP field named no input path."""
    out = tmp_path / "decp.json"
    code, err = run(
        corpus / NOTICES / "can_24_minimal.xml", "--from", "ubl", "--to", "decp", "-o", out,
        "--validate", "--decp-schema", corpus / DECP_SCHEMA,
    )  # fmt: skip
    assert code == 1
    (marche,) = json.loads(out.read_text())["marches"]["marche"]
    assert marche["procedure"] == "Appel d'offres ouvert"
    assert "typeIdentifiant" not in marche["titulaires"][0]["titulaire"]  # '326 912 557' is no SIRET
    assert "'ccag' is a required property (input: OCDS platform.decp.CON-0001.ccag)" in err


def _leaves(path: Path) -> Counter[str]:
    """Every element with text or attributes as ``/a/b/c[attr=v]=text`` (ids of position ignored)."""
    tree = etree.parse(str(path), etree.XMLParser(remove_comments=True))
    out: Counter[str] = Counter()
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        text = (el.text or "").strip()
        if not text and not el.attrib:
            continue
        names = [etree.QName(a).localname for a in reversed(list(el.iterancestors()))]
        attrs = ",".join(f"{k}={v}" for k, v in sorted(el.attrib.items()))
        out[f"/{'/'.join([*names, etree.QName(el).localname])}[{attrs}]={text}"] += 1
    return out


#: What a Peppol document loses through OCDS (nothing, since every element of the BIS examples has
#: an OCDS or platform-extension home).
PEPPOL_LOSSES: dict[str, set[str]] = {
    "peppol-t004": set(),
    "peppol-t005": set(),
    "peppol-t006": set(),
    "peppol-t018": set(),
}


@pytest.mark.corpus
@pytest.mark.parametrize(("example", "target"), PEPPOL_EXAMPLES, ids=PEPPOL_IDS)
def test_peppol_example_keeps_its_content_through_ocds(
    corpus: Path, tmp_path: Path, example: str, target: str
) -> None:
    """Before: T004 lost its procurement documents, procurement type, place, submission method,
    variants, additional conditions and the buyer's legal entity; T005 the tenderer's address and
    legal entity and the details of its call-for-tenders reference; T006 took the envelope
    reference (type 13) for the Tender; a T018 rejection lost its line responses (what was wrong)."""
    ocds = tmp_path / "doc.json"
    assert run(corpus / TRANSACTIONS / example, "--from", "ubl", "--to", "ocds", "-o", ocds)[0] == 0
    back = tmp_path / "back.xml"
    assert run(ocds, "--from", "ocds", "--to", target, "-o", back)[0] == 0
    lost = _leaves(corpus / TRANSACTIONS / example) - _leaves(back)
    assert set(lost) == PEPPOL_LOSSES[target]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["--from", "ocds", "--to", "peppol-t004", "--subtype", "16"],
            "--subtype is an eForms notice subtype",
        ),
        (
            ["--from", "ocds", "--to", "ocds", "--decp-schema", "s.json"],
            "--decp-schema validates DECP output",
        ),
        (["--from", "ubl", "--to", "ocds", "--enrich", "e.json"], "--enrich (organisation profiles)"),
        (["--from", "xml", "--to", "ocds"], "--from must be one of"),
    ],
    ids=["subtype-not-eforms", "decp-schema-not-decp", "enrich-not-decp", "unknown-source"],
)
def test_unsupported_option_combinations_are_usage_errors(
    tmp_path: Path, args: list[str], reason: str
) -> None:
    """Before: --subtype and --decp-schema were ignored silently outside their targets."""
    source = write_json(tmp_path / "r.json", {})
    code, err = run(source, *args)
    assert code == 2
    assert reason in err and len(err.strip().splitlines()) == 1


@pytest.mark.corpus
def test_value_of_the_wrong_type_names_its_release_path(corpus: Path, tmp_path: Path) -> None:
    """A field the schema leaves open but eForms needs as a number: one line naming where it is.
    Before: a traceback (ValueError in float()), or for an object the text "{'x': 1}" in the XML."""
    release = read_notice((corpus / NOTICES / "can_24_minimal.xml").read_bytes())
    for bad in ("beaucoup", {"x": 1}):
        release["bids"]["details"][0]["subcontracting"] = {"maximumPercentage": bad}
        source = write_json(tmp_path / "r.json", release)
        code, err = run(source, "--from", "ocds", "--to", "eforms-can", "-o", tmp_path / "can.xml")
        assert code == 2
        assert f"r.json: bids.details[0].subcontracting.maximumPercentage: not a number: {bad!r}" in err


UBL_INPUTS = [
    *((str(TRANSACTIONS / example), target) for example, target in PEPPOL_EXAMPLES[:4]),
    (str(NOTICES / "cn_24_minimal.xml"), "eforms-cn"),
    (str(NOTICES / "can_24_minimal.xml"), "eforms-can"),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("example", "target"), UBL_INPUTS, ids=[Path(e).name for e, _ in UBL_INPUTS])
def test_ubl_input_missing_any_element_gives_a_mapping_error_or_a_result(
    corpus: Path, example: str, target: str
) -> None:
    """Each element of an official document removed in turn, converted to OCDS, to its own type and
    to DECP: a result or a MappingError, never another exception. Before: a lot without cbc:ID
    (KeyError in the derived review bodies), a bid statistic without value (KeyError in DECP export)."""
    from mappings.convert import convert
    from mappings.errors import MappingError

    tree = etree.parse(str(corpus / example))
    unexpected = []
    for index, element in enumerate(tree.iter()):
        if index == 0 or not isinstance(element.tag, str):
            continue
        damaged = copy.deepcopy(tree)
        victim = list(damaged.iter())[index]
        parent = victim.getparent()
        assert parent is not None
        parent.remove(victim)
        data = etree.tostring(damaged)
        for to in ("ocds", target, "decp"):
            try:
                convert(data, source="ubl", target=to, trace=True)
            except MappingError:
                pass
            except Exception as exc:  # any other exception is the failure this test looks for
                unexpected.append(f"{tree.getpath(element)} -> {to}: {type(exc).__name__}: {exc}")
    assert unexpected == []


def test_decp_of_an_older_shape_is_refused_in_one_short_line(tmp_path: Path) -> None:
    """The upstream 2.0.x example form (``marche`` an object, not the 2.0.3 array) is refused as the
    2.0.3 schema refuses it; the reason names the path and the value's kind, not the whole marché."""
    doc = {"marches": {"marche": dict(MINIMAL_MARCHE)}}
    code, err = run(write_json(tmp_path / "old.json", doc), "--from", "decp", "--to", "ocds")
    assert code == 2
    assert err.strip() == (
        f"invalid input {tmp_path / 'old.json'}: marches.marche: an object ({len(MINIMAL_MARCHE)} items) "
        "is not of type 'array'"
    )


@pytest.mark.corpus
def test_t005_validate_finding_names_the_party(tmp_path: Path, store: Path) -> None:
    from tests.mappings.test_peppol_documents import TENDERER_IDS, bid_release

    release = bid_release()
    release["platform"]["peppol"]["parties"]["TEN-ORG"] = {
        **TENDERER_IDS,
        "endpoint": {"scheme": "9999", "id": "x"},  # no such EAS code
    }
    source = write_json(tmp_path / "bid.json", release)
    code, err = run(
        source,
        "--from",
        "ocds",
        "--to",
        "peppol-t005",
        "-o",
        tmp_path / "t5.xml",
        "--validate",
        "--store",
        store,
    )
    assert code == 1
    assert "PEPPOL-T005-R011 /ubl:Tender/cac:TendererParty/cbc:EndpointID" in err
    assert "(input: parties[1])" in err


@pytest.mark.corpus
def test_validate_findings_name_the_input_element_of_ubl_input(
    corpus: Path, tmp_path: Path, store: Path
) -> None:
    """UBL in, UBL out (a CN's lots written as a CAN): the finding names the input element."""
    code, err = run(
        corpus / NOTICES / "cn_24_maximal.xml", "--from", "ubl", "--to", "eforms-can",
        "-o", tmp_path / "can.xml", "--validate", "--store", store,
    )  # fmt: skip
    assert code == 1
    # the first ProcurementProjectLot of this notice is a lots group: lot 2 is the third element
    assert "(input: /*/cac:ProcurementProjectLot[3] (OCDS tender.lots[1]" in err
