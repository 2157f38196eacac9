"""Writes the realistic OCDS corpus next to this file (deterministic; written by us, not copied).

    .venv/bin/python -m tests.mappings.realistic.ocds.generate

Each publisher below writes OCDS the way platforms of its kind do (the shapes, not their data): a
French marketplace (SIRET ids, ``countryName`` only, region as text, lots or none, money sometimes
without currency, several releases per ocid), a UK Contracts Finder-like feed (no lots, Companies
House ids, release packages with tender + award releases), a Colombian-like feed (UNSPSC items with
the CPV in ``additionalClassifications``, record packages, direct/limited procedures), a Prozorro-like
feed (ДК021 codes with check digit, hexadecimal lot ids, ``procurementMethodDetails`` that is no
eForms label), German/Spanish/Italian buyers (VAT ids, other languages), a buyer named without id, and
two complete French releases for eForms subtypes 16 and 19. ``profiles.json`` is the platform's
organisation directory for their parties; ``expected.json`` what each document must say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
#: ``expected.json``: file -> {releases: n, procedure: eForms code, cpv: main CPV, subtype, complete}
EXPECTED: dict[str, dict[str, Any]] = {}


def _write(name: str, doc: Any, **expected: Any) -> None:
    (HERE / name).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    EXPECTED[name] = expected


def _release(ocid: str, rid: str, date: str, tag: str, tender: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "id": rid,
        "date": date,
        "tag": [tag],
        "initiationType": "tender",
        **more,
        "tender": tender,
    }


# ---------------------------------------------------------------- French marketplace (fr, SIRET)

FR_BUYERS = [
    ("21350238800019", "Rennes Métropole", "Rennes", "35031", "FRH03"),
    ("21290019700014", "Brest Métropole", "Brest", "29200", "FRH02"),
    ("25560012300018", "Syndicat mixte Eau du Morbihan", "Vannes", "56000", "FRH04"),
    ("20005376700014", "Lannion-Trégor Communauté", "Lannion", "22300", "FRH01"),
]
FR_SUPPLIERS = [
    ("44306184100047", "Jardins de Bretagne SARL", "Betton", "35830", "FRH03"),
    ("38012986600043", "Armor Travaux Publics", "Plérin", "22190", "FRH01"),
]
FR_WORK = [
    ("Entretien des espaces verts", "77310000", "services", ["77311000", "77313000"]),
    ("Réfection de la voirie communale", "45233140", "works", []),
    ("Fourniture de mobilier scolaire", "39160000", "goods", ["39161000"]),
    ("Nettoyage des bâtiments communaux", "90911200", "services", []),
]


def _fr_party(siret: str, name: str, town: str, postcode: str, roles: list[str]) -> dict[str, Any]:
    return {
        "id": f"FR-SIRET-{siret}",
        "name": name,
        "identifier": {"scheme": "FR-SIRET", "id": siret, "legalName": name},
        "address": {"locality": town, "postalCode": postcode, "region": "Bretagne", "countryName": "France"},
        "roles": roles,
    }


def french() -> None:
    for n in range(8):
        siret, buyer, *_ = FR_BUYERS[n % 4]
        title, cpv, category, extra = FR_WORK[n % 4]
        ocid = f"ocds-fr0mp1-2025-{n + 101:04d}"
        items = [{"id": "1", "description": title, "classification": {"scheme": "CPV", "id": cpv}}]
        items += [
            {"id": str(i + 2), "classification": {"scheme": "CPV", "id": c}} for i, c in enumerate(extra)
        ]
        tender: dict[str, Any] = {
            "id": f"2025-{n + 101:04d}",
            "title": title,
            "description": f"{title} pour le compte de {buyer}.",
            "status": "active",
            "mainProcurementCategory": category,
            "procurementMethod": "open",
            "procurementMethodDetails": "Appel d'offres ouvert" if n % 2 else "Procédure adaptée",
            "items": items,
            "value": {"amount": 120000 + 15000 * n}
            if n % 3 == 0
            else {"amount": 90000 + n, "currency": "EUR"},
            "tenderPeriod": {
                "startDate": "2025-03-03T09:00:00+01:00",
                "endDate": f"2025-04-{n + 10:02d}T12:00:00+02:00",
            },
            "contractPeriod": {"durationInDays": 365},
            "submissionMethod": ["electronicSubmission"],
            "documents": [
                {
                    "id": f"DCE-{n}",
                    "documentType": "biddingDocuments",
                    "title": "Dossier de consultation",
                    "url": f"https://marches.example.bzh/dce/{ocid}.zip",
                    "format": "application/zip",
                },
            ],
        }
        if n >= 4:  # lots, as the marketplace writes them ("1", "2")
            tender["lots"] = [
                {
                    "id": str(k),
                    "title": f"{title} — lot {k}",
                    "value": {"amount": 30000 * k, "currency": "EUR"},
                    "tenderPeriod": tender["tenderPeriod"],
                }
                for k in (1, 2, 3)
            ]
            for k, item in enumerate(items):
                item["relatedLot"] = str(k % 3 + 1)
            tender["documents"][0]["relatedLots"] = ["1"]
        release = _release(
            ocid,
            f"{ocid}-tender",
            "2025-03-01T10:00:00+01:00",
            "tender",
            tender,
            language="fr",
            buyer={"id": f"FR-SIRET-{siret}", "name": buyer},
            parties=[_fr_party(*FR_BUYERS[n % 4][:4], roles=["buyer"])],
        )
        if n in (2, 6):  # the same process published twice: the amendment moves the deadline
            amendment = _release(
                ocid,
                f"{ocid}-amendment",
                "2025-03-20T10:00:00+01:00",
                "tenderAmendment",
                {"id": tender["id"], "tenderPeriod": {"endDate": "2025-05-02T12:00:00+02:00"}},
            )
            _write(
                f"fr_{n}_package.json",
                {
                    "uri": f"https://marches.example.bzh/ocds/{ocid}.json",
                    "publishedDate": "2025-03-20T10:00:00+01:00",
                    "releases": [release, amendment],
                },
                releases=1,
                procedure="open",
                cpv=cpv,
            )
        else:
            _write(f"fr_{n}.json", release, releases=1, procedure="open", cpv=cpv)


def french_awards() -> None:
    """A tender and its award in one release package, the winner named by SIRET."""
    for n in range(2):
        siret, _name, *_ = FR_BUYERS[n]
        wsiret, winner, *_ = FR_SUPPLIERS[n]
        ocid = f"ocds-fr0mp1-2024-{n + 501:04d}"
        tender = {
            "id": f"2024-{n + 501:04d}",
            "title": "Travaux de réseaux d'eau potable",
            "procurementMethod": "selective",
            "procurementMethodDetails": "Appel d'offres restreint",
            "mainProcurementCategory": "works",
            "items": [{"id": "1", "classification": {"scheme": "CPV", "id": "45232150"}}],
            "value": {"amount": 800000},
            "tenderPeriod": {"endDate": "2024-06-30T12:00:00+02:00"},
        }
        parties = [
            _fr_party(*FR_BUYERS[n][:4], roles=["buyer"]),
            _fr_party(*FR_SUPPLIERS[n][:4], roles=["supplier"]),
        ]
        first = _release(
            ocid,
            f"{ocid}-01",
            "2024-05-01T09:00:00+02:00",
            "tender",
            tender,
            language="fr",
            buyer={"id": f"FR-SIRET-{siret}"},
            parties=parties,
        )
        award = _release(
            ocid,
            f"{ocid}-02",
            "2024-09-15T09:00:00+02:00",
            "award",
            {"id": tender["id"], "status": "complete"},
            awards=[
                {
                    "id": "1",
                    "status": "active",
                    "date": "2024-09-15T09:00:00+02:00",
                    "value": {"amount": 745000},
                    "suppliers": [{"id": f"FR-SIRET-{wsiret}", "name": winner}],
                }
            ],
        )
        _write(
            f"fr_award_{n}.json",
            {"releases": [first, award]},
            releases=1,
            procedure="restricted",
            cpv="45232150",
        )


def french_many_lots() -> None:
    """A school-catering framework split into twelve lots, one per commune, each with its own item."""
    siret, buyer, *_ = FR_BUYERS[0]
    ocid = "ocds-fr0mp1-2025-0600"
    lots = [
        {
            "id": f"L{k:02d}",
            "title": f"Restauration scolaire — secteur {k}",
            "value": {"amount": 50000 + 1000 * k, "currency": "EUR"},
            "tenderPeriod": {"endDate": "2025-06-30T12:00:00+02:00"},
        }
        for k in range(1, 13)
    ]
    items = [
        {
            "id": f"L{k:02d}-1",
            "relatedLot": f"L{k:02d}",
            "classification": {"scheme": "CPV", "id": "55524000"},
        }
        for k in range(1, 13)
    ]
    tender = {
        "id": "2025-0600",
        "title": "Restauration scolaire",
        "procurementMethod": "open",
        "procurementMethodDetails": "Appel d'offres ouvert",
        "mainProcurementCategory": "services",
        "lots": lots,
        "items": items,
        "value": {"amount": 678000},
    }
    _write(
        "fr_many_lots.json",
        _release(
            ocid,
            f"{ocid}-1",
            "2025-05-15T09:00:00+02:00",
            "tender",
            tender,
            language="fr",
            buyer={"id": f"FR-SIRET-{siret}", "name": buyer},
            parties=[_fr_party(*FR_BUYERS[0][:4], roles=["buyer"])],
        ),
        releases=1,
        procedure="open",
        cpv="55524000",
    )


# ---------------------------------------------------------------- UK Contracts Finder-like (en)

UK = [
    ("GB-COH", "01234567", "Northshire County Council", "Leeds", "LS1 1UR"),
    ("GB-COH", "07654321", "Westbridge NHS Trust", "Bristol", "BS1 3NU"),
]


def uk() -> None:
    releases = []
    for n in range(4):
        scheme, cid, buyer, town, postcode = UK[n % 2]
        ocid = f"ocds-b5fd17-{n + 7000:08x}"
        method, details = (("open", "Open procedure"), ("selective", "Restricted procedure"))[n % 2]
        cpv = ("79410000", "33140000", "72000000", "50700000")[n]
        tender = {
            "id": f"tender_{n + 7000}",
            "title": ("Consultancy services", "Medical consumables", "IT support", "Building maintenance")[n],
            "description": "See the tender documents.",
            "status": "active",
            "procurementMethod": method,
            "procurementMethodDetails": details,
            "items": [{"id": "1", "classification": {"scheme": "CPV", "id": cpv, "description": "CPV"}}],
            "value": {"amount": 250000 + n * 1000, "currency": "GBP"},
            "tenderPeriod": {"endDate": f"2025-0{n + 4}-01T17:00:00Z"},
        }
        party = {
            "id": f"{scheme}-{cid}",
            "name": buyer,
            "identifier": {"scheme": scheme, "id": cid},
            "address": {
                "streetAddress": "County Hall",
                "locality": town,
                "postalCode": postcode,
                "countryName": "United Kingdom",
            },
            "contactPoint": {"email": "procurement@example.gov.uk"},
            "roles": ["buyer"],
        }
        releases.append(
            _release(
                ocid,
                f"{ocid}-tender-1",
                "2025-02-01T00:00:00Z",
                "tender",
                tender,
                language="en",
                buyer={"id": party["id"], "name": buyer},
                parties=[party],
            )
        )
        if n < 2:  # the award follows in the same package (Contracts Finder publishes both)
            supplier = {
                "id": f"GB-COH-0999888{n}",
                "name": f"Acme Supplies {n} Ltd",
                "identifier": {"scheme": "GB-COH", "id": f"0999888{n}"},
                "address": {"countryName": "United Kingdom"},
                "roles": ["supplier"],
            }
            releases.append(
                _release(
                    ocid,
                    f"{ocid}-award-1",
                    "2025-07-01T00:00:00Z",
                    "award",
                    {"id": tender["id"]},
                    parties=[supplier],
                    awards=[
                        {
                            "id": f"{ocid}-award-1",
                            "status": "active",
                            "value": {"amount": 240000, "currency": "GBP"},
                            "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
                        }
                    ],
                )
            )
    _write(
        "uk_package.json",
        {"uri": "https://www.contractsfinder.example/ocds", "version": "1.1", "releases": releases},
        releases=4,
        procedure=["open", "restricted"] * 2,
        cpv=["79410000", "33140000", "72000000", "50700000"],
    )


# ---------------------------------------------------------------- Colombian-like (es, records)


def colombia() -> None:
    records = []
    for n in range(3):
        ocid = f"ocds-k50g02-CO1.BDOS.{n + 880:07d}"
        method = ("direct", "limited", "open")[n]
        cpv = ("30192000", "79710000", "45211000")[n]
        tender = {
            "id": f"CO1.PCCNTR.{n + 880}",
            "title": ("Suministro de papelería", "Servicio de vigilancia", "Construcción de vivienda")[n],
            "procurementMethod": method,
            "procurementMethodDetails": ("Contratación directa", "Selección abreviada", "Licitación pública")[
                n
            ],
            "items": [
                {
                    "id": f"ITEM-{k:03d}",
                    "description": "Ítem",
                    "classification": {"scheme": "UNSPSC", "id": f"4412{k:04d}"},
                    "additionalClassifications": [{"scheme": "CPV", "id": cpv}],
                    "quantity": 10 * k,
                    "unit": {"name": "Unidad"},
                }
                for k in (1, 2)
            ],
            "value": {"amount": 150000000 + n, "currency": "COP"},
            "tenderPeriod": {"endDate": "2025-08-01T23:59:00-05:00"},
        }
        buyer = {
            "id": "CO-NIT-899999061",
            "name": "Alcaldía Mayor de Bogotá",
            "identifier": {"scheme": "CO-NIT", "id": "899999061"},
            "address": {"locality": "Bogotá", "region": "Distrito Capital", "countryName": "Colombia"},
            "roles": ["buyer", "procuringEntity"],
        }
        release = _release(
            ocid,
            f"{ocid}-{n + 1}",
            "2025-07-01T08:00:00-05:00",
            "tender",
            tender,
            language="es",
            buyer={"id": buyer["id"], "name": buyer["name"]},
            parties=[buyer],
        )
        records.append(
            {
                "ocid": ocid,
                "releases": [
                    {"url": f"https://example.gov.co/{ocid}", "date": release["date"], "tag": ["tender"]}
                ],
                "compiledRelease": release,
            }
        )
    _write(
        "co_records.json",
        {"uri": "https://example.gov.co/records", "version": "1.1", "records": records},
        releases=3,
        procedure=["neg-wo-call", "neg-wo-call", "open"],
        cpv=["30192000", "79710000", "45211000"],
    )


# ---------------------------------------------------------------- Prozorro-like (uk)


def prozorro() -> None:
    for n in range(3):
        ocid = f"ocds-be6bcu-UA-2025-0{n + 1}-1{n}-00012{n}-a"
        lots = [
            {
                "id": f"{n}c8e1f0a2b3d4e5f6a7b8c9d0e1f2a3{k}",
                "title": f"Лот {k}",
                "status": "active",
                "value": {"amount": 500000.0 * k, "currency": "UAH", "valueAddedTaxIncluded": True},
            }
            for k in (1, 2)
        ]
        items = [
            {
                "id": f"a{n}{k}f3c9d2e1b0a9f8e7d6c5b4a3f2e1d0",
                "description": "Товар",
                "classification": {
                    "scheme": "ДК021",
                    "id": ("09130000-9", "33600000-6", "45453000-7")[n],
                    "description": "Нафта і дистиляти",
                },
                "relatedLot": lot["id"],
                "quantity": 1000,
                "deliveryAddress": {"countryName": "Україна", "region": "м. Київ", "locality": "Київ"},
            }
            for k, lot in enumerate(lots)
        ]
        tender = {
            "id": f"{n}f1d8c7b6a5e4d3c2b1a0f9e8d7c6b5a",
            "title": "Закупівля",
            "status": "active",
            "procurementMethod": "open",
            "procurementMethodDetails": ("aboveThresholdEU", "aboveThreshold", "belowThreshold")[n],
            "mainProcurementCategory": "goods",
            "lots": lots,
            "items": items,
            "value": {"amount": 1500000.0, "currency": "UAH"},
            "tenderPeriod": {
                "startDate": "2025-02-10T00:00:00+02:00",
                "endDate": "2025-03-01T00:00:00+02:00",
            },
        }
        buyer = {
            "id": "UA-EDR-04011111",
            "name": "Київська міська рада",
            "identifier": {"scheme": "UA-EDR", "id": "04011111"},
            "address": {
                "countryName": "Україна",
                "region": "м. Київ",
                "locality": "Київ",
                "streetAddress": "вул. Хрещатик, 36",
                "postalCode": "01044",
            },
            "roles": ["buyer"],
        }
        _write(
            f"ua_{n}.json",
            {
                "releases": [
                    _release(
                        ocid,
                        f"{n}a2b3c4d5e6f708192a3b4c5d6e7f8091",
                        "2025-02-10T10:00:00+02:00",
                        "tender",
                        tender,
                        language="uk",
                        buyer={"id": buyer["id"], "name": buyer["name"]},
                        parties=[buyer],
                    )
                ]
            },
            releases=1,
            procedure="open",
            cpv=("09130000", "33600000", "45453000")[n],
        )


# ---------------------------------------------------------------- German, Spanish, Italian buyers (VAT)

EU = [
    (
        "de",
        "DE-VAT",
        "DE122268496",
        "Beschaffungsamt der Stadt Köln",
        "Köln",
        "50667",
        "Deutschland",
        "Offenes Verfahren",
        "open",
        "Lieferung von Büromaterial",
        "30192000",
    ),
    (
        "es",
        "ES-VAT",
        "ESP2807900B",
        "Ayuntamiento de Madrid",
        "Madrid",
        "28005",
        "España",
        "Procedimiento restringido",
        "selective",
        "Servicio de limpieza viaria",
        "90610000",
    ),
    (
        "it",
        "IT-VAT",
        "IT01199250158",
        "Comune di Milano",
        "Milano",
        "20121",
        "Italia",
        "Procedura aperta",
        "open",
        "Manutenzione del verde pubblico",
        "77313000",
    ),
]


def european() -> None:
    for n, (lang, scheme, vat, name, town, postcode, country, details, method, title, cpv) in enumerate(EU):
        for k in range(2):
            ocid = f"ocds-eu{lang}00-{2025}-{k + 1:03d}"
            tender = {
                "id": f"{lang.upper()}-{k + 1:03d}/2025",
                "title": title,
                "description": title,
                "procurementMethod": method,
                "procurementMethodDetails": details if k == 0 else None,
                "mainProcurementCategory": "goods" if n == 0 else "services",
                "items": [{"id": "42", "classification": {"scheme": "CPV", "id": f"{cpv}-{k}"}}],
                "value": {"amount": 200000 + k, "currency": "EUR"},
                "tenderPeriod": {"endDate": "2025-10-15T10:00:00+02:00"},
            }
            tender = {key: v for key, v in tender.items() if v is not None}
            party = {
                "id": f"{lang}-buyer",
                "name": name,
                "identifier": {"scheme": scheme, "id": vat},
                "address": {"locality": town, "postalCode": postcode, "countryName": country},
                "roles": ["buyer"],
            }
            _write(
                f"{lang}_{k}.json",
                _release(
                    ocid,
                    f"{ocid}-{k}",
                    "2025-09-01T08:00:00+02:00",
                    "tender",
                    tender,
                    language=lang,
                    buyer={"id": party["id"]},
                    parties=[party],
                ),
                releases=1,
                procedure="restricted" if method == "selective" else "open",
                cpv=cpv,
            )


# ---------------------------------------------------------------- buyer named without id


def buyer_without_id() -> None:
    for n in range(2):
        ocid = f"ocds-fr0mp1-2025-{n + 901:04d}"
        tender = {
            "id": f"2025-{n + 901:04d}",
            "title": "Maîtrise d'œuvre",
            "procurementMethod": "limited",
            "items": [{"id": "1", "classification": {"scheme": "CPV", "id": "71240000"}}],
            "value": {"amount": 60000, "currency": "EUR"},
        }
        doc = _release(
            ocid,
            f"{ocid}-1",
            "2025-05-05T09:00:00+02:00",
            "tender",
            tender,
            language="fr",
            buyer={"name": "Commune de Saint-Malo"},
        )
        if n:
            doc["parties"] = [
                {"name": "Commune de Saint-Malo", "roles": ["buyer"], "address": {"countryName": "France"}}
            ]
        _write(f"fr_noid_{n}.json", doc, releases=1, procedure="neg-wo-call", cpv="71240000")


# ---------------------------------------------------------------- complete releases (subtypes 16 and 19)


def _complete_parties(buyer_roles: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": "FR-SIRET-21350238800019",
            "name": "Rennes Métropole",
            "identifier": {"scheme": "FR-SIRET", "id": "21350238800019"},
            "roles": buyer_roles,
        },
        {
            "id": "TA-RENNES",
            "name": "Tribunal administratif de Rennes",
            "identifier": {"scheme": "FR-SIRET", "id": "17350001700012"},
            "roles": ["reviewBody"],
        },
    ]


def complete() -> None:
    roles = ["buyer", "processContactPoint", "reviewContactPoint", "submissionReceiptBody"]
    cn16 = _release(
        "ocds-fr0mp1-2025-0777",
        "6d0b6a44-2f4e-4a52-9c41-5d6f0e1a7b90",
        "2025-06-02T09:00:00+02:00",
        "tender",
        {
            "id": "3f2c8e0a-5b7d-4c1e-9a6f-2d4b8c0e1f37",
            "title": "Collecte et traitement des déchets verts",
            "description": "Collecte, transport et compostage des déchets verts des déchèteries.",
            "procurementMethod": "open",
            "procurementMethodDetails": "Appel d'offres ouvert",
            "mainProcurementCategory": "services",
            "legalBasis": {"wasDerivedFrom": {"id": "32014L0024", "scheme": "CELEX"}},
            "items": [
                {
                    "id": "1",
                    "classification": {"scheme": "CPV", "id": "90513000"},
                    "deliveryAddresses": [{"region": "FRH03", "country": "FR"}],
                }
            ],
            "value": {"amount": 1200000, "currency": "EUR"},
            "tenderPeriod": {"endDate": "2025-07-15T12:00:00+02:00"},
            "awardPeriod": {"startDate": "2025-07-15T14:00:00+02:00"},
            "contractPeriod": {"durationInDays": 1460},
            "coveredBy": ["GPA"],
            "submissionTerms": {
                "electronicSubmissionPolicy": "required",
                "languages": ["fr"],
                "bidValidityPeriod": {"durationInDays": 120},
                "electronicCatalogPolicy": "notAllowed",
            },
            "procedure": {"isAccelerated": False},
            "selectionCriteria": {"sources": ["epo-procurement-document"]},
            "exclusionGrounds": {"sources": ["epo-procurement-document"]},
            "awardCriteria": {
                "criteria": [
                    {"type": "quality", "description": "Valeur technique"},
                    {"type": "price", "description": "Prix"},
                ]
            },
            "documents": [
                {
                    "id": "DCE-0777",
                    "documentType": "biddingDocuments",
                    "url": "https://marches.example.bzh/dce/0777",
                }
            ],
            "submissionMethodDetails": "https://marches.example.bzh/depot/0777",
            "techniques": {"hasElectronicAuction": False},
            "contractTerms": {
                "reservedExecution": False,
                "electronicInvoicingPolicy": "required",
                "hasElectronicOrdering": False,
                "hasElectronicPayment": True,
            },
            "reviewDetails": "Référé précontractuel devant le tribunal administratif de Rennes.",
        },
        language="fr",
        buyer={"id": "FR-SIRET-21350238800019"},
        parties=_complete_parties(roles),
    )
    _write(
        "fr_complete_16.json", cn16, releases=1, procedure="open", cpv="90513000", subtype="16", complete=True
    )
    cn19 = json.loads(json.dumps(cn16))
    cn19["id"] = "9a1e5c3b-7d2f-4e8a-b6c0-1f3d5e7a9b24"
    cn19["ocid"] = "ocds-fr0mp1-2025-0778"
    tender = cn19["tender"]
    tender.update(
        {
            "id": "c4e6a8b0-2d4f-4a6c-8e0b-3d5f7a9c1e46",
            "title": "Concession de service public du réseau de chaleur",
            "description": "Exploitation du réseau de chaleur urbain nord.",
            "legalBasis": {"wasDerivedFrom": {"id": "32014L0023", "scheme": "CELEX"}},
            "procurementMethod": "selective",
            "procurementMethodDetails": "Other multiple stage procedure",
            "items": [
                {
                    "id": "1",
                    "classification": {"scheme": "CPV", "id": "71314000"},
                    "deliveryAddresses": [{"region": "FRH03", "country": "FR"}],
                }
            ],
            "value": {"amount": 30000000, "currency": "EUR"},
            "contractPeriod": {"durationInDays": 5475},
        }
    )
    for key in ("awardPeriod", "coveredBy"):
        tender.pop(key)
    _write(
        "fr_complete_19.json",
        cn19,
        releases=1,
        procedure="oth-mult",
        cpv="71314000",
        subtype="19",
        complete=True,
    )


# ---------------------------------------------------------------- organisation profiles


def _fr_profile(name: str, town: str, postcode: str, nuts: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "address": {
            "streetAddress": "1 place de la Mairie",
            "locality": town,
            "postalCode": postcode,
            "country": "FR",
        },
        "nuts": nuts,
        "contactPoint": {"email": "marches@example.bzh", "telephone": "+33 2 99 00 00 00"},
        **more,
    }


def profiles() -> None:
    orgs: dict[str, Any] = {}
    for siret, name, town, postcode, nuts in FR_BUYERS:
        orgs[f"FR-SIRET:{siret}"] = _fr_profile(
            name, town, postcode, nuts, buyerLegalType="la", mainActivity="gen-pub"
        )
    for siret, name, town, postcode, nuts in FR_SUPPLIERS:
        orgs[f"FR-SIRET:{siret}"] = _fr_profile(name, town, postcode, nuts, companySize="small")
    orgs["FR-SIRET:17350001700012"] = _fr_profile(
        "Tribunal administratif de Rennes", "Rennes", "35044", "FRH03"
    )
    orgs["Commune de Saint-Malo"] = _fr_profile(
        "Commune de Saint-Malo",
        "Saint-Malo",
        "35400",
        "FRH03",
        peppol=["0009:21350288300012"],
        buyerLegalType="la",
        mainActivity="gen-pub",
    )
    for scheme, cid, name, town, postcode in UK:
        orgs[f"{scheme}:{cid}"] = {
            "name": name,
            "address": {"locality": town, "postalCode": postcode, "country": "GB"},
            "nuts": "UKE42",
            "contactPoint": {"email": "procurement@example.gov.uk"},
            "peppol": [f"0088:50{cid}00000"[:18]],
            "buyerLegalType": "ra",
            "mainActivity": "gen-pub",
        }
    orgs["CO-NIT:899999061"] = {
        "name": "Alcaldía Mayor de Bogotá",
        "address": {"locality": "Bogotá", "postalCode": "111711", "country": "CO"},
        "contactPoint": {"email": "contratacion@example.gov.co"},
        "peppol": ["0088:7700000000017"],
        "buyerLegalType": "ra",
        "mainActivity": "gen-pub",
    }
    orgs["UA-EDR:04011111"] = {
        "name": "Київська міська рада",
        "address": {"locality": "Київ", "postalCode": "01044", "country": "UA"},
        "contactPoint": {"email": "zakupivli@example.gov.ua"},
        "peppol": ["0088:4820000000013"],
        "buyerLegalType": "ra",
        "mainActivity": "gen-pub",
    }
    for lang, scheme, vat, name, town, postcode, *_ in EU:
        country = vat[:2]
        orgs[f"{scheme}:{vat}"] = {
            "name": name,
            "address": {"locality": town, "postalCode": postcode, "country": country},
            "nuts": {"DE": "DEA23", "ES": "ES300", "IT": "ITC4C"}[country],
            "contactPoint": {"email": f"vergabe@example.{lang}"},
            "buyerLegalType": "ra",
            "mainActivity": "gen-pub",
        }
    # a VAT number is a Peppol endpoint only: the party identifier comes from another scheme
    orgs["DE-VAT:DE122268496"]["peppol"] = {
        "endpoint": {"scheme": "9930", "id": "DE122268496"},
        "identifier": {"scheme": "0204", "id": "05315-12345-67"},
    }
    orgs["ES-VAT:ESP2807900B"]["peppol"] = {
        "endpoint": {"scheme": "9920", "id": "ESP2807900B"},
        "identifier": {"scheme": "0088", "id": "8400000000012"},
    }
    for n in range(2):
        orgs[f"GB-COH:0999888{n}"] = {
            "name": f"Acme Supplies {n} Ltd",
            "address": {"locality": "London", "postalCode": "EC1A 1BB", "country": "GB"},
            "nuts": "UKI31",
            "contactPoint": {"email": "bids@acme.example"},
            "companySize": "medium",
            "peppol": [f"0088:501234500000{n}"],
        }
    _write_profiles({"organisations": orgs, "defaults": {"currency": "EUR"}})


def _write_profiles(doc: dict[str, Any]) -> None:
    (HERE / "profiles.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def main() -> None:
    for old in HERE.glob("*.json"):
        old.unlink()
    french()
    french_awards()
    french_many_lots()
    uk()
    colombia()
    prozorro()
    european()
    buyer_without_id()
    complete()
    profiles()
    (HERE / "expected.json").write_text(
        json.dumps(EXPECTED, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
