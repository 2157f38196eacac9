"""Spec engine features, on small specs: joined values, labels, ``$index``, anchors, excluded objects."""

from __future__ import annotations

from typing import Any

import yaml
from lxml import etree

from mappings import engine
from mappings.spec import Spec, parse_spec
from mappings.xmlbuild import qname
from mappings.xmlns import NS

_NSDECL = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())


def _spec(text: str) -> Spec:
    return parse_spec("test", yaml.safe_load(text))


def _party(inner: str) -> etree._Element:
    return etree.fromstring(f"<cac:Party {_NSDECL}>{inner}</cac:Party>")


def _texts(root: etree._Element, xpath: str) -> list[str]:
    return [str(e.text) for e in root.xpath(xpath, namespaces=NS)]


JOIN = """
scopes: {notice: {xml: "."}}
rules:
  - {id: street, xml: cac:PostalAddress/cbc:StreetName, ocds: address.streetAddress, sep: ", ",
     join: [cac:PostalAddress/cbc:AdditionalStreetName, cac:PostalAddress/cac:AddressLine/cbc:Line]}
"""
ADDRESS = (
    "<cac:PostalAddress><cbc:StreetName>2 rue X</cbc:StreetName><cbc:AdditionalStreetName>Bat A"
    "</cbc:AdditionalStreetName><cac:AddressLine><cbc:Line>3e</cbc:Line></cac:AddressLine>"
    "<cac:AddressLine><cbc:Line>porte 4</cbc:Line></cac:AddressLine></cac:PostalAddress>"
)


def test_join_reads_every_part_in_order() -> None:
    release = engine.read(_party(ADDRESS), _spec(JOIN))
    assert release["address"]["streetAddress"] == "2 rue X, Bat A, 3e, porte 4"


def test_join_unchanged_is_written_back_part_by_part() -> None:
    spec = _spec(JOIN)
    release = engine.read(_party(ADDRESS), spec)
    out = etree.Element(qname("cac:Party"), nsmap=NS)
    engine.write(release, spec, out)
    assert _texts(out, "cac:PostalAddress/cbc:StreetName") == ["2 rue X"]
    assert _texts(out, "cac:PostalAddress/cbc:AdditionalStreetName") == ["Bat A"]
    # each line repeats its cac:AddressLine, as UBL wants
    assert _texts(out, "cac:PostalAddress/cac:AddressLine/cbc:Line") == ["3e", "porte 4"]
    assert len(out.xpath("cac:PostalAddress/cac:AddressLine", namespaces=NS)) == 2


def test_join_edited_value_goes_to_the_first_element() -> None:
    spec = _spec(JOIN)
    release = engine.read(_party(ADDRESS), spec)
    release["address"]["streetAddress"] = "1 avenue Y"
    out = etree.Element(qname("cac:Party"), nsmap=NS)
    engine.write(release, spec, out)
    assert _texts(out, "cac:PostalAddress/cbc:StreetName") == ["1 avenue Y"]
    assert _texts(out, "cac:PostalAddress/cac:AddressLine/cbc:Line") == []


LABEL = """
tables: {place: {anyw-eea: Anywhere in the European Economic Area}}
scopes: {notice: {xml: "."}}
rules:
  - {id: region, xml: cac:PostalAddress/cbc:Region, ocds: "where", type: label, table: place}
"""


def test_label_reads_the_label_and_writes_the_code() -> None:
    spec = _spec(LABEL)
    release = engine.read(
        _party("<cac:PostalAddress><cbc:Region>anyw-eea</cbc:Region></cac:PostalAddress>"), spec
    )
    assert release["where"] == "Anywhere in the European Economic Area"
    fresh: dict[str, Any] = {"where": "Anywhere in the European Economic Area"}
    out = etree.Element(qname("cac:Party"), nsmap=NS)
    engine.write(fresh, spec, out)
    assert _texts(out, "cac:PostalAddress/cbc:Region") == ["anyw-eea"]


def test_label_keeps_an_unknown_code() -> None:
    spec = _spec(LABEL)
    release = engine.read(
        _party("<cac:PostalAddress><cbc:Region>anyw</cbc:Region></cac:PostalAddress>"), spec
    )
    assert release["where"] == "anyw"


ANCHORS = """
scopes: {notice: {xml: "."}}
rules:
  - {id: v, each: cac:Contact, xml: cbc:Telephone, ocds: "^statistics[_src=$index].value", type: int,
     also: {"^statistics[_src=$index].scope": complaints}, write: false}
  - {id: n, each: cac:Contact, xml: cbc:Name, ocds: "^statistics[_src=$index].measure", write: false}
  - {id: p, each: cac:Contact, xml: cbc:Note, ocds: "prizes[id=$index].id", value: $index, write: false}
"""


def test_anchor_ties_one_element_to_one_object_and_is_removed() -> None:
    root = _party(
        "<cac:Contact><cbc:Name>a</cbc:Name><cbc:Telephone>2</cbc:Telephone><cbc:Note>x</cbc:Note></cac:Contact>"
        "<cac:Contact><cbc:Name>b</cbc:Name><cbc:Telephone>5</cbc:Telephone><cbc:Note>y</cbc:Note></cac:Contact>"
    )
    release = engine.read(root, _spec(ANCHORS))
    assert release["statistics"] == [
        {"id": "1", "value": 2, "scope": "complaints", "measure": "a"},
        {"id": "2", "value": 5, "scope": "complaints", "measure": "b"},
    ]
    assert release["prizes"] == [{"id": "0"}, {"id": "1"}]


EXCLUDE = """
scopes:
  org: {xml: "cac:PartyName", ocds: parties, key: cbc:ID, exclude: [{roles: [selectedParticipant]}]}
rules:
  - {id: name, scope: org, xml: cbc:Name, ocds: name}
"""


def test_excluded_objects_are_not_written() -> None:
    release = {
        "parties": [{"id": "A", "name": "kept"}, {"id": "B", "name": "not", "roles": ["selectedParticipant"]}]
    }
    out = etree.Element(qname("cac:Party"), nsmap=NS)
    engine.write(release, _spec(EXCLUDE), out)
    assert _texts(out, "cac:PartyName/cbc:Name") == ["kept"]
