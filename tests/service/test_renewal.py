"""A certificate renewal with messages flowing and none failing (issue 14; docs/operations.md §
Certificate renewal), through ``ap serve`` on loopback: real HTTPS, the ``ap dev pair`` SML (DNS) and
signed SMP.

The partner renews its AP certificate while the marketplace keeps sending to it:

1. the partner runs with its old certificate current and the new one (an encrypted PKCS#12, password
   in ``key_password_file``) listed in ``[[identity.renewal]]``;
2. its SMP switches to the new certificate — the marketplace, with the old one cached, keeps
   encrypting for the old certificate;
3. the partner restarts with the new certificate current and the old one in ``[[identity.renewal]]``;
4. the marketplace restarts (its SMP cache is gone) and encrypts for the new certificate.

Every message is delivered, each document received once, no attempt is refused by the partner
(decryption, receipt): the only failed attempts are the ones that found the partner restarting.
Receipts are signed with the partner's current certificate — the old one before step 3, the new one
after — which the marketplace accepts under ``[trust] receipt_signer = "same-seat"``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from access_point.dev.network import RunningNetwork, start_network
from access_point.dev.pair import write_pair
from peppol.pki import load_certificate, load_identity
from tests.service.conftest import ServeProcess
from tests.service.documents import T004_EXAMPLE
from tests.service.renewal import PASSWORD, publish, renew
from transport.as4 import verify_signal

pytestmark = pytest.mark.corpus

#: Deliveries to wait for in each phase of the renewal.
PER_PHASE = 3
PHASE_SECONDS = 120.0
#: Messages submitted and not yet delivered, at most.
IN_FLIGHT = 3
#: The marketplace retries soon and long enough (the partner restarts mid-run: a production
#: configuration's 8 attempts spread over hours) and keeps its circuit closed.
SENDER_ENV = {
    "AP_TRUST_RECEIPT_SIGNER": "same-seat",
    "AP_LIMITS_SEND_MAX_ATTEMPTS": "1000",
    "AP_LIMITS_RETRY_INITIAL_SECONDS": "0.5",
    "AP_LIMITS_RETRY_MAX_SECONDS": "2",
    "AP_LIMITS_CIRCUIT_FAILURES": "1000",
}
OLD_IDENTITY = '[identity]\ncert = "../pki/ap-PFR000002.pem"\nkey = "../pki/ap-PFR000002.key"\n'
NEW_IDENTITY = (
    '[identity]\nkey = "renewal/ap-renewed.p12"\nkey_password_file = "renewal/ap-renewed.password"\n'
)
OLD_AS_RENEWAL = '[[identity.renewal]]\ncert = "../pki/ap-PFR000002.pem"\nkey = "../pki/ap-PFR000002.key"\n'
NEW_AS_RENEWAL = "[[identity.renewal]]" + NEW_IDENTITY.removeprefix("[identity]")


class Network:
    """The pair's SML and SMP, restartable (an SMP serves what its files say when it starts)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: RunningNetwork | None = start_network(directory)

    def restart(self) -> None:
        self.stop()
        self.running = start_network(self.directory)

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None


class Submitter(threading.Thread):
    """A platform submitting documents to the marketplace one after the other until stopped, with at
    most :data:`IN_FLIGHT` not yet delivered; while the marketplace restarts it waits and submits again
    (the API was down: nothing was accepted)."""

    def __init__(self, api_url: str, key: str, ca: str, body: dict[str, str], data_dir: Path) -> None:
        super().__init__(daemon=True)
        self.api_url, self.key, self.ca, self.body, self.data_dir = api_url, key, ca, body, data_dir
        self.ids: list[str] = []
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                if len(self.ids) - _delivered(self.data_dir) >= IN_FLIGHT:
                    time.sleep(0.1)
                    continue
                try:
                    answer = requests.post(
                        self.api_url + "/v1/outbound",
                        json=self.body,
                        headers={"Authorization": f"Bearer {self.key}"},
                        verify=self.ca,
                        timeout=30,
                    )
                except requests.ConnectionError:
                    time.sleep(0.2)
                    continue
                assert answer.status_code == 202, answer.text
                self.ids.append(str(answer.json()["id"]))
        except BaseException as exc:  # surfaced by the test
            self.error = exc


@pytest.fixture
def renewal_pair(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any], Network]]:
    info = write_pair(tmp_path / "pair")
    network = Network(tmp_path / "pair")
    try:
        yield tmp_path / "pair", info, network
    finally:
        network.stop()


