"""Runs the receiving-side cases against a target and judges every answer, reason in one sentence."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from conformance.model import CaseResult, Outcome, Run, RunHeader, one_sentence

from .build import Recipe
from .cases import Case
from .context import Context, DeliveryObserver
from .edits import split_point
from .sending import Answer, Session, prepare, send

SUITE_NAME = "as4"
PROFILE = "Peppol AS4 profile 2.0 (receiving side)"


@dataclass
class Verdict:
    outcome: Outcome
    reason: str
    details: list[str]


def _pass(reason: str, *details: str) -> Verdict:
    return Verdict(Outcome.PASSED, one_sentence(reason), list(details))


def _fail(reason: str, *details: str) -> Verdict:
    return Verdict(Outcome.FAILED, one_sentence(reason), list(details))


def _delivered_check(case: Case, answer: Answer, observer: DeliveryObserver | None) -> Verdict | None:
    """With a visible inbox: a rejected message must not be there, an accepted one exactly once."""
    if observer is None:
        return None
    count = observer.delivered(answer.message.message_id)
    if case.expect == "reject" and count:
        if answer.kind == "receipt":
            return _fail(
                f"The target accepted {case.defect}, returned a receipt and delivered it to its inbox"
            )
        return _fail(
            f"The target answered {answer.describe()} but still delivered the message ({case.defect})"
        )
    return None


def judge(case: Case, answer: Answer, observer: DeliveryObserver | None) -> Verdict:
    """The verdict on one answer, from the case's expectation."""
    observer = observer.snapshot() if observer is not None else None
    seen = answer.describe()
    if answer.kind == "none":
        return Verdict(
            Outcome.ERROR, one_sentence(f"No answer from the target: {answer.transport_error}"), []
        )
    if answer.status is not None and answer.status >= 500 and answer.kind != "error":
        return _fail(
            f"The target failed with HTTP {answer.status} instead of an ebMS answer to "
            f"{case.defect or 'the message'}"
        )
    delivered = _delivered_check(case, answer, observer)
    if delivered is not None:
        return delivered
    if case.expect == "receipt":
        if answer.kind == "receipt" and answer.receipt_verified:
            if (
                observer is not None
                and case.id != "as4.valid.ping"
                and not observer.delivered(answer.message.message_id)
            ):
                return _fail("The target returned a receipt but did not deliver the message to its inbox")
            return _pass("The target returned a signed receipt whose signature and NRR digests verify")
        if answer.kind == "receipt":
            return _fail(f"The receipt does not verify: {answer.receipt_problem}")
        return _fail(f"The target rejected a valid message: {seen}")
    if case.expect == "either":
        return _judge_either(case, answer, observer)
    # reject
    if answer.kind == "receipt":
        return _fail(f"The target accepted {case.defect} and returned a receipt")
    if answer.kind == "error":
        codes = answer.codes
        if case.error_mentions and case.error_mentions not in answer.body.decode("utf-8", "replace"):
            return _fail(f"The error ({', '.join(codes)}) does not carry {case.error_mentions}", seen)
        if case.codes and not set(codes) & set(case.codes):
            if case.code_required:
                return _fail(
                    f"The target rejected {case.defect} with {', '.join(codes)} "
                    f"instead of {' or '.join(case.codes)}"
                )
            return _pass(
                f"The target rejected {case.defect} with {', '.join(codes)} "
                f"(the profile suggests {' or '.join(case.codes)})",
                seen,
            )
        return _pass(f"The target rejected {case.defect} with {', '.join(codes)}", seen)
    if answer.status is not None and 400 <= answer.status < 500 and not case.code_required:
        return _pass(f"The target refused {case.defect} with HTTP {answer.status} (no ebMS signal)", seen)
    return _fail(f"The target answered {case.defect} with {seen}")


def _truncated_in(text: str, value: str | None) -> str | None:
    """The truncated reading of ``value`` (cut at the comment) when ``text`` shows it as a whole token."""
    if not value:
        return None
    prefix = value[: split_point(value)]
    if re.search(re.escape(prefix) + r"(?![\w.:@-])", text):
        return prefix
    return None


