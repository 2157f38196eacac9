"""DECP v2 test documents written for these tests (every field the 2.0.3 schema defines for a marché)."""

from __future__ import annotations

import copy
from typing import Any

MARCHE: dict[str, Any] = {
    "id": "2024-0042-L1",
    "acheteur": {"id": "21350238800019"},
    "nature": "Marché",
    "objet": "Entretien des espaces verts des résidences du parc social",
    "codeCPV": "77310000-6",
    "techniques": {"technique": ["Accord-cadre"]},
    "modalitesExecution": {"modaliteExecution": ["Bons de commande"]},
    "idAccordCadre": "2023-0001",
    "marcheInnovant": False,
    "ccag": "Fournitures courantes et services",
    "offresRecues": 4,
    "attributionAvance": True,
    "tauxAvance": 0.05,
    "typeGroupementOperateurs": "Conjoint",
    "sousTraitanceDeclaree": True,
    "actesSousTraitance": [
        {
            "acteSousTraitance": {
                "id": 1,
                "sousTraitant": {"typeIdentifiant": "SIRET", "id": "44306184100047"},
                "dureeMois": 12,
                "dateNotification": "2024-04-02",
                "datePublicationDonnees": "2024-04-10",
                "montant": 15000,
                "variationPrix": "Ferme",
            }
        }
    ],
    "procedure": "Appel d'offres ouvert",
    "lieuExecution": {"code": "35238", "typeCode": "Code commune"},
    "dureeMois": 36,
    "dateNotification": "2024-03-15",
    "datePublicationDonnees": "2024-03-20",
    "montant": 480000.5,
    "typesPrix": {"typePrix": ["Définitif révisable"]},
    "formePrix": "Unitaire",
    "origineUE": 0.4,
    "origineFrance": 0.2,
    "titulaires": [
        {"titulaire": {"typeIdentifiant": "SIRET", "id": "51234567800012"}},
        {"titulaire": {"typeIdentifiant": "TVA", "id": "BE0123456789"}},
    ],
    "considerationsSociales": {"considerationSociale": ["Clause sociale"]},
    "considerationsEnvironnementales": {"considerationEnvironnementale": ["Critère environnemental"]},
    "modificationsActesSousTraitance": [
        {
            "modificationActeSousTraitance": {
                "id": 1,
                "dureeMois": 18,
                "dateNotificationModificationSousTraitance": "2024-09-01",
                "montant": 18000,
                "datePublicationDonnees": "2024-09-05",
            }
        }
    ],
    "modifications": [
        {
            "modification": {
                "id": 1,
                "dateNotificationModification": "2024-10-01",
                "datePublicationDonneesModification": "2024-10-03",
                "montant": 510000,
                "dureeMois": 40,
                "titulaires": [{"titulaire": {"typeIdentifiant": "SIRET", "id": "51234567800012"}}],
            }
        }
    ],
}

MINIMAL_MARCHE: dict[str, Any] = {
    "id": "MAPA-7",
    "acheteur": {"id": "21350238800019"},
    "nature": "Marché",
    "objet": "Fourniture de mobilier",
    "codeCPV": "39100000",
    "techniques": {"technique": ["Sans objet"]},
    "modalitesExecution": {"modaliteExecution": ["Sans objet"]},
    "marcheInnovant": False,
    "ccag": "Pas de CCAG",
    "offresRecues": 1,
    "attributionAvance": False,
    "typeGroupementOperateurs": "Pas de groupement",
    "sousTraitanceDeclaree": False,
    "procedure": "Procédure adaptée",
    "lieuExecution": {"code": "35000", "typeCode": "Code postal"},
    "dureeMois": 1,
    "dateNotification": "2024-05-02",
    "datePublicationDonnees": "2024-05-03",
    "montant": 42000,
    "typesPrix": {"typePrix": ["Définitif ferme"]},
    "formePrix": "Forfaitaire",
    "titulaires": [{"titulaire": {"typeIdentifiant": "SIRET", "id": "80000000000017"}}],
    "considerationsSociales": {"considerationSociale": ["Pas de considération sociale"]},
    "considerationsEnvironnementales": {
        "considerationEnvironnementale": ["Pas de considération environnementale"]
    },
}

ENRICH: dict[str, Any] = {
    "organisations": {
        "21350238800019": {
            "name": "Rennes Métropole Habitat",
            "address": {"locality": "Rennes", "postalCode": "35000"},
        },
        "51234567800012": {"name": "Jardins de Bretagne SAS"},
    }
}


def document(*marches: dict[str, Any]) -> dict[str, Any]:
    return {"marches": {"marche": [copy.deepcopy(m) for m in marches]}}