def _rows(data_dir: Path) -> list[Any]:
    """The marketplace's outbound messages, from its database (the certificate each was encrypted
    for, its receipt)."""
    from sqlalchemy import create_engine, select

    from access_point.service.tables import outbound_messages as o

    engine = create_engine(f"sqlite:///{data_dir / 'ap.sqlite3'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(o)).all())
    finally:
        engine.dispose()


def _delivered(data_dir: Path) -> int:
    return sum(1 for row in _rows(data_dir) if row.status == "delivered")


def _wait_delivered(data_dir: Path, count: int, submitter: Submitter) -> None:
    deadline = time.monotonic() + PHASE_SECONDS
    while _delivered(data_dir) < count:
        assert submitter.error is None, submitter.error
        assert time.monotonic() < deadline, [(r.status, r.attempts, r.error_detail) for r in _rows(data_dir)]
        time.sleep(0.2)


def _receipt_signer(row: Any) -> x509.Certificate:
    _signal, signer = verify_signal(row.receipt)
    return signer


def test_certificate_renewal_with_messages_flowing_and_none_failing(
    renewal_pair: tuple[Path, dict[str, Any], Network], preaward_store: Path, corpus: Path
) -> None:
    directory, info, network = renewal_pair
    ca = str(directory / "pki" / "tls-truststore.pem")
    partner_config = Path(info["partner"]["config"])
    old = load_certificate(directory / "pki" / "ap-PFR000002.pem")
    p12, _password = renew(
        directory / "pki", directory / "pki" / "ap-PFR000002.pem", partner_config.parent / "renewal"
    )
    new = load_identity(p12, password=PASSWORD).certificate
    base_text = partner_config.read_text()
    assert OLD_IDENTITY in base_text
    env = {**os.environ, "AP_ARTIFACTS_DIR": str(preaward_store)}
    for name in ("REDIS_URL", "DATABASE_URL", "AP_KEY_PASSWORD"):
        env.pop(name, None)

    def process(side: str, extra: dict[str, str] | None = None) -> ServeProcess:
        log = directory / f"{side}.log"
        return ServeProcess(info[side]["config"], {**env, **(extra or {})}, info[side]["api_url"], ca, log)

    # 1. the new certificate is known to the partner before anyone uses it
    partner_config.write_text(base_text.replace(OLD_IDENTITY, OLD_IDENTITY + NEW_AS_RENEWAL))
    with ThreadPoolExecutor(2) as pool:  # start-ups mostly wait for their child: both at once
        started = pool.map(ServeProcess.start, [process("partner"), process("marketplace", SENDER_ENV)])
        partner, marketplace = list(started)
    body = {"receiver": info["partner"]["participant"], "document": (corpus / T004_EXAMPLE).read_text()}
    data_dir = partner_config.parent.parent / "marketplace" / "data"
    submitter = Submitter(info["marketplace"]["api_url"], info["marketplace"]["api_key"], ca, body, data_dir)
    submitter.start()
    try:
        _wait_delivered(data_dir, PER_PHASE, submitter)
        # 2. the SMP publishes the new certificate; the marketplace has the old one cached
        publish(
            directory, "partner", info["partner"]["participant"], info["partner"]["api_url"] + "/as4", new
        )
        network.restart()
        _wait_delivered(data_dir, 2 * PER_PHASE, submitter)
        # 3. the partner switches: the new pair signs, the old one still decrypts
        partner.stop()
        partner_config.write_text(base_text.replace(OLD_IDENTITY, NEW_IDENTITY + OLD_AS_RENEWAL))
        partner = process("partner").start()
        switched = len(submitter.ids)
        _wait_delivered(data_dir, switched + PER_PHASE, submitter)
        # 4. the marketplace restarts: a fresh SMP lookup finds the new certificate
        marketplace.stop()
        marketplace = process("marketplace", SENDER_ENV).start()
        restarted = len(submitter.ids)
        _wait_delivered(data_dir, restarted + PER_PHASE, submitter)
    finally:
        submitter.halt.set()
        submitter.join(timeout=60)
    assert submitter.error is None, submitter.error
    ids = submitter.ids
    try:
        _wait_delivered(data_dir, len(ids), submitter)
        received = requests.get(
            info["partner"]["api_url"] + "/v1/inbound?all=true&limit=1000",
            headers={"Authorization": f"Bearer {info['partner']['api_key']}"},
            verify=ca,
            timeout=60,
        ).json()
        outcomes = [
            requests.get(
                f"{info['marketplace']['api_url']}/v1/outbound/{i}",
                headers={"Authorization": f"Bearer {info['marketplace']['api_key']}"},
                verify=ca,
                timeout=60,
            ).json()
            for i in ids
        ]
    finally:
        marketplace.stop()
        partner.stop()

    assert [outcome["status"] for outcome in outcomes] == ["delivered"] * len(ids)
    instances = [item["instance_id"] for item in received]
    assert len(instances) == len(ids) == len(set(instances))  # nothing lost, nothing twice
    for outcome in outcomes:  # failed attempts only while the partner was down: no answer at all
        for attempt in outcome["attempt_log"]:
            assert attempt["delivered"] or attempt["http_status"] is None, attempt

    rows = {row.id: row for row in _rows(data_dir)}
    encrypted_for = [x509.load_pem_x509_certificate(rows[i].endpoint_certificate.encode()) for i in ids]
    signers = [_receipt_signer(rows[i]) for i in ids]
    assert set(encrypted_for) == {old, new} and set(signers) == {old, new}
    # the marketplace encrypted for the old certificate until it restarted (cached SMP data), then for
    # the new one; receipts are signed with the partner's current certificate: old, then new
    assert encrypted_for.count(old) >= 3 * PER_PHASE and set(encrypted_for[restarted:]) == {new}
    assert signers.count(old) >= 2 * PER_PHASE and set(signers[switched:]) == {new}
    # messages encrypted for the OLD certificate were received after the partner made the NEW one current
    assert any(c == old and s == new for c, s in zip(encrypted_for, signers, strict=True))
