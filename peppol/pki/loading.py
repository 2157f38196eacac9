"""Loading certificates, private keys and PKCS#12 files.

Parsing a PEM RSA private key costs ~35 ms (``conformance.md`` §8.3), a hundred times an RSA
signature, so keys are loaded once: :func:`load_private_key` and :meth:`Identity.load` keep a small
process-wide cache keyed by path + mtime (+ size + password digest), so a rewritten file is reloaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from peppol.pki.errors import KeyLoadError
from peppol.pki.names import seat_id as _seat_id

#: Largest key / certificate / PKCS#12 / bundle file read (bytes); real ones are a few kB.
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
#: Entries kept by the process-wide key and identity cache.
CACHE_SIZE: Final = 64

#: Environment variable holding the password of an encrypted key or PKCS#12 file
#: (:func:`key_password`); a password is never taken on the command line.
KEY_PASSWORD_ENV: Final = "AP_KEY_PASSWORD"  # noqa: S105 (a variable name, not a password)
#: File name endings read as PKCS#12 (the content is sniffed too).
PKCS12_SUFFIXES: Final = (".p12", ".pfx")

_PEM_MARKER: Final = b"-----BEGIN"
_T = TypeVar("_T")


def _read(source: Path | bytes, what: str) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        try:
            size = Path(source).stat().st_size
            if size > MAX_FILE_BYTES:
                raise KeyLoadError(f"{what} file {source} is too large ({size} bytes)")
            data = Path(source).read_bytes()
        except OSError as exc:
            raise KeyLoadError(f"cannot read {what} file {source}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise KeyLoadError(f"{what} is too large ({len(data)} bytes)")
    if not data.strip():
        raise KeyLoadError(f"{what} is empty")
    return data


def _is_pem(data: bytes) -> bool:
    return _PEM_MARKER in data[:4096] or data.lstrip().startswith(_PEM_MARKER)


def _decoded(cert: x509.Certificate) -> x509.Certificate:
    """Decode the subject and issuer names now: ``cryptography`` parses them lazily, so a malformed
    name would otherwise surface as a bare ``ValueError`` wherever it is first read (trust store,
    seat id, stage checks) instead of as a :class:`KeyLoadError` here."""
    try:
        _ = (cert.subject, cert.issuer)
    except ValueError as exc:
        raise KeyLoadError(f"malformed certificate name: {exc}") from exc
    return cert


def load_certificate(source: Path | bytes) -> x509.Certificate:
    """One X.509 certificate, PEM or DER (from a PEM bundle: the first one)."""
    data = _read(source, "certificate")
    try:
        if _is_pem(data):
            return _decoded(x509.load_pem_x509_certificate(data))
        return _decoded(x509.load_der_x509_certificate(data))
    except KeyLoadError:
        raise
    except ValueError as exc:
        raise KeyLoadError(f"not a PEM or DER certificate: {exc}") from exc


def load_certificates(source: Path | bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (a single DER certificate is accepted too)."""
    data = _read(source, "certificate bundle")
    try:
        if _is_pem(data):
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise KeyLoadError(f"not a PEM certificate bundle: {exc}") from exc
    return [_decoded(cert) for cert in certs]


def _as_rsa(key: object, what: str) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError(f"{what} is not an RSA private key (Peppol uses RSA): {type(key).__name__}")
    return key


