"""Write the realistic DECP test corpus: files shaped like French publishers' DECP v2 files.

Written by us (no publisher's file is copied): every organisation, SIRET and amount is invented (SIRETs
have a valid Luhn key). The shapes are those real files have: many marchés per file, lots published as
separate marchés (``2024-017-L01``…), subsequent marchés of a framework agreement, concessions (DSP,
works, public service) with annual execution data, several modifications per contract (amount,
duration, new holders), joint and several groupings, declared subcontracting with special acts and
their modifications, the six procedure labels, SIRET / TVA / HORS-UE / TAHITI / RIDET holders.

``python -m tests.mappings.realistic.decp.generate`` rewrites ``*.json`` next to this file
(deterministic: same output every run); ``profiles.json`` holds the organisation profiles of every
party (name, address, NUTS, contact, BT-10/BT-11 for buyers, BT-165 for holders).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
SEED: Final = 20240601

PROCEDURES: Final = (
    "Procédure adaptée",
    "Appel d'offres ouvert",
    "Appel d'offres restreint",
    "Procédure avec négociation",
    "Marché passé sans publicité ni mise en concurrence préalable",
    "Dialogue compétitif",
)
CONCESSION_PROCEDURES: Final = (
    "Procédure négociée ouverte",
    "Procédure non négociée ouverte",
    "Procédure négociée restreinte",
    "Procédure non négociée restreinte",
)
#: (CPV, object, CCAG) by kind of purchase.
PURCHASES: Final = (
    ("45233140-2", "Travaux de voirie et réseaux divers", "Travaux"),
    ("45210000", "Construction d'un groupe scolaire", "Travaux"),
    ("45453000-7", "Réhabilitation de logements sociaux", "Travaux"),
    ("71000000", "Mission de maîtrise d'œuvre", "Maitrise d'œuvre"),
    ("77310000-6", "Entretien des espaces verts", "Fournitures courantes et services"),
    ("90910000", "Nettoyage des locaux administratifs", "Fournitures courantes et services"),
    (
        "15800000",
        "Fourniture de denrées alimentaires pour la restauration scolaire",
        "Fournitures courantes et services",
    ),
    ("33600000", "Fourniture de médicaments", "Fournitures courantes et services"),
    ("34144900", "Acquisition de véhicules électriques", "Fournitures courantes et services"),
    (
        "72000000",
        "Maintenance du système d'information",
        "Techniques de l'information et de la communication",
    ),
    ("79410000", "Assistance à maîtrise d'ouvrage", "Prestations intellectuelles"),
    ("09310000", "Fourniture d'électricité", "Pas de CCAG"),
    ("60112000", "Transport scolaire", "Fournitures courantes et services"),
    ("42000000", "Fourniture d'équipements industriels", "Marchés industriels"),
)
TOWNS: Final = (
    ("Rennes", "35000", "FRH03", "35238"),
    ("Brest", "29200", "FRH02", "29019"),
    ("Vannes", "56000", "FRH04", "56260"),
    ("Saint-Brieuc", "22000", "FRH01", "22278"),
    ("Nantes", "44000", "FRG01", "44109"),
    ("Paris", "75012", "FR101", "75112"),
    ("Lyon", "69003", "FRK26", "69383"),
    ("Toulouse", "31000", "FRJ23", "31555"),
    ("Marseille", "13002", "FRL04", "13202"),
    ("Bordeaux", "33000", "FRI12", "33063"),
    ("Lille", "59000", "FRE11", "59350"),
)
PLACES: Final = ("Armor", "Océane", "Horizon", "Vallée", "Atlantique", "Rhône", "Alpes")
SIZES: Final = ("micro", "small", "medium", "large")
STREETS: Final = (
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard de la Liberté",
    "place de la Mairie",
)


def luhn_siret(rng: random.Random, prefix: str = "") -> str:
    """A 14-digit SIRET with a valid Luhn key (as INSEE issues them)."""
    while True:
        digits = prefix + "".join(str(rng.randrange(10)) for _ in range(14 - len(prefix)))
        total = 0
        for i, d in enumerate(reversed(digits)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return digits


class Corpus:
    """The organisations and files being written."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.profiles: dict[str, dict[str, Any]] = {}
        self.companies: list[tuple[str, str]] = []  # (typeIdentifiant, id)

    def town(self) -> tuple[str, str, str, str]:
        return self.rng.choice(TOWNS)

    def buyer(self, name: str, legal_type: str, activity: str, town: int) -> str:
        siret = luhn_siret(self.rng, "2")
        locality, postcode, nuts, _ = TOWNS[town]
        self.profiles[siret] = {
            "name": name,
            "address": {
                "streetAddress": f"{self.rng.randrange(1, 80)} {self.rng.choice(STREETS)}",
                "locality": locality,
                "postalCode": postcode,
                "country": "FR",
            },
            "nuts": nuts,
            "contactPoint": {
                "name": "Service de la commande publique",
                "email": f"marches@acheteur-{len(self.profiles) + 1}.example",
                "telephone": f"+33 2 {self.rng.randrange(10, 99)} {self.rng.randrange(10, 99)} "
                f"{self.rng.randrange(10, 99)} {self.rng.randrange(10, 99)}",
            },
            "buyerLegalType": legal_type,
            "mainActivity": activity,
        }
        return siret

    def company(self, kind: str = "SIRET") -> dict[str, str]:
        n = len(self.companies) + 1
        if kind == "SIRET":
            ident = luhn_siret(self.rng, str(self.rng.choice((3, 4, 5, 7, 8))))
            country, (locality, postcode, nuts, _) = "FR", self.town()
        elif kind == "TVA":
            country = self.rng.choice(("BE", "DE", "ES"))
            ident = {"BE": "BE0", "DE": "DE", "ES": "ESB"}[country] + "".join(
                str(self.rng.randrange(10)) for _ in range(9 if country != "ES" else 8)
            )
            locality, postcode, nuts = {
                "BE": ("Bruxelles", "1000", "BE100"),
                "DE": ("München", "80331", "DE212"),
                "ES": ("Madrid", "28001", "ES300"),
            }[country]
        elif kind == "HORS-UE":
            country, ident = "CH", f"CHE{self.rng.randrange(100000000, 999999999)}"
            locality, postcode, nuts = "Genève", "1201", "CH013"
        elif kind == "TAHITI":
            country, ident = "PF", f"{self.rng.randrange(100000, 999999)}"
            locality, postcode, nuts = "Papeete", "98714", ""
        else:  # RIDET
            country, ident = "NC", f"{self.rng.randrange(1000000, 9999999)}.001"
            locality, postcode, nuts = "Nouméa", "98800", ""
        self.companies.append((kind, ident))
        self.profiles[ident] = {
            "name": f"{self.rng.choice(('Entreprise', 'Société', 'Groupe', 'Atelier', 'Cabinet'))} "
            f"{self.rng.choice(PLACES)} {n}",
            "address": {
                "streetAddress": f"{self.rng.randrange(1, 200)} {self.rng.choice(STREETS)}",
                "locality": locality,
                "postalCode": postcode,
                "country": country,
            },
            **({"nuts": nuts} if nuts else {}),  # none outside the NUTS area (PF, NC)
            "contactPoint": {
                "email": f"contact@entreprise-{n}.example",
                "telephone": f"+33 1 00 00 {n:02d} 00",
            },
            "companySize": self.rng.choice(SIZES),
        }
        return {"typeIdentifiant": kind, "id": ident}

    def holders(self, count: int, kinds: tuple[str, ...] = ("SIRET",)) -> list[dict[str, str]]:
        return [self.company(self.rng.choice(kinds)) for _ in range(count)]

    def marche(
        self,
        buyer: str,
        mid: str,
        *,
        day: str,
        procedure: str | None = None,
        holders: int = 1,
        kinds: tuple[str, ...] = ("SIRET",),
        modifications: int = 0,
        subcontracting: int = 0,
        framework: str | None = None,
        nature: str = "Marché",
        purchase: int | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        cpv, objet, ccag = PURCHASES[purchase if purchase is not None else rng.randrange(len(PURCHASES))]
        titulaires = self.holders(holders, kinds)
        amount = round(rng.uniform(40000, 4000000), 2)
        months = rng.choice((6, 12, 24, 36, 48))
        techniques = ["Accord-cadre"] if framework == "" else ["Sans objet"]
        if rng.random() < 0.15:
            techniques = (
                ["Accord-cadre", "Enchère électronique"] if framework == "" else ["Catalogue électronique"]
            )
        marche: dict[str, Any] = {
            "id": mid,
            "acheteur": {"id": buyer},
            "nature": nature,
            "objet": f"{objet} — {mid}",
            "codeCPV": cpv,
            "techniques": {"technique": techniques},
            "modalitesExecution": {
                "modaliteExecution": ["Bons de commande"]
                if framework == ""
                else [rng.choice(("Tranches", "Sans objet"))]
            },
            "marcheInnovant": rng.random() < 0.1,
            "ccag": ccag,
            "offresRecues": rng.randrange(1, 12),
            "attributionAvance": (advance := rng.random() < 0.4),
            "typeGroupementOperateurs": "Pas de groupement"
            if holders == 1
            else rng.choice(("Conjoint", "Solidaire")),
            "sousTraitanceDeclaree": subcontracting > 0,
            "procedure": procedure or rng.choice(PROCEDURES),
            "lieuExecution": rng.choice(
                (
                    {"code": self.profiles[buyer]["address"]["postalCode"], "typeCode": "Code postal"},
                    {"code": "35238", "typeCode": "Code commune"},
                    {"code": "35", "typeCode": "Code département"},
                    {"code": "53", "typeCode": "Code région"},
                )
            ),
            "dureeMois": months,
            "dateNotification": day,
            "datePublicationDonnees": _later(day, rng.randrange(1, 25)),
            "montant": amount,
            "typesPrix": {
                "typePrix": [rng.choice(("Définitif ferme", "Définitif révisable", "Définitif actualisable"))]
            },
            "formePrix": rng.choice(("Unitaire", "Forfaitaire", "Mixte")),
            "titulaires": [{"titulaire": t} for t in titulaires],
            "considerationsSociales": {
                "considerationSociale": [
                    rng.choice(("Pas de considération sociale", "Clause sociale", "Critère social"))
                ]
            },
            "considerationsEnvironnementales": {
                "considerationEnvironnementale": [
                    rng.choice(
                        (
                            "Pas de considération environnementale",
                            "Clause environnementale",
                            "Critère environnemental",
                        )
                    )
                ]
            },
        }
        if advance:
            marche["tauxAvance"] = rng.choice((0, 0.05, 0.1, 0.2))
        if framework:
            marche["idAccordCadre"] = framework
        if cpv.startswith(("15", "33", "34")):
            eu = round(rng.uniform(0.3, 1), 2)
            marche["origineUE"], marche["origineFrance"] = eu, round(eu * rng.uniform(0.2, 1), 2)
        if subcontracting:
            acts = []
            for k in range(subcontracting):
                acts.append(
                    {
                        "acteSousTraitance": {
                            "id": k + 1,
                            "sousTraitant": self.company("SIRET"),
                            "dureeMois": max(1, months // 2),
                            "dateNotification": _later(day, 30 * (k + 1)),
                            "datePublicationDonnees": _later(day, 30 * (k + 1) + 5),
                            "montant": round(amount * rng.uniform(0.02, 0.2), 2),
                            "variationPrix": rng.choice(("Ferme", "Actualisable", "Révisable")),
                        }
                    }
                )
            marche["actesSousTraitance"] = acts
            marche["modificationsActesSousTraitance"] = [
                {
                    "modificationActeSousTraitance": {
                        "id": 1,
                        "dureeMois": months,
                        "dateNotificationModificationSousTraitance": _later(day, 200),
                        "montant": round(amount * 0.25, 2),
                        "datePublicationDonnees": _later(day, 210),
                    }
                }
            ]
        if modifications:
            mods = []
            current = titulaires
            for k in range(modifications):
                mod: dict[str, Any] = {
                    "id": k + 1,
                    "dateNotificationModification": _later(day, 90 * (k + 1)),
                    "datePublicationDonneesModification": _later(day, 90 * (k + 1) + 7),
                }
                change = k % 3
                if change in (0, 2):
                    amount = round(amount * rng.uniform(1.02, 1.15), 2)
                    mod["montant"] = amount
                if change in (1, 2):
                    months += rng.choice((3, 6, 12))
                    mod["dureeMois"] = months
                if change == 2:  # a holder is replaced (assignment of the contract)
                    current = [*current[:-1], self.company("SIRET")]
                    mod["titulaires"] = [{"titulaire": t} for t in current]
                mods.append({"modification": mod})
            marche["modifications"] = mods
        return marche

    def concession(
        self, authority: str, cid: str, *, day: str, nature: str, modifications: int = 0
    ) -> dict[str, Any]:
        rng = self.rng
        value = round(rng.uniform(500000, 60000000), 2)
        months = rng.choice((60, 84, 120, 240, 360))
        objet = {
            "Concession de travaux": "Construction et exploitation d'un parc de stationnement",
            "Concession de service": "Exploitation du service de fourrière automobile",
            "Concession de service public": "Exploitation du réseau de transport urbain",
            "Délégation de service public": "Gestion du service public de l'eau potable",
        }[nature]
        concession: dict[str, Any] = {
            "id": cid,
            "autoriteConcedante": {"id": authority},
            "nature": nature,
            "objet": objet,
            "procedure": rng.choice(CONCESSION_PROCEDURES),
            "dureeMois": months,
            "dateSignature": day,
            "datePublicationDonnees": _later(day, rng.randrange(5, 30)),
            "dateDebutExecution": _later(day, rng.randrange(30, 120)),
            "valeurGlobale": value,
            "montantSubventionPublique": rng.choice((0, round(value * 0.1, 2))),
            "donneesExecution": [
                {
                    "donneesAnnuelles": {
                        "datePublicationDonneesExecution": _later(day, 365 * (y + 1)),
                        "depensesInvestissement": round(rng.uniform(0, 2000000), 2),
                        "tarifs": [
                            {"tarif": {"intituleTarif": "Tarif plein", "tarif": round(rng.uniform(1, 5), 2)}},
                            {
                                "tarif": {
                                    "intituleTarif": "Tarif réduit",
                                    "tarif": round(rng.uniform(0.5, 2), 2),
                                }
                            },
                        ],
                    }
                }
                for y in range(rng.randrange(0, 3))
            ],
            "concessionnaires": [{"concessionnaire": t} for t in self.holders(rng.choice((1, 1, 2)))],
            "considerationsSociales": {"considerationSociale": ["Pas de considération sociale"]},
            "considerationsEnvironnementales": {"considerationEnvironnementale": ["Clause environnementale"]},
        }
        if not concession["donneesExecution"]:
            del concession["donneesExecution"]
        if modifications:
            mods = []
            for k in range(modifications):
                mod: dict[str, Any] = {
                    "id": k + 1,
                    "dateSignatureModification": _later(day, 400 * (k + 1)),
                    "datePublicationDonneesModification": _later(day, 400 * (k + 1) + 10),
                }
                if k % 2 == 0:
                    value = round(value * 1.08, 2)
                    mod["valeurGlobale"] = value
                else:
                    months += 24
                    mod["dureeMois"] = months
                mods.append({"modification": mod})
            concession["modifications"] = mods
        return concession


def _later(day: str, days: int) -> str:
    import datetime

    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=days)).isoformat()


