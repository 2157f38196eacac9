"""What the receiving-side suite knows about its target and about itself (the sending AP)."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509

from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from peppol.pki import Identity

#: Defaults: a Peppol BIS Billing invoice between two test participants.
DEFAULT_SENDER: Final = "iso6523-actorid-upis::0088:5790000435951"
DEFAULT_RECEIVER: Final = "iso6523-actorid-upis::0088:5798000000001"
DEFAULT_UNSERVED: Final = "iso6523-actorid-upis::0088:5798000000999"
DEFAULT_DOCTYPE: Final = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
DEFAULT_PROCESS: Final = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
DEFAULT_LARGE_BYTES: Final = 50 * 1024 * 1024
DEFAULT_TIMEOUT: Final = 120.0
#: Seconds an inbox command may take.
COMMAND_TIMEOUT: Final = 60.0


@dataclass(frozen=True, slots=True)
class TestSigners:
    """Signers the certificate cases need (from a test PKI made by ``ap pki init``)."""

    __test__ = False

    expired: Identity | None = None
    revoked: Identity | None = None
    smp: Identity | None = None


@dataclass
class Context:
    url: str
    target_certificate: x509.Certificate
    identity: Identity
    validate_signer: Callable[[x509.Certificate], object] | None = None
    tls_ca: Path | None = None
    sender: ParticipantId = field(default_factory=lambda: ParticipantId.parse(DEFAULT_SENDER))
    receiver: ParticipantId = field(default_factory=lambda: ParticipantId.parse(DEFAULT_RECEIVER))
    unserved_receiver: ParticipantId = field(default_factory=lambda: ParticipantId.parse(DEFAULT_UNSERVED))
    document_type: DocumentTypeId = field(default_factory=lambda: DocumentTypeId.parse(DEFAULT_DOCTYPE))
    process: ProcessId = field(default_factory=lambda: ProcessId.parse(DEFAULT_PROCESS))
    signers: TestSigners = field(default_factory=TestSigners)
    observer: DeliveryObserver | None = None
    large_bytes: int = DEFAULT_LARGE_BYTES
    timeout: float = DEFAULT_TIMEOUT
    country_c1: str = "FR"


class PkiDirError(ValueError):
    """A ``--pki`` directory without the files ``ap pki init`` writes (one-line message)."""


def _pair(pki_dir: Path, pattern: str) -> Identity:
    found = sorted(pki_dir.glob(pattern))
    if len(found) != 1:
        raise PkiDirError(f"{pki_dir}: expected one {pattern} (a directory made by 'ap pki init')")
    return Identity.load(found[0], found[0].with_suffix(".key"))


def load_test_signers(pki_dir: Path) -> TestSigners:
    """Expired, revoked and SMP signers from a test PKI directory (``ap pki init DIR``)."""
    return TestSigners(
        expired=_pair(pki_dir, "ap-expired-*.pem"),
        revoked=_pair(pki_dir, "ap-revoked-*.pem"),
        smp=_pair(pki_dir, "smp.pem"),
    )


class DeliveryObserver:
    """What the suite can see of a target's deliveries: one record (a dict with at least
    ``message_id``) per delivered message. Only for targets whose inbox the suite can read (our own
    receiver in CI)."""

    def deliveries(self) -> list[dict[str, object]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def snapshot(self) -> DeliveryObserver:
        """The deliveries read once (a verdict looks at them several times)."""
        return Snapshot(self.deliveries())

    def delivered(self, message_id: str) -> int:
        return sum(1 for d in self.deliveries() if d.get("message_id") == message_id)

    def find(self, key: str, value: str) -> list[dict[str, object]]:
        return [d for d in self.deliveries() if d.get(key) == value]


class Snapshot(DeliveryObserver):
    def __init__(self, records: list[dict[str, object]]) -> None:
        self._records = records

    def deliveries(self) -> list[dict[str, object]]:
        return self._records

    def snapshot(self) -> DeliveryObserver:
        return self


class InboxObserver(DeliveryObserver):
    """A directory with one ``<message>.json`` metadata file per delivered message
    (``transport.receiver.DirectoryInbox``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliveries(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                out.append(data)
        return out


class CommandObserver(DeliveryObserver):
    """A command printing the delivered messages as a JSON list of objects (e.g. ``ap as4 inbox DIR
    --json`` for a receiver that keeps a ledger)."""

    def __init__(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> None:
        self.argv = list(argv)
        self.timeout = timeout

    def deliveries(self) -> list[dict[str, object]]:
        done = subprocess.run(self.argv, capture_output=True, timeout=self.timeout, check=False)
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")[-300:]
            raise ObserverError(f"{' '.join(self.argv)} exited {done.returncode}: {stderr}")
        try:
            data = json.loads(done.stdout or b"[]")
        except ValueError as exc:
            raise ObserverError(f"{' '.join(self.argv)} did not print JSON: {exc}") from exc
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


class ObserverError(RuntimeError):
    """The inbox command failed (the case is reported as a suite error)."""


def observer_for(inbox: Path | None, command: str | None) -> DeliveryObserver | None:
    """``--inbox DIR`` (metadata files) or ``--inbox-command CMD`` (a JSON list on stdout)."""
    if command:
        return CommandObserver(shlex.split(command))
    if inbox is not None:
        return InboxObserver(inbox)
    return None