def _judge_either(case: Case, answer: Answer, observer: DeliveryObserver | None) -> Verdict:
    """Comment cases: a refusal is fine unless it shows the value was read truncated; a receipt must be
    for the full value, and a visible inbox must hold the full value, never the truncated one."""
    truncated = _truncated_in(answer.error_text(), answer.split_value)
    if truncated is not None:
        return _fail(
            f"The target read {case.defect} only up to the comment ({truncated!r} instead of "
            f"{answer.split_value!r}) and refused a validly signed message",
            answer.error_text(),
        )
    if answer.kind == "error":
        mentions = answer.error_text()
        return _pass(f"The target refused {case.defect} with {', '.join(answer.codes)}", mentions)
    if answer.kind != "receipt":
        if answer.status is not None and 400 <= answer.status < 500:
            return _pass(f"The target refused {case.defect} with HTTP {answer.status}")
        return _fail(f"The target answered {case.defect} with {answer.describe()}")
    if not answer.receipt_verified:
        ref = answer.signal.ref_to_message_id if answer.signal else None
        full = answer.message.message_id
        if ref and ref != full and full.startswith(ref):
            return _fail(
                f"The receipt for {case.defect} refers to {ref!r}, the MessageId cut at the comment, "
                f"instead of {full!r}"
            )
        return _fail(f"The receipt for {case.defect} does not verify: {answer.receipt_problem}")
    if observer is not None:
        stored = observer.find("message_id", answer.message.message_id)
        stored_truncated = [
            f"{k}={v!r}"
            for d in stored
            for k, v in d.items()
            if isinstance(v, str)
            and answer.split_value
            and _truncated_in(v, answer.split_value)
            and v != answer.split_value
        ]
        if stored_truncated:
            return _fail(
                f"The target stored {case.defect} truncated at the comment ({', '.join(stored_truncated)})"
            )
        if not stored:
            return _fail(
                f"The target returned a receipt for {case.defect} "
                "but stored no message under the full MessageId"
            )
        return _pass(f"The target read {case.defect} as the full value (receipt and stored message agree)")
    return _pass(f"The target returned a verified receipt for the full value of {case.defect}")


def _duplicate(
    session: Session, ctx: Context, case: Case, recipe: Recipe, observer: DeliveryObserver | None
) -> tuple[Verdict, Answer, dict[str, bytes]]:
    built = prepare(recipe)
    first = session.post(built.message)
    second = session.post(built.message)
    evidence = {f"first.{k}": v for k, v in first.evidence.items()} | {
        f"second.{k}": v for k, v in second.evidence.items()
    }
    if first.kind != "receipt" or not first.receipt_verified:
        return _fail(f"The first send got no verified receipt: {first.describe()}"), second, evidence
    if second.kind != "receipt" or not second.receipt_verified:
        return _fail(f"The resend got {second.describe()} instead of the receipt"), second, evidence
    same = (
        first.signal is not None
        and second.signal is not None
        and first.signal.message_id == second.signal.message_id
    )
    if not same:
        return (
            _fail("The resend got a new receipt instead of the receipt of the first delivery"),
            second,
            evidence,
        )
    observer = observer.snapshot() if observer is not None else None
    if observer is not None and observer.delivered(built.message.message_id) != 1:
        return (
            _fail(f"The message was delivered {observer.delivered(built.message.message_id)} times"),
            second,
            evidence,
        )
    return (
        _pass(
            "The resend got the same receipt" + (" and the message was delivered once" if observer else "")
        ),
        second,
        evidence,
    )


def _same_document(
    session: Session, ctx: Context, case: Case, recipe: Recipe, observer: DeliveryObserver | None
) -> tuple[Verdict, Answer, dict[str, bytes]]:
    import dataclasses

    from .payloads import header

    first = session.post(prepare(recipe).message)
    if first.kind != "receipt":
        return _fail(f"The first send got {first.describe()} instead of a receipt"), first, first.evidence
    again = dataclasses.replace(recipe, header=header(ctx))
    second_built = prepare(again)
    second = session.post(second_built.message)
    evidence = {f"first.{k}": v for k, v in first.evidence.items()} | {
        f"second.{k}": v for k, v in second.evidence.items()
    }
    verdict = judge(case, second, observer)
    return verdict, second, evidence