def _day(rng: random.Random, year: int = 2024) -> str:
    return f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def build() -> dict[str, Any]:
    """``{file name: document}`` of the corpus, plus ``profiles.json``."""
    c = Corpus()
    rng = c.rng
    files: dict[str, Any] = {}
    metropole = c.buyer("Métropole de l'Ouest", "la", "gen-pub", 0)
    commune = c.buyer("Commune de Saint-Aubin", "la", "gen-pub", 1)
    departement = c.buyer("Département du Littoral", "ra", "gen-pub", 3)
    region = c.buyer("Région Atlantique", "ra", "econ-aff", 4)
    chu = c.buyer("Centre hospitalier universitaire", "body-pl", "health", 5)
    syndicat = c.buyer("Syndicat intercommunal des eaux", "body-pl-la", "env-pro", 2)
    hlm = c.buyer("Office public de l'habitat", "body-pl-la", "hc-am", 6)
    universite = c.buyer("Université du Grand Ouest", "body-pl", "education", 7)
    defense = c.buyer("Établissement du service d'infrastructure de la défense", "cga", "defence", 8)
    agglo = c.buyer("Communauté d'agglomération du Bassin", "la", "gen-pub", 9)
    outremer = c.buyer("Collectivité d'outre-mer", "ra", "gen-pub", 10)

    # a metropolis: one consultation in lots, each lot its own marché
    files["metropole-lots.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    metropole,
                    f"2024-017-L{k:02d}",
                    day="2024-03-12",
                    procedure="Appel d'offres ouvert",
                    purchase=k,
                )
                for k in range(1, 9)
            ]
        }
    }
    # a small commune: MAPA marchés, one holder each
    files["commune-mapa.json"] = {
        "marches": {
            "marche": [
                c.marche(commune, f"MAPA{24000 + k}", day=_day(rng), procedure="Procédure adaptée")
                for k in range(1, 13)
            ]
        }
    }
    # a département: modifications (several per contract), some with a new holder
    files["departement-avenants.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    departement,
                    f"D24-{k:03d}",
                    day=_day(rng, 2023),
                    modifications=1 + k % 4,
                    holders=1 + k % 2,
                )
                for k in range(1, 7)
            ]
        }
    }
    # a region: a framework agreement and its subsequent marchés, grouped holders
    framework_id = "AC-2023-05"
    files["region-accords-cadres.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    region,
                    framework_id,
                    day="2023-06-01",
                    framework="",
                    holders=3,
                    procedure="Appel d'offres restreint",
                ),
                *(
                    c.marche(
                        region, f"{framework_id}-MS{k}", day=_day(rng), framework=framework_id, holders=1
                    )
                    for k in range(1, 6)
                ),
            ]
        }
    }
    # a university hospital: supplies, foreign (VAT) holders, EU/France origin shares
    files["chu-fournitures.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    chu,
                    f"CHU24F{k:03d}",
                    day=_day(rng),
                    kinds=("SIRET", "TVA"),
                    purchase=rng.choice((6, 7, 8)),
                )
                for k in range(1, 11)
            ]
        }
    }
    # a water syndicate: public-service delegations with modifications, and a works marché
    files["syndicat-eau-dsp.json"] = {
        "marches": {
            "marche": [c.marche(syndicat, "SIE-2024-T1", day="2024-02-02", purchase=0, subcontracting=1)],
            "contrat-concession": [
                c.concession(
                    syndicat,
                    "DSP-EAU-2024",
                    day="2024-01-15",
                    nature="Délégation de service public",
                    modifications=2,
                ),
                c.concession(
                    syndicat,
                    "DSP-ASST-2022",
                    day="2022-07-01",
                    nature="Délégation de service public",
                    modifications=3,
                ),
            ],
        }
    }
    # a housing office: declared subcontracting with special acts and their modifications
    files["hlm-sous-traitance.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    hlm, f"OPH-{k}", day=_day(rng), subcontracting=1 + k % 3, purchase=2, holders=1 + k % 3
                )
                for k in range(1, 7)
            ]
        }
    }
    # a university: negotiated procedures, competitive dialogue, partnership contract
    files["universite-procedures.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    universite,
                    "UGO-DC-01",
                    day="2024-04-04",
                    procedure="Dialogue compétitif",
                    nature="Marché de partenariat",
                ),
                c.marche(universite, "UGO-PN-02", day="2024-05-05", procedure="Procédure avec négociation"),
                c.marche(
                    universite,
                    "UGO-SP-03",
                    day="2024-06-06",
                    procedure="Marché passé sans publicité ni mise en concurrence préalable",
                    kinds=("HORS-UE",),
                ),
                c.marche(universite, "UGO-AOR-04", day="2024-07-07", procedure="Appel d'offres restreint"),
            ]
        }
    }
    # defence: defence and security marchés
    files["defense-securite.json"] = {
        "marches": {
            "marche": [
                c.marche(defense, f"ESID{k:02d}", day=_day(rng), nature="Marché de défense ou de sécurité")
                for k in range(1, 5)
            ]
        }
    }
    # an agglomeration: concessions only (works, service, public service)
    files["agglo-concessions.json"] = {
        "marches": {
            "contrat-concession": [
                c.concession(
                    agglo, "CONC-PARK-01", day="2023-09-01", nature="Concession de travaux", modifications=1
                ),
                c.concession(agglo, "CONC-FOUR-02", day="2024-02-01", nature="Concession de service"),
                c.concession(
                    agglo,
                    "CSP-TRANS-03",
                    day="2022-01-01",
                    nature="Concession de service public",
                    modifications=2,
                ),
            ]
        }
    }
    # overseas: holders identified by TAHITI and RIDET numbers
    files["outremer-identifiants.json"] = {
        "marches": {
            "marche": [
                c.marche(outremer, f"COM-{k}", day=_day(rng), kinds=("TAHITI", "RIDET")) for k in range(1, 5)
            ]
        }
    }
    # a year of a big publisher: many marchés of every kind in one file
    files["annee-complete.json"] = {
        "marches": {
            "marche": [
                c.marche(
                    rng.choice((metropole, commune, departement, hlm)),
                    f"2024-{k:04d}",
                    day=_day(rng),
                    modifications=rng.choice((0, 0, 1, 2)),
                    holders=rng.choice((1, 1, 2)),
                    subcontracting=rng.choice((0, 0, 1)),
                )
                for k in range(1, 41)
            ],
            "contrat-concession": [
                c.concession(
                    metropole, "2024-DSP-01", day="2024-03-01", nature="Concession de service public"
                )
            ],
        }
    }
    files["profiles.json"] = platform_directory(files, c.profiles, defense)
    return files


