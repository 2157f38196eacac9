"""Outbound AS4 (C2): POST a built UserMessage and classify the answer (``as4.md`` §6.3, §7.1).

Classification of one attempt:

* 200 + a signed receipt that verifies against what we sent → delivered;
* an ``eb:Error`` signal (200, or 500 with a SOAP Fault) → failure with its ebMS code, retryable only
  for codes whose :attr:`EbmsError.retryable` is set (0005, 0202);
* a receipt that does not verify → ``EBMS:0302`` InvalidReceipt, not delivered, not retried;
* plain 4xx → permanent failure; 5xx without a signal, timeouts, connection errors → retryable;
* TLS verification failures → permanent (an operator must fix trust; never retried into a MITM).

A retry re-posts the IDENTICAL bytes (same MessageId, same digests) from
:meth:`OutboundMessage.open_body`, so the receiver can answer it from its ledger. Building the message
(SBDH, discovery, signing, encryption) is :mod:`exchange.outbound`'s job; :meth:`As4Sender.post` is the
single attempt it classifies with.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final
from urllib.parse import urlsplit

import requests
from cryptography import x509

from peppol.deadline import Deadline, DeadlineExceeded, deadline, mount_deadline_adapter
from peppol.xml import XmlError, pull_events
from transport.as4 import OutboundMessage, ReceiptSignerPolicy, ReceivedSignal, parse_signal, verify_receipt
from transport.errors import (
    ConnectionFailure,
    EbmsError,
    InvalidReceipt,
    MissingReceipt,
    error_for_code,
)

log = logging.getLogger(__name__)

#: Seconds to establish the TCP/TLS connection (phase4 Peppol default).
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
#: Seconds to wait for the response (phase4 Peppol default: 2 minutes).
DEFAULT_READ_TIMEOUT: Final = 120.0
#: Attempts for :meth:`As4Sender.send` (phase4 Peppol P-Mode: 1 retry).
DEFAULT_ATTEMPTS: Final = 2
#: Seconds between attempts (phase4 Peppol P-Mode: 10 s).
DEFAULT_RETRY_INTERVAL: Final = 10.0
#: Total seconds one attempt may take, upload and answer together (per-read timeouts cannot stop a
#: receiver trickling its answer); generous for a 100 MB message on a slow link.
DEFAULT_SEND_DEADLINE: Final = 300.0
#: Largest response read (a receipt or error signal is a few kB).
MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
#: How much of a non-SOAP response body is kept in :attr:`Outcome.detail`.
DETAIL_LIMIT: Final = 500
#: Causes of a TLS failure that mean the connection was cut, not refused for what it presented.
_TLS_INTERRUPTIONS: Final = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    ssl.SSLSyscallError,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)
USER_AGENT: Final = "procurement-access-point-as4"
#: Endpoint URLs whose check and prepared request template are kept (a sender posts to a few).
MAX_REMEMBERED_URLS: Final = 1024


class InsecureUrlError(ValueError):
    """An unusable endpoint URL: ``http://`` without the explicit insecure flag, a URL that is not HTTP
    at all, or one whose syntax is invalid (unbalanced IPv6 brackets, bad port, no or invalid host).
    It is a usage error, raised before any connection is attempted."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a send. ``delivered`` only with a verified ``receipt``; otherwise ``code`` (ebMS
    code or ``None`` for a bare HTTP failure), ``detail`` and whether trying again makes sense."""

    delivered: bool
    receipt: ReceivedSignal | None = None
    code: str | None = None
    detail: str | None = None
    retryable: bool = False
    http_status: int | None = None
    attempts: int = 1
    receipt_bytes: bytes | None = None

    @property
    def summary(self) -> str:
        if self.delivered:
            return "delivered: receipt verified"
        where = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        kind = "retryable failure" if self.retryable else "failure"
        return f"{kind}{where}: {self.code or 'no ebMS code'}: {self.detail or ''}".rstrip(": ")


def _failure(error: EbmsError, *, status: int | None, retryable: bool | None = None) -> Outcome:
    return Outcome(
        delivered=False,
        code=error.code,
        detail=error.detail or error.description,
        retryable=error.retryable if retryable is None else retryable,
        http_status=status,
    )


def _settle_environment(session: requests.Session) -> None:
    """Read the environment once instead of on every post: with no proxy configured (the usual case)
    ``requests`` would still look up proxy variables, ``no_proxy`` and ``~/.netrc`` per request
    (~6 % of a sender's CPU per message). With a proxy configured, ``requests`` keeps doing it, so
    ``no_proxy`` still applies per host."""
    if not urllib.request.getproxies():
        session.trust_env = False


def _environment_ca_bundle() -> str | None:
    """``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, as ``requests`` would read them per request."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


class As4Sender:
    """A reusable AS4 client (one keep-alive ``requests.Session``; TLS verification always on).

    ``ca_bundle`` replaces the system/certifi roots for TLS (e.g. a test CA); ``allow_http`` permits
    ``http://`` URLs and must only be set from an explicit, loud flag. ``validate_signer`` checks the
    receipt signer's certificate (e.g. ``CertificateValidator(...).validate``); ``receipt_signer``
    says whether the receipt must be signed by exactly the receiver certificate we encrypted for
    (default) or may be signed by another valid certificate of the same seat (a receiver renewing its
    certificate; needs ``validate_signer``). ``deadline`` bounds each attempt as a whole (seconds,
    ``None`` for per-read timeouts only; see :mod:`peppol.deadline`).
    """

    def __init__(
        self,
        *,
        ca_bundle: Path | None = None,
        allow_http: bool = False,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        validate_signer: Callable[[x509.Certificate], object] | None = None,
        session: requests.Session | None = None,
        deadline: float | None = DEFAULT_SEND_DEADLINE,
        receipt_signer: ReceiptSignerPolicy = ReceiptSignerPolicy.SAME_CERTIFICATE,
    ) -> None:
        owned = session is None
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True
        self._allow_http = allow_http
        self._timeout = (connect_timeout, read_timeout)
        self._validate_signer = validate_signer
        self._deadline = deadline
        self._receipt_signer = receipt_signer
        self._warned_http: set[str] = set()
        self._checked_urls: set[str] = set()
        self._templates: dict[str, requests.PreparedRequest] = {}
        if session is None:
            session = requests.Session()
            mount_deadline_adapter(session)  # the deadline can cut a trickling receiver
            _settle_environment(session)
            if ca_bundle is None:
                self._verify = _environment_ca_bundle() or True
        self._session = session
        self._session.headers["User-Agent"] = USER_AGENT
        # Our own session without proxies: posts go straight to its transport adapter (see _send).
        self._direct = session is not None and owned and not session.trust_env

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> As4Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_url(self, url: str) -> None:
        """Refuse a URL we must not (or cannot) send to, with :class:`InsecureUrlError` (a URL found
        good is remembered: every post checks its URL, and parsing it is a tenth of a post's CPU)."""
        if url in self._checked_urls:
            return
        self._check_url(url)
        if len(self._checked_urls) >= MAX_REMEMBERED_URLS:
            self._checked_urls.clear()
        self._checked_urls.add(url)

    def _check_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - validates the port (ValueError when not a number in range)
        except ValueError as exc:
            raise InsecureUrlError(f"invalid endpoint URL {url!r}: {_one_line(exc)}") from exc
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            # The same syntax checks requests applies when posting (host present and well-formed):
            # a malformed URL is the caller's mistake, not a connection failure to retry.
            try:
                requests.models.PreparedRequest().prepare_url(url, None)
            except requests.exceptions.RequestException as exc:
                raise InsecureUrlError(f"invalid endpoint URL {url!r}: {_one_line(exc)}") from exc
        if scheme == "https":
            return
        if scheme == "http" and self._allow_http:
            if url not in self._warned_http:  # once per URL, not once per attempt
                self._warned_http.add(url)
                log.warning("sending AS4 over plain HTTP to %s (insecure flag set)", url)
            return
        if scheme == "http":
            raise InsecureUrlError(
                f"refusing plain HTTP endpoint {url}: Peppol requires https:// "
                "(allow it for tests only with the explicit insecure flag, ap as4 send --insecure-http)"
            )
        raise InsecureUrlError(f"not an HTTP(S) endpoint: {url}")

    def send(
        self,
        message: OutboundMessage,
        url: str,
        receiver_certificate: x509.Certificate,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Outcome:
        """Post with retries on retryable outcomes; every attempt sends the same bytes. When retries
        are exhausted on a transport failure the outcome carries ``EBMS:0301`` MissingReceipt."""
        self.check_url(url)
        outcome = Outcome(delivered=False)
        for attempt in range(1, max(1, attempts) + 1):
            outcome = self.post(message, url, receiver_certificate)
            outcome = _with_attempts(outcome, attempt)
            if outcome.delivered or not outcome.retryable:
                return outcome
            log.info("attempt %d/%d to %s failed: %s", attempt, attempts, url, outcome.summary)
            if attempt < attempts:
                sleep(retry_interval)
        if outcome.code in (None, ConnectionFailure.code):
            missing = MissingReceipt(f"no receipt after {outcome.attempts} attempt(s): {outcome.detail}")
            return _with_attempts(
                _failure(missing, status=outcome.http_status, retryable=True), outcome.attempts
            )
        return outcome

    def post(self, message: OutboundMessage, url: str, receiver_certificate: x509.Certificate) -> Outcome:
        """One attempt: POST the message body and classify the response."""
        self.check_url(url)
        headers = {str(k): str(v) for k, v in dict(message.headers).items()}
        headers.setdefault("Content-Type", message.content_type)
        with deadline(self._deadline, "the AS4 send") as scope:
            try:
                status, content_type, body = self._exchange(message, url, headers, scope)
            except DeadlineExceeded as exc:
                return _failure(ConnectionFailure(str(exc)), status=None, retryable=True)
            except requests.exceptions.RequestException as exc:
                if scope is not None and scope.expired:  # the watchdog cut the connection
                    return _failure(ConnectionFailure(str(scope.error())), status=None, retryable=True)
                return _request_failure(exc, url)
        if body is None:
            too_big = InvalidReceipt(f"HTTP {status} response larger than {MAX_RESPONSE_BYTES} bytes")
            return _failure(too_big, status=status, retryable=False)
        return self.classify(status, content_type, body, message, receiver_certificate)

    def _exchange(
        self, message: OutboundMessage, url: str, headers: dict[str, str], scope: Deadline | None
    ) -> tuple[int, str | None, bytes | None]:
        """POST and read the answer (``None`` body: above :data:`MAX_RESPONSE_BYTES`), each read
        bounded by what is left of ``scope``."""
        connect, read = self._timeout
        timeout = (connect, read) if scope is None else (scope.cap(connect), scope.cap(read))
        with message.open_body() as stream:
            # Small bodies go as bytes so headers and body leave in one send() (no Nagle /
            # delayed-ACK stall); spooled bodies are streamed from their file.
            body: bytes | BinaryIO = message.body if message.body is not None else stream
            response = self._send(url, headers, body, timeout)
        with response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                if scope is not None:
                    scope.check()
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    return response.status_code, response.headers.get("Content-Type"), None
                chunks.append(chunk)
            return response.status_code, response.headers.get("Content-Type"), b"".join(chunks)

    def _send(
        self, url: str, headers: dict[str, str], body: bytes | BinaryIO, timeout: tuple[float, float]
    ) -> requests.Response:
        """POST without following redirects, the response streamed.

        With our own session and no proxy (the usual case), the request is prepared from a per-URL
        template and handed to the session's transport adapter directly: ``Session.request`` would
        re-merge session settings, cookies, hooks and the environment on every post (~40 % of the
        ``requests`` CPU per post) for none of which an AS4 post has a use. A caller's session (its
        own adapters, auth or hooks) or a configured proxy goes through ``Session.post`` as before."""
        if not self._direct:
            return self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
        template = self._templates.get(url)
        if template is None:
            template = self._session.prepare_request(requests.Request("POST", url))
            if len(self._templates) >= MAX_REMEMBERED_URLS:
                self._templates.clear()
            self._templates[url] = template
        prepared = template.copy()
        prepared.headers.pop("Content-Length", None)
        prepared.headers.update(headers)
        prepared.prepare_body(body, None)
        adapter = self._session.get_adapter(url)
        return adapter.send(
            prepared, stream=True, timeout=timeout, verify=self._verify, cert=None, proxies={}
        )

    def classify(
        self,
        status: int,
        content_type: str | None,
        body: bytes,
        message: OutboundMessage,
        receiver_certificate: x509.Certificate,
    ) -> Outcome:
        """Classify an HTTP answer to ``message`` (see the module docstring)."""
        signal: ReceivedSignal | None = None
        if body and _looks_like_xml(content_type, body):
            try:
                signal = parse_signal(body, content_type)
            except Exception as exc:  # a non-signal XML body: classified by HTTP status below
                log.debug("response is not an ebMS signal: %s", exc)
        if signal is not None and signal.kind == "receipt":
            if status != 200:
                return _failure(InvalidReceipt(f"receipt with HTTP status {status}"), status=status)
            return self._verified(body, content_type, message, receiver_certificate, status)
        if signal is not None and signal.errors:
            code, detail = _first_error(signal)
            retryable = error_for_code(code).retryable
            return Outcome(False, None, code, detail, retryable, status, receipt_bytes=None)
        text = body[:DETAIL_LIMIT].decode("utf-8", "replace").strip()
        if 500 <= status < 600:
            return Outcome(False, None, None, text or f"HTTP {status}", True, status)
        if 400 <= status < 500:
            return Outcome(False, None, None, text or f"HTTP {status}", False, status)
        return _failure(InvalidReceipt(f"HTTP {status} without a receipt: {text[:200]}"), status=status)

    def _verified(
        self,
        body: bytes,
        content_type: str | None,
        message: OutboundMessage,
        receiver_certificate: x509.Certificate,
        status: int,
    ) -> Outcome:
        check = self._validate_signer

        def validate_signer(cert: x509.Certificate) -> None:
            if check is not None:
                check(cert)

        try:
            receipt = verify_receipt(
                body,
                sent=message,
                receiver_certificate=receiver_certificate,
                validate_signer=validate_signer if check is not None else None,
                content_type=content_type,
                signer_policy=self._receipt_signer,
            )
        except EbmsError as exc:
            invalid = exc if isinstance(exc, InvalidReceipt) else InvalidReceipt(str(exc))
            return _failure(invalid, status=status, retryable=False)
        except Exception as exc:
            return _failure(InvalidReceipt(f"{type(exc).__name__}: {exc}"), status=status, retryable=False)
        return Outcome(True, receipt, None, None, False, status, receipt_bytes=body)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (``__cause__``, ``__context__``, urllib3's ``reason``, exception args)."""
    todo, seen = [exc], set[int]()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        todo.extend(w for w in wrapped if isinstance(w, BaseException))


def _tls_interrupted(exc: BaseException) -> bool:
    """A TLS failure because the connection went away mid-handshake (the server died or restarted: an
    EOF, a reset), not because of what the server presented (an untrusted certificate, no common
    protocol): trying again later can succeed."""
    causes = list(_causes(exc))
    if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
        return False
    return any(isinstance(c, _TLS_INTERRUPTIONS) for c in causes)


def _request_failure(exc: requests.exceptions.RequestException, url: str) -> Outcome:
    """A transport failure, described without the urllib3 chain: TLS is permanent (never retried into
    a MITM) unless the connection was merely cut mid-handshake, connection and timeout errors and a
    response cut short are retryable, anything else (a malformed request) is permanent."""
    if isinstance(exc, requests.exceptions.SSLError):
        return _failure(
            ConnectionFailure(f"TLS failure with {_host(url)}: {_request_reason(exc)}"),
            status=None,
            retryable=_tls_interrupted(exc),
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return _failure(
            ConnectionFailure(f"cannot reach {_host(url)}: {_request_reason(exc)}"),
            status=None,
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):  # the server died while answering
        return _failure(
            ConnectionFailure(f"the connection to {_host(url)} broke during the response: {_one_line(exc)}"),
            status=None,
            retryable=True,
        )
    return _failure(ConnectionFailure(f"{type(exc).__name__}: {exc}"), status=None, retryable=False)


def _with_attempts(outcome: Outcome, attempts: int) -> Outcome:
    return Outcome(
        outcome.delivered,
        outcome.receipt,
        outcome.code,
        outcome.detail,
        outcome.retryable,
        outcome.http_status,
        attempts,
        outcome.receipt_bytes,
    )


def _looks_like_xml(content_type: str | None, body: bytes) -> bool:
    ct = (content_type or "").lower()
    return "xml" in ct or "multipart" in ct or body.lstrip()[:1] == b"<" or body.startswith(b"\xef\xbb\xbf")


def _first_error(signal: ReceivedSignal) -> tuple[str, str]:
    first = signal.errors[0]
    return first.code, first.detail or first.description or first.short_description


_SBD_ROOT: Final = (
    "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}StandardBusinessDocument"
)
#: How much of a file is scanned to decide whether it is an SBD or a bare business document.
_ROOT_SCAN_BYTES: Final = 64 * 1024


def is_sbd(path: Path) -> bool:
    """Whether the XML file at ``path`` is a StandardBusinessDocument (decided on its root element only;
    the document itself is parsed later by the hardened SBDH reader)."""
    try:
        for _, element, _ in pull_events(path, chunk_size=_ROOT_SCAN_BYTES):
            return element.tag == _SBD_ROOT
    except XmlError:
        return False
    return False


#: Phrases of urllib3/ssl error texts and the short reason shown instead of the whole library chain
#: (``HTTPSConnectionPool(host=…): Max retries exceeded with url: … (Caused by …)``).
_REQUEST_REASONS: Final = (
    ("CERTIFICATE_VERIFY_FAILED", "the server's TLS certificate is not trusted"),
    ("UNEXPECTED_EOF", "the connection was closed during the TLS handshake"),
    ("Connection refused", "Connection refused"),
    ("Name or service not known", "unknown host name"),
    ("Temporary failure in name resolution", "host name not resolved"),
    ("No route to host", "no route to host"),
    ("Read timed out", "read timed out"),
    ("timed out", "connection timed out"),
    ("Connection reset", "connection reset by the server"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
)


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    except ValueError:
        return url


def _request_reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in _REQUEST_REASONS:
        if needle in text:
            return f"{reason} ({type(exc).__name__})"
    return type(exc).__name__


def _one_line(exc: BaseException) -> str:
    """``exc`` as one line (a URL error message may quote a URL holding line breaks)."""
    return " ".join(str(exc).split())