_PROCEDURES: dict[
    str,
    Callable[
        [Session, Context, Case, Recipe, DeliveryObserver | None], tuple[Verdict, Answer, dict[str, bytes]]
    ],
] = {
    "duplicate": _duplicate,
    "same_document": _same_document,
}


def _certificate_evidence(recipe: Recipe) -> dict[str, bytes]:
    pem = serialization.Encoding.PEM
    return {
        "signer-certificate.pem": recipe.signer.certificate.public_bytes(pem),
        "encrypted-for.pem": recipe.recipient.public_bytes(pem),
    }


def run_case(session: Session, ctx: Context, case: Case, observer: DeliveryObserver | None) -> CaseResult:
    started = time.time()
    clock = time.perf_counter()
    result = CaseResult(
        id=case.id,
        title=case.title,
        level=case.level,
        outcome=Outcome.ERROR,
        reason="",
        public_id=case.public_id,
        spec=case.spec,
        group=case.id.split(".")[1],
        expected=_expected(case),
        started=started,
    )
    try:
        made = case.make(ctx) if case.make is not None else "no message for this case"
        if isinstance(made, str):
            result.outcome, result.reason = Outcome.SKIPPED, one_sentence(f"Skipped: {made}")
            return result
        result.evidence.update(_certificate_evidence(made))
        if case.procedure is not None:
            verdict, answer, evidence = _PROCEDURES[case.procedure](session, ctx, case, made, observer)
            result.evidence.update(evidence)
        else:
            _, answer = send(session, made)
            answer.split_value = made.split_value
            result.evidence.update(answer.evidence)
            verdict = judge(case, answer, observer)
        result.outcome, result.reason, result.details = verdict.outcome, verdict.reason, verdict.details
        result.actual = answer.describe()
        result.http_status = answer.status
        result.signal = answer.kind
        result.ebms_code = ", ".join(answer.codes) or None
        result.details.insert(0, f"MessageId: {answer.message.message_id}")
    except Exception as exc:  # the suite must report every case, whatever breaks
        result.outcome = Outcome.ERROR
        result.reason = one_sentence(f"The suite could not run this case: {type(exc).__name__}: {exc}")
    finally:
        result.duration = time.perf_counter() - clock
    return result


def _expected(case: Case) -> str:
    if case.expect == "receipt":
        return "a signed receipt (HTTP 200) whose signature and NRR digests verify"
    if case.expect == "either":
        return "a refusal, or a receipt for the full (untruncated) value"
    codes = f" ({' or '.join(case.codes)}{' required' if case.code_required else ''})" if case.codes else ""
    extra = f" carrying {case.error_mentions}" if case.error_mentions else ""
    return f"an ebMS error{codes}{extra}, nothing delivered"


def run_as4(ctx: Context, cases: list[Case], *, tick: Callable[[str], None] | None = None) -> Run:
    run = Run(RunHeader(suite=SUITE_NAME, system_under_test=ctx.url, profile=PROFILE))
    run.header.environment = {
        "target certificate": ctx.target_certificate.subject.rfc4514_string(),
        "our certificate": ctx.identity.certificate.subject.rfc4514_string(),
        "receiver": str(ctx.receiver),
        "document type": str(ctx.document_type),
        "process": str(ctx.process),
        "deliveries observed": "yes" if ctx.observer is not None else "no",
    }
    observer = ctx.observer
    session = Session(ctx)
    try:
        for case in cases:
            run.cases.append(run_case(session, ctx, case, observer))
            if tick is not None:
                tick(case.id)
    finally:
        session.close()
    run.finish()
    return run


__all__ = ["PROFILE", "SUITE_NAME", "judge", "run_as4", "run_case"]
