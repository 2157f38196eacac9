"""The same business document under a new MessageId is not delivered twice.

Security test list (conformance.md §12 item 7): "same SBDH InstanceIdentifier with a new MessageId".
The message is new, so its MessageId is not in the ledger; the ledger is also keyed by SBDH Sender +
InstanceIdentifier and refuses a second delivery of the document (EBMS:0004 naming the first message).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tests.transport.test_receiver import error_of, post
from tests.transport.test_receiver_support import Recorder, build_message, make_sbd, receiver_config
from transport.receiver import Verdict

OTHER_SENDER = "iso6523-actorid-upis::0088:5798000000099"


def test_same_instance_identifier_under_a_new_message_id_is_refused_and_not_delivered(
    test_pki: Any, tmp_path: Path
) -> None:
    sbd = make_sbd()
    first, second = build_message(test_pki, sbd), build_message(test_pki, sbd)
    assert first.message_id != second.message_id
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    assert post(test_pki, tmp_path, first, recorder, config=config).decision.verdict is Verdict.ACCEPTED
    response = post(test_pki, tmp_path, second, recorder, config=config)
    code, detail = error_of(response)
    assert code == "EBMS:0004"
    assert "already delivered" in detail and first.message_id in detail
    assert [m.message_id for m in recorder.persisted] == [first.message_id]


def test_new_instance_identifiers_are_each_delivered(test_pki: Any, tmp_path: Path) -> None:
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    messages = [build_message(test_pki, make_sbd()), build_message(test_pki, make_sbd())]
    for message in messages:
        assert post(test_pki, tmp_path, message, recorder, config=config).decision.verdict is Verdict.ACCEPTED
    assert len(recorder.persisted) == 2


def test_instance_identifier_is_unique_per_sender_not_globally(test_pki: Any, tmp_path: Path) -> None:
    from peppol.identifiers import ParticipantId

    sbd = make_sbd()
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    first = post(test_pki, tmp_path, build_message(test_pki, sbd), recorder, config=config)
    assert first.decision.verdict is Verdict.ACCEPTED
    other = ParticipantId.parse(OTHER_SENDER)
    other_sbd = sbd.replace(recorder.persisted[0].sender.value.encode(), other.value.encode())
    overrides = {"original_sender": other.value, "original_sender_type": other.scheme}
    message = build_message(test_pki, other_sbd, header_overrides=overrides)
    second = post(test_pki, tmp_path, message, recorder, config=config)
    assert second.decision.verdict is Verdict.ACCEPTED, second.decision.reason
    same, theirs = recorder.persisted
    assert theirs.instance_id == same.instance_id
    assert (str(same.sender), str(theirs.sender)) != (OTHER_SENDER, OTHER_SENDER)
    assert str(theirs.sender) == OTHER_SENDER


def test_concurrent_copies_of_one_document_are_delivered_once(test_pki: Any, tmp_path: Path) -> None:
    sbd = make_sbd()
    messages = [build_message(test_pki, sbd) for _ in range(4)]
    config = receiver_config(test_pki, tmp_path)
    recorder = Recorder()
    verdicts: list[Verdict] = []
    start = threading.Barrier(len(messages))

    def send(message: Any) -> None:
        start.wait()
        verdicts.append(post(test_pki, tmp_path, message, recorder, config=config).decision.verdict)

    threads = [threading.Thread(target=send, args=(m,)) for m in messages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(verdicts) == sorted([Verdict.ACCEPTED] + [Verdict.REJECTED] * 3)
    assert len(recorder.persisted) == 1
