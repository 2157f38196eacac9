"""Outbound AS4 (C2): POST a built UserMessage and classify the answer (``as4.md`` §6.3, §7.1).

Classification of one attempt:

* 200 + a signed receipt that verifies against what we sent → delivered;
* an ``eb:Error`` signal (200, or 500 with a SOAP Fault) → failure with its ebMS code, retryable only
  for codes whose :attr:`EbmsError.retryable` is set (0005, 0202);
* a receipt that does not verify → ``EBMS:0302`` InvalidReceipt, not delivered, not retried;
* plain 4xx → permanent failure; 5xx without a signal, timeouts, connection errors → retryable;
* TLS verification failures → permanent (an operator must fix trust; never retried into a MITM).

A retry re-posts the IDENTICAL bytes (same MessageId, same digests) from
:meth:`OutboundMessage.open_body`, so the receiver can answer it from its duplicate store.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final
from urllib.parse import urlsplit

import requests
from cryptography import x509

if TYPE_CHECKING:
    from peppol.pki import Identity
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
#: How much of a non-SOAP response body is kept in :attr:`Outcome.detail`.
DETAIL_LIMIT: Final = 500
USER_AGENT: Final = "procurement-access-point-as4"


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


class As4Sender:
    """A reusable AS4 client (one keep-alive ``requests.Session``; TLS verification always on).

    ``ca_bundle`` replaces the system/certifi roots for TLS (e.g. a test CA); ``allow_http`` permits
    ``http://`` URLs and must only be set from an explicit, loud flag. ``validate_signer`` checks the
    receipt signer's certificate (e.g. ``CertificateValidator(...).validate``); ``receipt_signer``
    says whether the receipt must be signed by exactly the receiver certificate we encrypted for
    (default) or may be signed by another valid certificate of the same seat (a receiver renewing its
    certificate; needs ``validate_signer``).
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
        receipt_signer: ReceiptSignerPolicy = ReceiptSignerPolicy.SAME_CERTIFICATE,
    ) -> None:
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True
        self._allow_http = allow_http
        self._timeout = (connect_timeout, read_timeout)
        self._validate_signer = validate_signer
        self._receipt_signer = receipt_signer
        self._warned_http: set[str] = set()
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> As4Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_url(self, url: str) -> None:
        """Refuse a URL we must not (or cannot) send to, with :class:`InsecureUrlError`."""
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
        try:
            with message.open_body() as stream:
                # Small bodies go as bytes so headers and body leave in one send() (no Nagle /
                # delayed-ACK stall); spooled bodies are streamed from their file.
                body: bytes | BinaryIO = message.body if message.body is not None else stream
                response = self._session.post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=self._timeout,
                    verify=self._verify,
                    allow_redirects=False,
                )
        except requests.exceptions.SSLError as exc:
            return _failure(
                ConnectionFailure(f"TLS failure with {_host(url)}: {_request_reason(exc)}"),
                status=None,
                retryable=False,
            )
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            return _failure(
                ConnectionFailure(f"cannot reach {_host(url)}: {_request_reason(exc)}"),
                status=None,
                retryable=True,
            )
        except requests.exceptions.RequestException as exc:
            return _failure(ConnectionFailure(f"{type(exc).__name__}: {exc}"), status=None, retryable=False)
        return self.classify(
            response.status_code,
            response.headers.get("Content-Type"),
            response.content,
            message,
            receiver_certificate,
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
    from lxml import etree

    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    with path.open("rb") as fh:
        while chunk := fh.read(_ROOT_SCAN_BYTES):
            try:
                parser.feed(chunk)
            except etree.XMLSyntaxError:
                return False
            for _, element in parser.read_events():
                return isinstance(element, etree._Element) and element.tag == _SBD_ROOT
    return False


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A built UserMessage ready to post, with the receiver certificate it was encrypted for."""

    message: OutboundMessage
    receiver_certificate: x509.Certificate
    sbdh: Any


def prepare_message(
    document: Path,
    *,
    key: Path,
    cert: Path | None,
    receiver_cert: Path,
    key_password: bytes | None = None,
    identity: Identity | None = None,
    validate_receiver: Callable[[x509.Certificate], object] | None = None,
    sender: str | None = None,
    receiver: str | None = None,
    doctype: str | None = None,
    process: str | None = None,
    country_c1: str | None = None,
    spool_dir: Path | None = None,
) -> PreparedMessage:
    """Build the AS4 UserMessage for ``document`` (an SBD, or a bare business document for which an
    SBDH is built from the options). ``key`` may be a PKCS#12 file or an encrypted key
    (``key_password``); an ``identity`` already loaded replaces ``key``/``cert``. ``validate_receiver``
    (e.g. an AP ``CertificateValidator``'s
    ``validate``) checks the receiver certificate before anything is encrypted for it.
    Raises ``ValueError`` (or ``OSError``) with a one-line reason for bad input."""
    from peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
    from peppol.pki import (
        CertificateError,
        load_certificate,
        load_identity,
    )
    from peppol.pki.names import seat_id
    from transport.as4 import build_user_message, new_user_message_header
    from transport.sbdh import header_for_document, read_sbd, write_sbd

    if identity is None:
        identity = load_identity(key, cert, password=key_password)
    receiver_certificate = load_certificate(receiver_cert)
    if validate_receiver is not None:
        try:
            validate_receiver(receiver_certificate)
        except CertificateError as exc:
            raise ValueError(f"receiver certificate rejected: {exc}") from exc
    work = Path(spool_dir) if spool_dir else Path(tempfile.mkdtemp(prefix="as4-out-"))
    if is_sbd(document):
        sbdh = read_sbd(document).header
        sbd_path = document
    else:
        missing = [
            name
            for name, v in (("--sender", sender), ("--receiver", receiver), ("--country-c1", country_c1))
            if not v
        ]
        if missing:
            raise ValueError(f"a bare document needs {', '.join(missing)} to build its SBDH")
        assert sender is not None and receiver is not None and country_c1 is not None
        sbdh = header_for_document(
            document,
            sender=ParticipantId.parse(sender),
            receiver=ParticipantId.parse(receiver),
            process=ProcessId.parse(process) if process else None,
            country_c1=country_c1,
            document_type=DocumentTypeId.parse(doctype) if doctype else None,
        )
        sbd_path = work / "payload.sbd.xml"
        with sbd_path.open("wb") as out:
            write_sbd(sbdh, document, out)
    header = new_user_message_header(
        from_party=identity.seat_id,
        to_party=seat_id(receiver_certificate),
        sender=sbdh.sender,
        receiver=sbdh.receiver,
        document_type=sbdh.document_type,
        process=sbdh.process,
    )
    message = build_user_message(
        header, sbd_path, signer=identity, recipient_certificate=receiver_certificate, spool_dir=work
    )
    return PreparedMessage(message, receiver_certificate, sbdh)


#: Phrases of urllib3/ssl error texts and the short reason shown instead of the whole library chain
#: (``HTTPSConnectionPool(host=…): Max retries exceeded with url: … (Caused by …)``).
_REQUEST_REASONS: Final = (
    ("CERTIFICATE_VERIFY_FAILED", "the server's TLS certificate is not trusted"),
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