def is_pkcs12(data: bytes) -> bool:
    """Whether DER ``data`` is a PKCS#12 PFX: a SEQUENCE whose first element is ``INTEGER 3``
    (a DER private key starts with ``INTEGER 0``; PEM is never PKCS#12)."""
    if len(data) < 8 or data[0] != 0x30 or _is_pem(data):
        return False
    length = data[1]
    offset = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def _decode_private_key(data: bytes, password: bytes | None) -> rsa.RSAPrivateKey:
    if is_pkcs12(data):
        raise KeyLoadError("this is a PKCS#12 file, not a private key: load it with load_identity()")
    encrypted = b"ENCRYPTED" in data[:4096] if _is_pem(data) else False
    try:
        if _is_pem(data):
            key = serialization.load_pem_private_key(data, password=password)
        else:
            key = serialization.load_der_private_key(data, password=password)
    except TypeError as exc:  # encrypted without a password, or a password for a clear key
        if password is None:
            raise KeyLoadError("the private key is encrypted: a password is needed") from exc
        raise KeyLoadError("the private key is not encrypted: give no password") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        if encrypted or password is not None:
            raise KeyLoadError("cannot decrypt the private key: wrong password") from exc
        raise KeyLoadError("not a PEM or DER private key (PKCS#1 or PKCS#8)") from exc
    return _as_rsa(key, "private key")