#: The review bodies (tribunaux administratifs; their SIRETs invented like the others).
REVIEW_BODIES: Final = {
    "FR-SIRET:17350411900017": (
        "Tribunal administratif de Rennes",
        "3 contour de la Motte",
        "Rennes",
        "35044",
        "FRH03",
    ),
    "FR-SIRET:17750111100016": (
        "Tribunal administratif de Paris",
        "7 rue de Jouy",
        "Paris",
        "75004",
        "FR101",
    ),
}
#: BT-99: the review information French buyers give (the same for all: the law's deadlines).
REVIEW_DETAILS: Final = (
    "Référé précontractuel avant la signature du contrat ; référé contractuel dans les 31 jours suivant "
    "la publication de l'avis d'attribution ; recours en contestation de validité du contrat dans les "
    "deux mois suivant cette publication."
)
#: Direct-award justifications (BT-136) a platform records for a marché without publicity.
JUSTIFICATIONS: Final = {
    "technical": "Seul opérateur économique en mesure de réaliser la prestation pour des raisons techniques.",
    "exclusive": "Prestation protégée par un droit d'exclusivité détenu par le titulaire.",
    "urgency": "Urgence impérieuse résultant de circonstances imprévisibles.",
    "artistic": "Création ou acquisition d'une œuvre d'art unique.",
}
#: A concession's CPV by DECP nature (the platform's record of the consultation).
CONCESSION_CPV: Final = {
    "Concession de travaux": "45223300",
    "Concession de service": "50118110",
    "Concession de service public": "60112000",
    "Délégation de service public": "65100000",
}


