"""Fixtures of the mapping tests: corpus paths, compiled XSDs and the eForms field model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

EFORMS = Path("eforms-sdk-1.14.2")
IN_SCOPE_SUBTYPES = ("16", "29", "E3", "E4")


def notice_subtype(path: Path) -> str:
    tree = etree.parse(str(path))
    found = tree.xpath(
        "//*[local-name()='NoticeSubType']/*[local-name()='SubTypeCode']/text()",
    )
    return str(found[0]) if isinstance(found, list) and found else ""


@pytest.fixture(scope="session")
def eforms_dir(corpus: Path) -> Path:
    return corpus / EFORMS


@pytest.fixture(scope="session")
def eforms_schemas(eforms_dir: Path) -> dict[str, etree.XMLSchema]:
    maindoc = eforms_dir / "schemas" / "maindoc"
    return {
        "cn": etree.XMLSchema(etree.parse(str(maindoc / "UBL-ContractNotice-2.3.xsd"))),
        "can": etree.XMLSchema(etree.parse(str(maindoc / "UBL-ContractAwardNotice-2.3.xsd"))),
    }


@pytest.fixture(scope="session")
def eforms_fields(eforms_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((eforms_dir / "fields" / "fields.json").read_text(encoding="utf-8"))
    fields: list[dict[str, Any]] = data["fields"]
    return fields
