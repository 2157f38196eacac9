"""Verdicts of the AS4 suite on given answers (no network): a broken receiver fails exactly the case
whose defect it lets through, with a reason naming that defect."""

from __future__ import annotations

from pathlib import Path

from conformance.as4.cases import CASES, Case
from conformance.as4.context import InboxObserver
from conformance.as4.runner import judge
from conformance.as4.sending import Answer
from conformance.model import Outcome
from transport.as4 import OutboundMessage, ReceivedSignal, SignalError

BY_ID = {c.id: c for c in CASES}


def _answer(
    kind: str | None,
    *,
    codes: tuple[str, ...] = (),
    status: int = 200,
    verified: bool = True,
    ref: str = "m-1@x",
    text: str = "",
    split: str | None = None,
) -> Answer:
    message = OutboundMessage("m-1@x", "multipart/related", b"", None, ())
    answer = Answer(message, status=status, body=text.encode(), split_value=split)
    if kind is not None:
        errors = tuple(SignalError(c, "failure", "", text, "") for c in codes)
        answer.signal = ReceivedSignal(kind, "r-1@y", ref, errors, (), True)  # type: ignore[arg-type]
        answer.receipt_verified = verified and kind == "receipt"
        answer.receipt_problem = None if verified else f"receipt refers to {ref!r}, we sent 'm-1@x'"
    return answer


def _case(case_id: str) -> Case:
    return BY_ID[case_id]


def test_a_receiver_that_skips_signature_checks_fails_the_unsigned_case_naming_the_defect() -> None:
    verdict = judge(_case("as4.security.unsigned"), _answer("receipt"), None)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.reason == "The target accepted an unsigned message and returned a receipt."


def test_a_rejection_with_the_required_code_passes_and_another_code_fails() -> None:
    case = _case("as4.compression.damaged-gzip")
    assert judge(case, _answer("error", codes=("EBMS:0303",)), None).outcome is Outcome.PASSED
    wrong = judge(case, _answer("error", codes=("EBMS:0004",)), None)
    assert wrong.outcome is Outcome.FAILED
    assert wrong.reason == "The target rejected a damaged gzip payload with EBMS:0004 instead of EBMS:0303."


def test_not_served_needs_the_peppol_code_in_the_error() -> None:
    case = _case("as4.routing.not-served")
    ok = _answer("error", codes=("EBMS:0004",), text="PEPPOL:NOT_SERVICED receiver unknown")
    assert judge(case, ok, None).outcome is Outcome.PASSED
    bare = judge(case, _answer("error", codes=("EBMS:0004",), text="no"), None)
    assert bare.outcome is Outcome.FAILED and "PEPPOL:NOT_SERVICED" in bare.reason


def test_a_server_error_is_a_failure_never_a_refusal() -> None:
    verdict = judge(_case("as4.xml.soap-xxe"), _answer(None, status=500, text="Internal Server Error"), None)
    assert verdict.outcome is Outcome.FAILED
    assert "HTTP 500" in verdict.reason


def test_a_valid_message_refused_fails_and_an_unverified_receipt_fails() -> None:
    case = _case("as4.valid.receipt")
    refused = judge(case, _answer("error", codes=("EBMS:0101",), text="bad"), None)
    assert refused.outcome is Outcome.FAILED and refused.reason.startswith(
        "The target rejected a valid message"
    )
    unverified = judge(case, _answer("receipt", verified=False), None)
    assert unverified.outcome is Outcome.FAILED and unverified.reason.startswith(
        "The receipt does not verify"
    )


def test_a_receiver_reading_up_to_the_comment_is_caught() -> None:
    case = _case("as4.comment.final-recipient")
    value = "0088:5798000000001"
    truncated = _answer(
        "error", codes=("EBMS:0004",), text="finalRecipient 0088:5798 differs from SBDH", split=value
    )
    verdict = judge(case, truncated, None)
    assert verdict.outcome is Outcome.FAILED
    assert "only up to the comment ('0088:5798' instead of '0088:5798000000001')" in verdict.reason
    whole = _answer(
        "error", codes=("EBMS:0009",), text="comments are not allowed in 0088:5798000000001", split=value
    )
    assert judge(case, whole, None).outcome is Outcome.PASSED
    assert judge(case, _answer("receipt", split=value), None).outcome is Outcome.PASSED


def test_a_rejected_message_found_in_the_inbox_fails(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"message_id": "m-1@x"}')
    verdict = judge(
        _case("as4.cert.revoked"), _answer("error", codes=("EBMS:0101",)), InboxObserver(tmp_path)
    )
    assert verdict.outcome is Outcome.FAILED
    assert "but still delivered the message (a revoked signer certificate)" in verdict.reason


def test_cases_are_selected_by_id_or_public_id_patterns() -> None:
    from conformance.as4.cases import select

    assert [c.id for c in select("AS4_TA13")] == ["as4.compression.damaged-gzip"]
    assert [c.id for c in select("AS4_TA04,TC2A.5*")] == ["as4.valid.receipt", "as4.valid.large"]
    chosen = {c.id for c in select("as4.xsw.*, as4.cert.smp")}
    assert "as4.cert.smp" in chosen and len(chosen) == 9
    assert select("nothing-matches") == []
    assert len(select(None)) == len(CASES)


def test_cli_as4_list_and_usage_errors() -> None:
    from typer.testing import CliRunner

    from access_point.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["conformance", "as4", "--list", "--cases", "as4.comment.*"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        "as4.comment.message-id", "as4.comment.conversation-id", "as4.comment.final-recipient",
        "as4.comment.party-id",
    ]  # fmt: skip
    missing = runner.invoke(app, ["conformance", "as4", "--target", "https://127.0.0.1:9/as4"])
    assert missing.exit_code == 2 and "are required" in missing.output
    none = runner.invoke(
        app,
        ["conformance", "as4", "--target", "https://x/as4", "--target-cert", "a", "--key", "b", "--cert", "c",
         "--cases", "nope"],
    )  # fmt: skip
    assert none.exit_code == 2 and "no case matches 'nope'" in none.output
