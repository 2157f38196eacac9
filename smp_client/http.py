"""HTTP GET towards SMPs: https with verification, no redirects, bounded time and size.

peppol-commons defaults are kept: connect 5 s, read 10 s, no retries, HTTP redirects never
followed (a 3xx is an error), TLS verification on (certifi roots, or a custom CA bundle). URLs are
sent exactly as built: they hold only RFC 3986 unreserved characters and ``%XX`` escapes, which
``requests`` leaves untouched.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn
from urllib.parse import urlsplit

import requests
from cryptography import x509

from peppol.deadline import Deadline, mount_deadline_adapter
from peppol.deadline import current as current_deadline
from smp_client.errors import (
    BadSmpResponse,
    DocumentTypeNotServed,
    SmpHttpError,
    SmpTlsError,
    SmpUnavailable,
)

#: Connect timeout (seconds), as peppol-commons.
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
#: Read timeout (seconds), as peppol-commons' response timeout.
DEFAULT_READ_TIMEOUT: Final = 10.0
#: Largest SMP response read (bytes); real ones are a few kB.
DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
USER_AGENT: Final = "procurement-access-point smp-client/0.1"
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Transport settings of the SMP client."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    #: PEM bundle of CAs trusted for SMP TLS instead of the default (certifi) roots.
    ca_bundle: str | None = None
    #: Explicit proxies (``{"https": "http://proxy:3128"}``); ``None`` honours HTTPS_PROXY/NO_PROXY.
    proxies: Mapping[str, str] | None = None
    #: Allow plain-http SMP URLs (pre-2026 SMPs, legacy CNAME rigs). Insecure; off by default.
    allow_http: bool = False
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A successful (HTTP 200) response."""

    url: str
    status: int
    body: bytes
    content_type: str
    elapsed: float


class SmpHttp:
    """A small, thread-safe-enough GET client (one ``requests.Session`` with its connection pool)."""

    def __init__(self, settings: HttpSettings | None = None, session: requests.Session | None = None) -> None:
        self.settings = settings or HttpSettings()
        if self.settings.ca_bundle is not None:
            _check_ca_bundle(self.settings.ca_bundle)
        if session is None:
            session = requests.Session()
            mount_deadline_adapter(session)  # a lookup's deadline can cut a trickling response
        self.session = session
        if self.settings.proxies is not None:
            self.session.trust_env = False

    def close(self) -> None:
        self.session.close()

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "http" and not self.settings.allow_http:
            raise BadSmpResponse(f"refusing plain-http SMP URL {url} (https is required)")
        if scheme not in ("http", "https") or not parts.hostname:
            raise BadSmpResponse(f"not an http(s) URL: {url!r}")

    def get(self, url: str) -> HttpResult:
        """GET ``url``; return the 200 body or raise the matching taxonomy error."""
        self._check_url(url)
        s = self.settings
        headers = {"User-Agent": USER_AGENT, "Accept": "application/xml, text/xml", **s.headers}
        started = time.perf_counter()
        scope = current_deadline()
        timeout = (s.connect_timeout, s.read_timeout)
        if scope is not None:  # never wait on one read longer than the whole lookup has left
            timeout = (scope.cap(s.connect_timeout), scope.cap(s.read_timeout))
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                verify=s.ca_bundle if s.ca_bundle else True,
                proxies=dict(s.proxies) if s.proxies is not None else None,
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            if scope is not None and scope.expired:  # the watchdog cut the connection
                raise scope.error() from exc
            _raise_request_error(exc, url)
        except OSError as exc:  # e.g. the CA bundle vanished after start-up
            raise SmpTlsError(f"cannot set up TLS for {url}: {exc}") from exc
        try:
            status = response.status_code
            if status == 404:
                raise DocumentTypeNotServed(f"SMP answered 404 Not Found for {url}")
            if 300 <= status < 400:
                location = response.headers.get("Location", "?")
                raise SmpHttpError(
                    f"SMP answered HTTP {status} (redirect to {location}, not followed)", status
                )
            if status != 200:
                raise SmpHttpError(f"SMP answered HTTP {status} for {url}", status)
            body = self._read(response, url, scope)
        finally:
            response.close()
        return HttpResult(
            url=url,
            status=status,
            body=body,
            content_type=response.headers.get("Content-Type", ""),
            elapsed=time.perf_counter() - started,
        )

    def _read(self, response: requests.Response, url: str, scope: Deadline | None) -> bytes:
        limit = self.settings.max_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                if scope is not None:
                    scope.check()
                size += len(chunk)
                if size > limit:
                    raise BadSmpResponse(f"SMP response from {url} exceeds {limit} bytes")
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            if scope is not None and scope.expired:  # the watchdog cut the connection
                raise scope.error() from exc
            if isinstance(exc, requests.exceptions.Timeout):
                raise SmpUnavailable(f"timeout reading from {url}: {_short(exc)}") from exc
            raise SmpUnavailable(f"connection to {url} broke while reading: {_short(exc)}") from exc
        if not chunks:
            raise BadSmpResponse(f"SMP response from {url} is empty")
        return b"".join(chunks)


def _raise_request_error(exc: requests.exceptions.RequestException, url: str) -> NoReturn:
    if isinstance(exc, requests.exceptions.SSLError):
        raise SmpTlsError(f"TLS failure talking to {url}: {_short(exc)}") from exc
    if isinstance(exc, requests.exceptions.Timeout):
        raise SmpUnavailable(f"timeout talking to {url}: {_short(exc)}") from exc
    if isinstance(exc, requests.exceptions.ConnectionError):
        raise SmpUnavailable(f"cannot connect to {url}: {_short(exc)}") from exc
    raise BadSmpResponse(f"HTTP request to {url} failed: {_short(exc)}") from exc


def _check_ca_bundle(path: str) -> None:
    """Fail at configuration time, not at the first request, on a missing or non-PEM CA bundle."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if not x509.load_pem_x509_certificates(data):
            raise ValueError("no certificate in it")
    except (OSError, ValueError) as exc:
        raise ValueError(f"TLS CA bundle {path} is unusable: {exc}") from exc


def _short(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 exception, on one line."""
    reason: BaseException = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    return " ".join(text.split())[:300]