class _Cache:
    """A tiny thread-safe LRU cache keyed by file identity (path, mtime, size) or content digest."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[object, ...], value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _Cache()


def clear_key_cache() -> None:
    """Forget every cached key and identity (tests, key rotation)."""
    _CACHE.clear()


def _password_tag(password: bytes | None) -> str:
    return "" if password is None else hashlib.sha256(b"pw:" + password).hexdigest()


def _file_key(kind: str, path: Path, password: bytes | None) -> tuple[object, ...]:
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyLoadError(f"cannot read {kind} file {path}: {exc.strerror or exc}") from exc
    return (kind, str(path.resolve()), st.st_mtime_ns, st.st_size, _password_tag(password))


def load_private_key(source: Path | bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key, PEM or DER (PKCS#1 or PKCS#8, optionally encrypted).

    Cached process-wide: per path + mtime for files, per content digest for bytes.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        key: tuple[object, ...] = (
            "key-bytes",
            hashlib.sha256(bytes(source)).hexdigest(),
            _password_tag(password),
        )
    else:
        key = _file_key("key", Path(source), password)
    cached = _CACHE.get(key)
    if isinstance(cached, rsa.RSAPrivateKey):
        return cached
    try:
        loaded = _decode_private_key(_read(source, "private key"), password)
    except KeyLoadError as exc:
        if isinstance(source, bytes | bytearray | memoryview) or str(source) in str(exc):
            raise
        raise KeyLoadError(f"{source}: {exc}") from exc
    _CACHE.put(key, loaded)
    return loaded


@dataclass(frozen=True, eq=False)
class Identity:
    """A private key with its certificate (and the issuing chain, leaf excluded), loaded once."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def load(cls, cert: Path, key: Path, password: bytes | None = None) -> Identity:
        """Load a PEM/DER certificate file (a PEM bundle: leaf first, then its chain) and its key file.

        Cached per (cert path+mtime, key path+mtime); raises :class:`KeyLoadError` when the key does not
        belong to the certificate.
        """
        if looks_pkcs12(Path(key)):
            return load_identity(Path(key), Path(cert), password=password)
        cache_key = ("identity", *_file_key("cert", Path(cert), None), *_file_key("key", Path(key), password))
        cached = _CACHE.get(cache_key)
        if isinstance(cached, Identity):
            return cached
        certs = load_certificates(cert)
        identity = cls.of(load_private_key(key, password), certs[0], tuple(certs[1:]))
        _CACHE.put(cache_key, identity)
        return identity

    @classmethod
    def of(
        cls,
        private_key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> Identity:
        """Build an identity after checking that the key matches the certificate."""
        try:
            public_key = certificate.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:  # decoded lazily by cryptography
            raise KeyLoadError(f"malformed certificate public key: {exc}") from exc
        if public_key != private_key.public_key():
            raise KeyLoadError(
                f"private key does not match certificate {certificate.subject.rfc4514_string()!r}"
            )
        return cls(private_key, certificate, chain)

    @property
    def seat_id(self) -> str:
        """The certificate's CN (the Peppol seat id for AP certificates)."""
        return _seat_id(self.certificate)

    def private_key_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM (for libraries that want bytes, e.g. signxml / xmlsec)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def certificate_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def load_pkcs12(source: Path | bytes, password: bytes | None) -> Identity:
    """The key, certificate and chain of a PKCS#12 (.p12 / .pfx) file. Cached per path + mtime."""
    cache_key: tuple[object, ...] | None = None
    if not isinstance(source, bytes | bytearray | memoryview):
        cache_key = _file_key("p12", Path(source), password)
        cached = _CACHE.get(cache_key)
        if isinstance(cached, Identity):
            return cached
    data = _read(source, "PKCS#12")
    where = "PKCS#12" if isinstance(source, bytes | bytearray | memoryview) else f"PKCS#12 file {source}"
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # cryptography's text here is parser detail ("ParseError { kind: UnexpectedTag … }")
        if not is_pkcs12(data):
            raise KeyLoadError(f"{where}: not a PKCS#12 file") from exc
        if password is None:
            raise KeyLoadError(f"{where}: wrong or missing password (this file needs one)") from exc
        raise KeyLoadError(f"{where}: wrong password") from exc
    if key is None or cert is None:
        raise KeyLoadError(f"{where} holds no private key and certificate")
    identity = Identity.of(_as_rsa(key, "PKCS#12 key"), _decoded(cert), tuple(_decoded(c) for c in extra))
    if cache_key is not None:
        _CACHE.put(cache_key, identity)
    return identity


def key_password(password_file: Path | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The password of an encrypted key / PKCS#12: the first line of ``password_file`` when given,
    else ``$AP_KEY_PASSWORD``, else ``None``. Never from a command-line argument (visible in ``ps``)."""
    if password_file is not None:
        try:
            text = Path(password_file).read_bytes()
        except OSError as exc:
            raise KeyLoadError(f"cannot read password file {password_file}: {exc.strerror or exc}") from exc
        return text.splitlines()[0] if text.strip() else b""
    value = (os.environ if environ is None else environ).get(KEY_PASSWORD_ENV)
    return None if value is None else value.encode("utf-8")


def looks_pkcs12(path: Path) -> bool:
    """``path`` is a PKCS#12 file: by its name (``.p12``, ``.pfx``) or its first bytes."""
    if path.suffix.lower() in PKCS12_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return is_pkcs12(fh.read(16))
    except OSError:
        return False


def needs_password(path: Path) -> bool:
    """Whether the key file at ``path`` can need a password: a PKCS#12 file or an encrypted PEM key
    (a DER key may be encrypted too); ``False`` for a clear PEM key, so a password configured for
    the other keys of a set (``$AP_KEY_PASSWORD``) is not given to it."""
    if looks_pkcs12(path):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # the loader reports the unreadable file
    return not _is_pem(head) or b"ENCRYPTED" in head


def load_identity(
    key_path: Path, cert_path: Path | None = None, *, password: bytes | None = None
) -> Identity:
    """Our key and certificate from what an operator has: a PKCS#12 file (``cert_path`` optional; when
    given it must be the PKCS#12's certificate, or the file supplies the chain), or a PEM/DER key —
    plain or encrypted (``password``) — with its certificate file (PEM bundle: leaf, then chain).

    Raises :class:`KeyLoadError` with a one-line reason naming the file.
    """
    key_path = Path(key_path)
    if looks_pkcs12(key_path):
        identity = load_pkcs12(key_path, password)
        if cert_path is None:
            return identity
        certs = load_certificates(cert_path)
        if certs[0] != identity.certificate:
            raise KeyLoadError(f"certificate {cert_path} is not the one in PKCS#12 file {key_path}")
        return Identity(identity.private_key, identity.certificate, tuple(certs[1:]) or identity.chain)
    if cert_path is None:
        raise KeyLoadError(f"{key_path} is a private key: its certificate file is needed too")
    return Identity.load(Path(cert_path), key_path, password)
