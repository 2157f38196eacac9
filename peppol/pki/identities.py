"""Several AP certificates at once, for a certificate renewal.

During a renewal the SMP still publishes the old certificate for a while (senders cache it), so
messages arrive encrypted for either certificate. An :class:`IdentitySet` *is* the current
:class:`~peppol.pki.Identity` — it signs receipts and outbound messages with the current key —
and also answers :meth:`IdentitySet.decryption_key` for every certificate it holds, which the AS4
inbound processing uses to unwrap the payload key (``transport.as4.inbound``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from peppol.pki.errors import KeyLoadError
from peppol.pki.loading import Identity
from peppol.pki.names import seat_id


@dataclass(frozen=True, eq=False)
class IdentitySet(Identity):
    """The current identity (its key/certificate/chain are this object's) plus older ones still
    accepted for decryption. All must carry the same seat id (a renewal keeps the seat)."""

    previous: tuple[Identity, ...] = ()

    @classmethod
    def of_identities(cls, current: Identity, previous: Iterable[Identity] = ()) -> IdentitySet:
        """Build the set; raises :class:`KeyLoadError` when a certificate is of another seat."""
        older = tuple(previous)
        ours = seat_id(current.certificate)
        for other in older:
            if seat_id(other.certificate) != ours:
                raise KeyLoadError(
                    f"identity set: certificate of seat {seat_id(other.certificate)!r} next to {ours!r} "
                    "(all certificates of a renewal carry the same seat id)"
                )
        return cls(current.private_key, current.certificate, current.chain, older)

    @property
    def identities(self) -> tuple[Identity, ...]:
        """Every identity, current first."""
        return (Identity(self.private_key, self.certificate, self.chain), *self.previous)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """Every certificate, current first (what may legitimately sign our receipts)."""
        return tuple(identity.certificate for identity in self.identities)

    def decryption_key(self, certificate: x509.Certificate) -> rsa.RSAPrivateKey | None:
        """The private key of ``certificate`` when it is one of ours, else ``None``."""
        for identity in self.identities:
            if identity.certificate == certificate:
                return identity.private_key
        return None