def platform_directory(files: dict[str, Any], orgs: dict[str, Any], own_review: str) -> dict[str, Any]:
    """The complete profiles file: the organisations (+ the review bodies; one buyer names its own, the
    others take the platform default), the platform defaults, whether each buyer is a contracting
    entity (BT-740) and the platform's record of every contract (what DECP does not carry: award
    criteria, the received-submission breakdown, a direct award's justification, the group lead, a
    concession's CPV, place and received tenders, the NUTS places of a marché located by région).
    Drawn from its own random generator, so the DECP files do not change with it."""
    rng = random.Random(SEED + 1)
    organisations = dict(orgs)
    (rennes, paris) = REVIEW_BODIES
    for key, (name, street, town, postcode, nuts) in REVIEW_BODIES.items():
        organisations[key] = {
            "name": name,
            "address": {"streetAddress": street, "locality": town, "postalCode": postcode, "country": "FR"},
            "nuts": nuts,
            "contactPoint": {"email": f"greffe.ta-{town.lower()}@juradm.example"},
            "url": f"https://{town.lower()}.tribunal-administratif.example",
        }
    buyers: set[str] = set()
    contracts: dict[str, Any] = {}
    for name in sorted(files):
        marches = files[name]["marches"]
        for marche in marches.get("marche", []):
            buyers.add(marche["acheteur"]["id"])
            contracts[marche["id"]] = _marche_record(rng, marche)
        for concession in marches.get("contrat-concession", []):
            buyers.add(concession["autoriteConcedante"]["id"])
            contracts[concession["id"]] = _concession_record(rng, concession)
    for buyer in sorted(buyers):
        organisations[buyer] = {**organisations[buyer], "contractingEntity": False}
    organisations[own_review] = {**organisations[own_review], "reviewBody": paris}
    return {
        "organisations": organisations,
        "defaults": {
            "currency": "EUR",
            "language": "fr",
            "reviewBody": rennes,
            "reviewDetails": REVIEW_DETAILS,
        },
        "contracts": contracts,
    }


