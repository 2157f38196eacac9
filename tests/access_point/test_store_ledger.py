"""The durable inbound ledger (``access_point.store``) under the real receiver core, on SQLite and on a
real PostgreSQL (started by the test session, tests/servers.py): exactly once across restarts and
concurrent requests, the same document under a new MessageId refused after a restart, payload,
metadata and receipt stored together."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access_point.store import Store, open_store
from tests.transport.test_receiver import error_of
from tests.transport.test_receiver_support import (
    RECEIVER,
    SENDER,
    body_of,
    build_message,
    make_sbd,
    receiver_config,
    ubl_invoice,
)
from transport.as4 import parse_signal, verify_receipt
from transport.receiver import CallbackHooks, ReceiverResponse, Verdict, receive


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` (SQLite in the data directory) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path, database_url: str | None) -> Iterator[Store]:
    opened = open_store(data_dir, database_url)
    yield opened
    opened.close()


def deliver(pki: Any, work: Path, store: Store, message: Any) -> ReceiverResponse:
    config = receiver_config(pki, work, ledger=store.ledger)
    return receive(
        {"Content-Type": message.content_type}, io.BytesIO(body_of(message)), config, CallbackHooks()
    )


def test_accepted_message_is_stored_with_payload_metadata_and_receipt(
    test_pki: Any, tmp_path: Path, store: Store
) -> None:
    sbd = make_sbd(ubl_invoice("stored"))
    message = build_message(test_pki, sbd)
    response = deliver(test_pki, tmp_path, store, message)
    assert response.decision.verdict is Verdict.ACCEPTED
    (record,) = store.ledger.records()
    assert record.message_id == message.message_id
    assert record.receipt == response.body
    assert record.receipt_id == parse_signal(response.body).message_id
    assert (record.sender, record.receiver) == (SENDER, RECEIVER)
    assert record.country_c1 == "FR" and record.status == "received"
    assert record.from_party == test_pki.aps[0].seat_id and record.to_party == test_pki.aps[1].seat_id
    assert record.instance_id and record.payload_size == len(sbd)
    with store.ledger.open_payload(record) as fh:
        assert fh.read() == sbd
    assert store.ledger.get(record.id) == record


def test_resend_after_restart_gets_the_same_receipt_and_is_stored_once(
    test_pki: Any, tmp_path: Path, data_dir: Path, database_url: str | None, store: Store
) -> None:
    message = build_message(test_pki)
    first = deliver(test_pki, tmp_path, store, message)
    store.close()
    restarted = open_store(data_dir, database_url)  # a new process on the same data
    try:
        second = deliver(test_pki, tmp_path, restarted, message)
        assert first.decision.verdict is Verdict.ACCEPTED
        assert second.decision.verdict is Verdict.DUPLICATE
        assert second.body == first.body
        verify_receipt(second.body, sent=message, receiver_certificate=test_pki.aps[1].certificate())
        assert restarted.ledger.count() == 1
    finally:
        restarted.close()


def test_same_document_under_a_new_message_id_after_restart_is_refused(
    test_pki: Any, tmp_path: Path, data_dir: Path, database_url: str | None, store: Store
) -> None:
    sbd = make_sbd()
    first, second = build_message(test_pki, sbd), build_message(test_pki, sbd)
    assert deliver(test_pki, tmp_path, store, first).decision.verdict is Verdict.ACCEPTED
    store.close()
    restarted = open_store(data_dir, database_url)
    try:
        code, detail = error_of(deliver(test_pki, tmp_path, restarted, second))
        assert code == "EBMS:0004"
        assert "already delivered" in detail and first.message_id in detail
        assert [r.message_id for r in restarted.ledger.records()] == [first.message_id]
    finally:
        restarted.close()


def test_message_id_reused_for_another_message_is_refused(
    test_pki: Any, tmp_path: Path, store: Store
) -> None:
    first = build_message(test_pki, make_sbd(ubl_invoice("one")), message_id="reused@test")
    other = build_message(test_pki, make_sbd(ubl_invoice("two")), message_id="reused@test")
    assert deliver(test_pki, tmp_path, store, first).decision.verdict is Verdict.ACCEPTED
    code, _ = error_of(deliver(test_pki, tmp_path, store, other))
    assert code == "EBMS:0004"
    assert store.ledger.count() == 1


def test_concurrent_resends_and_copies_of_one_document_are_stored_once(
    test_pki: Any, tmp_path: Path, store: Store
) -> None:
    """Four threads resend one message, four send the same document under new MessageIds, at once:
    the database constraints let exactly one win; every resend gets the winner's receipt."""
    validator = test_pki.ap_validator()
    validator.validate(test_pki.aps[0].certificate())  # warm (see test_receiver)
    sbd = make_sbd()
    resent = build_message(test_pki, sbd)
    copies = [build_message(test_pki, sbd) for _ in range(4)]
    config = receiver_config(test_pki, tmp_path, ledger=store.ledger, validator=validator)
    start = threading.Barrier(8)
    results: dict[str, list[ReceiverResponse]] = {"resent": [], "copy": []}
    errors: list[BaseException] = []

    def send(kind: str, message: Any) -> None:
        try:
            body = body_of(message)
            start.wait()
            headers = {"Content-Type": message.content_type}
            results[kind].append(receive(headers, io.BytesIO(body), config, CallbackHooks()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=("resent", resent)) for _ in range(4)]
    threads += [threading.Thread(target=send, args=("copy", m)) for m in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = results["resent"] + results["copy"]
    accepted = [r for r in everything if r.decision.verdict is Verdict.ACCEPTED]
    assert len(accepted) == 1
    assert store.ledger.count() == 1
    (record,) = store.ledger.records()
    for answer in everything:
        if answer.decision.message_id == record.message_id:
            assert answer.body == record.receipt  # the receipt that won
        else:
            assert error_of(answer)[0] == "EBMS:0004"


def test_hostile_message_ids_are_keys_not_file_names(test_pki: Any, tmp_path: Path, store: Store) -> None:
    """The ledger keys on a digest of the MessageId: an id full of path characters stores nothing
    outside the data directory and cannot collide with another id."""
    ids = ["../../etc/passwd@x", "a/b\\..:weird id@x", "x" * 900 + "@x"]
    for message_id in ids:
        message = build_message(test_pki, make_sbd(), message_id=message_id)
        assert deliver(test_pki, tmp_path, store, message).decision.verdict is Verdict.ACCEPTED
    assert sorted(r.message_id for r in store.ledger.records()) == sorted(ids)
    assert {p.name for p in (tmp_path / "data").iterdir()} <= {
        "ap.sqlite3", "ap.sqlite3-wal", "ap.sqlite3-shm", "payloads"
    }  # fmt: skip


def test_ledger_keeps_working_across_a_postgresql_restart(
    test_pki: Any, tmp_path: Path, postgres_server: Any
) -> None:
    """Pooled connections die with the server; the next request must not fail on a stale one."""
    store = open_store(tmp_path / "data", postgres_server.create_database())
    try:
        first = build_message(test_pki, make_sbd(ubl_invoice("before")))
        assert deliver(test_pki, tmp_path, store, first).decision.verdict is Verdict.ACCEPTED
        postgres_server.restart()
        again = deliver(test_pki, tmp_path, store, first)
        assert again.decision.verdict is Verdict.DUPLICATE
        second = build_message(test_pki, make_sbd(ubl_invoice("after")))
        assert deliver(test_pki, tmp_path, store, second).decision.verdict is Verdict.ACCEPTED
        assert store.ledger.count() == 2
    finally:
        store.close()


def test_crash_after_commit_before_the_receipt_left_delivers_once(
    test_pki: Any, tmp_path: Path, data_dir: Path, database_url: str | None, store: Store
) -> None:
    """The process 'dies' right after the ledger committed, before the receipt reached the sender
    (the window the kill -9 test only hits by chance): the resend to the restarted receiver gets the
    receipt that was committed, and the message is stored once."""

    class Died(BaseException):
        pass

    class DiesAfterCommit:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.committed: bytes | None = None

        def find(self, message_id: str) -> Any:
            return self.inner.find(message_id)

        def accept(self, message: Any, receipt: bytes) -> Any:
            result = self.inner.accept(message, receipt)
            self.committed = result.receipt
            raise Died

    message = build_message(test_pki)
    dying = DiesAfterCommit(store.ledger)
    config = receiver_config(test_pki, tmp_path, ledger=dying)
    with pytest.raises(Died):
        receive({"Content-Type": message.content_type}, io.BytesIO(body_of(message)), config, CallbackHooks())
    store.close()
    restarted = open_store(data_dir, database_url)
    try:
        answer = deliver(test_pki, tmp_path, restarted, message)
        assert answer.decision.verdict is Verdict.DUPLICATE
        assert answer.body == dying.committed
        verify_receipt(answer.body, sent=message, receiver_certificate=test_pki.aps[1].certificate())
        assert restarted.ledger.count() == 1
    finally:
        restarted.close()


def test_the_database_constraints_decide_when_find_misses(
    test_pki: Any, tmp_path: Path, store: Store
) -> None:
    """A request that read nothing (a concurrent one committed in between) reaches the INSERT: the
    unique constraints answer DUPLICATE with the stored receipt, or refuse a copy of the document."""

    class Blind:
        def find(self, message_id: str) -> None:
            return None

        def accept(self, message: Any, receipt: bytes) -> Any:
            return store.ledger.accept(message, receipt)

    sbd = make_sbd()
    message, copy = build_message(test_pki, sbd), build_message(test_pki, sbd)
    config = receiver_config(test_pki, tmp_path, ledger=Blind())

    def post(m: Any) -> ReceiverResponse:
        return receive({"Content-Type": m.content_type}, io.BytesIO(body_of(m)), config, CallbackHooks())

    first, again, refused = post(message), post(message), post(copy)
    assert (first.decision.verdict, again.decision.verdict) == (Verdict.ACCEPTED, Verdict.DUPLICATE)
    assert again.body == first.body
    assert error_of(refused)[0] == "EBMS:0004"
    assert store.ledger.count() == 1
