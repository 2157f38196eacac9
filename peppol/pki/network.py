"""The OpenPeppol CA certificates shipped with the package, selected by one setting: the network.

``network = "test"`` trusts the OpenPeppol TEST PKI (G3), ``"production"`` the production PKI (G3);
each bundle holds the root, the Access Point CA and the SMP CA, like OpenPeppol's
``ap-*-truststore.pem`` (purpose is then decided by the issuer's name, see ``docs/pki.md``). A trust
store file given explicitly (``--truststore``, ``--trust``, ``--ap-trust`` …) replaces the bundle.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from peppol.pki.names import Stage
from peppol.pki.truststore import TrustStore

#: The networks and their bundle file inside ``peppol/pki/data`` (G3: OpenPeppol's PKI since 2025).
NETWORK_BUNDLES: Final = {
    Stage.TEST: "peppol-test-g3.pem",
    Stage.PRODUCTION: "peppol-production-g3.pem",
}


def network_bundle(network: Stage | str) -> Path:
    """The path of the shipped PEM bundle of ``network`` (``"test"`` or ``"production"``)."""
    stage = Stage(network)
    ref = resources.files("peppol.pki").joinpath("data", NETWORK_BUNDLES[stage])
    return Path(str(ref))


def network_truststore(network: Stage | str) -> TrustStore:
    """The shipped OpenPeppol trust store of ``network``, with that stage declared."""
    stage = Stage(network)
    return TrustStore.from_pem(network_bundle(stage), stage=stage)


def select_truststore(network: Stage | str | None, override: Path | None) -> TrustStore | None:
    """An explicit trust store file wins (stage: ``network`` when given, else inferred from it); else
    the shipped bundle of ``network``; ``None`` when neither is set."""
    if override is not None:
        return TrustStore.from_pem(override, stage=Stage(network) if network is not None else None)
    return network_truststore(network) if network is not None else None


def trust_file(network: Stage | str | None, override: Path | None) -> Path | None:
    """The PEM trust store file to use: ``override`` when given, else the shipped bundle of ``network``,
    else ``None``. The one rule behind ``[trust] network``/``ap``/``smp`` of the service and the
    ``--network``/``--trust`` options of the commands."""
    if override is not None:
        return override
    return network_bundle(network) if network is not None else None