def _criteria(rng: random.Random) -> dict[str, Any]:
    price = rng.choice((40, 50, 60))
    return {
        "criteria": [
            {
                "type": "price",
                "name": "Prix",
                "description": "Prix des prestations au vu du bordereau des prix",
                "numbers": [{"number": price, "weight": "percentageExact"}],
            },
            {
                "type": "quality",
                "name": "Valeur technique",
                "description": "Valeur technique au vu du mémoire technique",
                "numbers": [{"number": 100 - price, "weight": "percentageExact"}],
            },
        ],
    }


def _statistics(rng: random.Random, offers: int) -> list[dict[str, Any]]:
    """The received-submission breakdown (BT-759/760) of ``offers`` tenders."""
    sme = rng.randrange(0, offers + 1)
    eu = rng.randrange(0, offers - sme + 1)
    return [
        {"id": str(i), "measure": measure, "value": value, "relatedLot": "LOT-0001"}
        for i, (measure, value) in enumerate(
            (
                ("smeBids", sme),
                ("foreignBidsFromEU", eu),
                ("foreignBidsFromNonEU", 0),
                ("electronicBids", offers),
            ),
            start=2,
        )
    ]


def _marche_record(rng: random.Random, marche: dict[str, Any]) -> dict[str, Any]:
    tender: dict[str, Any] = {"lots": [{"id": "LOT-0001", "awardCriteria": _criteria(rng)}]}
    record: dict[str, Any] = {
        "tender": tender,
        "bids": {"statistics": _statistics(rng, marche["offresRecues"])},
    }
    if marche["procedure"].startswith("Marché passé sans publicité"):
        tender["procurementMethodRationaleClassifications"] = [
            {"scheme": "eu-direct-award-justification", "id": (why := rng.choice(sorted(JUSTIFICATIONS)))}
        ]
        tender["procurementMethodRationale"] = JUSTIFICATIONS[why]
    if marche["lieuExecution"]["typeCode"] == "Code région":  # a région is no NUTS 3 region: its places
        places = [{"country": "FR", "region": nuts} for nuts in ("FRH01", "FRH02", "FRH03", "FRH04")]
        tender["deliveryAddresses"] = places
        tender["items"] = [{"id": "1", "deliveryAddresses": places}]
    holders = [t["titulaire"]["id"] for t in marche["titulaires"]]
    if len(holders) > 1:  # the group's lead (mandataire)
        record["parties"] = [{"id": holders[0], "roles": ["supplier", "leadTenderer"]}]
    return record


def _concession_record(rng: random.Random, concession: dict[str, Any]) -> dict[str, Any]:
    offers = rng.randrange(1, 5)
    place = {"country": "FR", "region": "FRH03"}
    record: dict[str, Any] = {
        "tender": {
            "lots": [{"id": "LOT-0001", "awardCriteria": _criteria(rng)}],
            "deliveryAddresses": [place],
            "items": [
                {
                    "id": "1",
                    "classification": {"scheme": "CPV", "id": CONCESSION_CPV[concession["nature"]]},
                    "relatedLot": "LOT-0001",
                    "deliveryAddresses": [place],
                }
            ],
        },
        "bids": {
            "statistics": [
                {"id": "1", "measure": "bids", "value": offers, "relatedLot": "LOT-0001"},
                *_statistics(rng, offers),
            ]
        },
    }
    holders = [t["concessionnaire"]["id"] for t in concession["concessionnaires"]]
    if len(holders) > 1:
        record["parties"] = [{"id": holders[0], "roles": ["supplier", "leadTenderer"]}]
    return record


def main() -> None:
    for name, doc in build().items():
        (HERE / name).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
