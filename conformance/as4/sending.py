"""The sending AP of the suite: build a message and POST it, in ONE place.

Today this is ``transport.as4`` (through :mod:`conformance.as4.build`) and ``requests``; when the
``exchange`` layer lands, :func:`send` is the function to swap for its outbound ``prepare``/``attempt``.
Every answer is classified here (receipt verified or not, ebMS error codes, bare HTTP status).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

import requests
from cryptography import x509

from transport.as4 import OutboundMessage, ReceivedSignal, parse_signal, verify_receipt

from .build import Built, Recipe, build
from .context import Context

USER_AGENT: Final = "procurement-access-point-conformance"
#: Larger request bodies are kept in the evidence up to this many bytes (the large-message case).
EVIDENCE_LIMIT: Final = 1024 * 1024
_DETAIL_LIMIT: Final = 300


@dataclass
class Answer:
    """What the target answered to one message."""

    message: OutboundMessage
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    transport_error: str | None = None
    signal: ReceivedSignal | None = None
    receipt_verified: bool = False
    receipt_problem: str | None = None
    seconds: float = 0.0
    #: The signed header value split by a comment (comment cases), to spot a truncated reading.
    split_value: str | None = None
    evidence: dict[str, bytes] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """receipt | error | http | none (no answer)."""
        if self.transport_error is not None:
            return "none"
        if self.signal is not None:
            return self.signal.kind
        return "http"

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.signal.errors] if self.signal is not None else []

    def error_text(self) -> str:
        if self.signal is None or not self.signal.errors:
            return ""
        first = self.signal.errors[0]
        return " ".join((first.description or first.detail or first.short_description or "").split())[
            :_DETAIL_LIMIT
        ]

    def body_text(self) -> str:
        return " ".join(self.body[:_DETAIL_LIMIT].decode("utf-8", "replace").split())

    def describe(self) -> str:
        """The answer in a few words (the ``actual`` of a case)."""
        if self.kind == "none":
            return f"no answer ({self.transport_error})"
        if self.kind == "receipt":
            state = "verified" if self.receipt_verified else f"NOT verified: {self.receipt_problem}"
            return f"HTTP {self.status} receipt ({state})"
        if self.kind == "error":
            return f"HTTP {self.status} ebMS error {', '.join(self.codes)}: {self.error_text()}"
        return f"HTTP {self.status} without an ebMS signal: {self.body_text()[:120]}"


class Session:
    """One keep-alive HTTP session to the target (TLS verified against ``tls_ca`` or the system)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._http = requests.Session()
        self._http.headers["User-Agent"] = USER_AGENT
        self._verify: str | bool = str(context.tls_ca) if context.tls_ca else True

    def close(self) -> None:
        self._http.close()

    def post(self, message: OutboundMessage, *, content_type: str | None = None) -> Answer:
        answer = Answer(message)
        headers = {"Content-Type": content_type or message.content_type, "MIME-Version": "1.0"}
        body = message.body if message.body is not None else message.open_body().read()
        kept = (
            body
            if len(body) <= EVIDENCE_LIMIT
            else body[:EVIDENCE_LIMIT]
            + (f"\r\n[... {len(body) - EVIDENCE_LIMIT} more bytes not kept]".encode())
        )
        answer.evidence["request.mime"] = (
            "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + kept
        )
        start = time.perf_counter()
        try:
            response = self._http.post(
                self.context.url,
                data=body,
                headers=headers,
                timeout=(10.0, self.context.timeout),
                verify=self._verify,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            answer.transport_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            answer.seconds = time.perf_counter() - start
            return answer
        answer.seconds = time.perf_counter() - start
        answer.status = response.status_code
        answer.content_type = response.headers.get("Content-Type")
        answer.body = response.content
        answer.evidence["response.http"] = (
            f"HTTP {response.status_code}\r\n".encode()
            + "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()).encode()
            + b"\r\n"
            + response.content
        )
        self._classify(answer)
        return answer

    def _classify(self, answer: Answer) -> None:
        try:
            answer.signal = parse_signal(answer.body, answer.content_type)
        except Exception:  # not an ebMS signal at all: judged on the HTTP status
            answer.signal = None
            return
        if answer.signal.kind != "receipt":
            return
        check = self.context.validate_signer

        def validate(cert: x509.Certificate) -> None:
            if check is not None:
                check(cert)

        try:
            verify_receipt(
                answer.body,
                sent=answer.message,
                receiver_certificate=self.context.target_certificate,
                validate_signer=validate,
                content_type=answer.content_type,
            )
            answer.receipt_verified = True
        except Exception as exc:
            answer.receipt_problem = " ".join(str(exc).split())[:_DETAIL_LIMIT] or type(exc).__name__


def prepare(recipe: Recipe) -> Built:
    """Build the message ``recipe`` describes (the outbound ``prepare`` of the sending AP)."""
    return build(recipe)


def send(session: Session, recipe: Recipe) -> tuple[Built, Answer]:
    """Build the message ``recipe`` describes and POST it: THE sending side of the suite."""
    built = prepare(recipe)
    return built, session.post(built.message, content_type=recipe.content_type)
