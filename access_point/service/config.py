"""The access point service's configuration: one TOML file plus environment overrides.

File layout (every path is relative to the directory of the file; ``docs/service.md`` has an example)::

    data_dir = "data"                       # database, payload store, embedded Redis
    public_url = "https://ap.example/as4"   # what our SMP entries announce
    database_url = ""                       # default: SQLite in data_dir; or DATABASE_URL
    redis_url = ""                          # default: embedded Redis in data_dir; or REDIS_URL

    [server]      host, port, tls_cert, tls_key, insecure_http
    [identity]    cert, key, key_password_file               (our current AP certificate and key)
    [[identity.renewal]]  cert, key, key_password_file       (a certificate renewal: the previous or
                                                             next certificate of our seat, decrypt only)
    [trust]       network, ap, smp, tls, crls, revocation, allow_fetching, receipt_signer
    [discovery]   sml_zone + nameservers, or static          (a static directory file)
    [limits]      request and retry limits (defaults below)
    [client]      api_url, api_key, tls_ca                   (what ``ap send`` and friends use)
    [[tenants]]   id, participants, format, webhook_url, webhook_secret, country,
                  tender_receipt, rejection, and [[tenants.api_keys]] id, hash, scopes

Environment: ``DATABASE_URL`` and ``REDIS_URL``, and ``AP_<NAME>`` for every top-level scalar and
``AP_<SECTION>_<NAME>`` for every scalar of a section (``AP_SERVER_PORT=8443``, ``AP_CLIENT_API_KEY=…``),
applied over the file; ``AP_IDENTITY_RENEWAL="KEY[,CERT][;KEY[,CERT]…]"`` replaces the
``[[identity.renewal]]`` list. :func:`check_config` lists every problem, one line each.

The key password is never in the file: ``identity.key_password_file`` (the first line of that file), else
``$AP_KEY_PASSWORD``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from peppol.identifiers import IdentifierError, ParticipantId

if TYPE_CHECKING:
    from peppol.pki import Identity

#: Default TCP port of ``ap serve`` (AS4 and the REST API share it).
DEFAULT_PORT: Final = 8443
#: Formats a tenant can take its inbound documents in.
TENANT_FORMATS: Final = ("ubl", "ocds", "decp")
#: What an API key may be allowed to do.
SCOPES: Final = ("send", "read", "admin")
REVOCATION_POLICIES: Final = ("hard-fail", "soft-fail", "off")
#: Schemes of ``database_url`` / ``DATABASE_URL`` (``access_point.store.engine``).
DATABASE_SCHEMES: Final = ("sqlite", "postgresql", "postgres")
#: ``[trust] network``: the shipped OpenPeppol CA bundles (``peppol.pki.network``).
NETWORKS: Final = ("test", "production")
#: ``[trust] receipt_signer``: which certificate may sign the receipt of a message we sent
#: (``transport.as4.ReceiptSignerPolicy``; docs/operations.md § Certificate renewal).
RECEIPT_SIGNERS: Final = ("same-certificate", "same-seat")
#: Separators of ``AP_IDENTITY_RENEWAL``: entries, then key and certificate of one entry.
RENEWAL_ENV_SEPARATORS: Final = (";", ",")
#: Shortest worker lease (seconds): an AS4 POST must fit in it.
MIN_LEASE_SECONDS: Final = 2.0


class ConfigError(ValueError):
    """The configuration cannot be used; ``problems`` has one line per problem."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Limits:
    """Sizes, time-outs and retry policy (defaults are the named constants' values)."""

    #: Largest REST API request body (an outbound document), bytes.
    max_api_body_bytes: int = 20 * 1024 * 1024
    #: Largest AS4 request body (the transport's own cap is 100 MB).
    max_as4_body_bytes: int = 100 * 1024 * 1024
    #: Seconds a client may take between two chunks of a request body.
    body_read_timeout: float = 30.0
    #: Concurrent connections served; more wait in the backlog.
    max_connections: int = 256
    #: Attempts of one outbound message before it goes to the dead-letter state.
    send_max_attempts: int = 8
    #: Back-off before the second attempt (seconds); doubled each time, with jitter, up to the maximum.
    retry_initial_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    #: Consecutive failures of one receiving AP that open its circuit, and how long it stays open.
    circuit_failures: int = 5
    circuit_open_seconds: float = 60.0
    #: Attempts of one webhook delivery.
    webhook_max_attempts: int = 10
    #: Worker threads of in-process workers (embedded mode) and of ``ap worker``.
    worker_threads: int = 4
    #: Seconds a worker owns the outbound message it claimed: the message of a worker that died
    #: (``kill -9``, a lost machine) is taken over by another once it runs out. An AS4 POST's read
    #: timeout is kept below it.
    lease_seconds: float = 90.0


@dataclass(frozen=True)
class ApiKey:
    """An API key as configured: its public id, the SHA-256 of the whole key, its scopes."""

    id: str
    hash: str
    scopes: tuple[str, ...] = ("send", "read")


@dataclass(frozen=True)
class Tenant:
    """A platform served by this AP: the participants it owns and how it gets its documents."""

    id: str
    participants: tuple[ParticipantId, ...]
    format: str = "ubl"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    #: COUNTRY_C1 of the documents it sends.
    country: str | None = None
    #: Answer an inbound T005 Tender with a T006 TenderReceipt.
    tender_receipt: bool = False
    #: Answer an invalid inbound pre-award document with a T018 rejection.
    rejection: bool = False
    api_keys: tuple[ApiKey, ...] = ()


@dataclass(frozen=True)
class KeyPair:
    """One AP key pair as configured: the key (PEM, encrypted PEM or PKCS#12), its certificate (``None``
    for a PKCS#12 file, which holds it) and the file holding the key's password."""

    key: Path
    cert: Path | None = None
    key_password_file: Path | None = None


@dataclass(frozen=True)
class ServiceConfig:
    """A loaded, checked configuration (paths absolute)."""

    path: Path
    data_dir: Path
    public_url: str
    host: str
    port: int
    tls_cert: Path | None
    tls_key: Path | None
    insecure_http: bool
    identity_cert: Path | None
    identity_key: Path
    ap_trust: Path
    smp_trust: Path | None
    tls_trust: Path | None
    crls: tuple[Path, ...]
    revocation: str
    allow_fetching: bool
    sml_zone: str | None
    nameservers: tuple[str, ...]
    static_directory: Path | None
    limits: Limits
    tenants: tuple[Tenant, ...]
    #: ``None``: the store's default SQLite file in ``data_dir``.
    database_url: str | None
    redis_url: str | None
    api_url: str | None = None
    api_key: str | None = None
    client_tls_ca: Path | None = None
    identity_key_password_file: Path | None = None
    #: The other key pairs of a certificate renewal (previous or next): decryption only.
    identity_renewal: tuple[KeyPair, ...] = ()
    #: ``"test"`` / ``"production"``: the shipped OpenPeppol CAs are the default ``ap``/``smp`` trust.
    network: str | None = None
    receipt_signer: str = "same-certificate"

    @property
    def identity_pair(self) -> KeyPair:
        """The current key pair."""
        return KeyPair(self.identity_key, self.identity_cert, self.identity_key_password_file)

    def tenant_of(self, participant: ParticipantId) -> Tenant | None:
        """The tenant owning ``participant`` (identifiers compared by the Peppol case rules)."""
        for tenant in self.tenants:
            if participant in tenant.participants:
                return tenant
        return None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


# ---------------------------------------------------------------------------------------------------
# Loading


_SECTIONS: Final = ("server", "identity", "trust", "discovery", "limits", "client")
_TOP_SCALARS: Final = ("data_dir", "public_url", "database_url", "redis_url")


#: The scalars of each section that ``AP_<SECTION>_<NAME>`` sets.
_ENV_SCALARS: Final = {
    "server": ("host", "port", "tls_cert", "tls_key", "insecure_http"),
    "identity": ("cert", "key", "key_password_file"),
    "trust": ("network", "ap", "smp", "tls", "revocation", "allow_fetching", "receipt_signer"),
    "discovery": ("sml_zone", "static"),
    "limits": tuple(f.name for f in fields(Limits)),
    "client": ("api_url", "api_key", "tls_ca"),
}


def environment_names() -> frozenset[str]:
    """Every environment variable the configuration reads (``docs/service.md``)."""
    return frozenset(
        {
            "DATABASE_URL",
            "REDIS_URL",
            "AP_IDENTITY_RENEWAL",
            *(f"AP_{name.upper()}" for name in _TOP_SCALARS),
            *(
                f"AP_{section.upper()}_{name.upper()}"
                for section, names in _ENV_SCALARS.items()
                for name in names
            ),
        }
    )


def _env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Apply ``DATABASE_URL``, ``REDIS_URL`` and ``AP_*`` over the parsed file (in place)."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        if environ.get(name):
            raw[name.lower()] = environ[name]
    for name in _TOP_SCALARS:
        key = f"AP_{name.upper()}"
        if key in environ:
            raw[name] = environ[key]
    for section, names in _ENV_SCALARS.items():
        for name in names:
            key = f"AP_{section.upper()}_{name.upper()}"
            if key in environ:
                raw.setdefault(section, {})
                if isinstance(raw[section], dict):
                    raw[section][name] = environ[key]
    if "AP_IDENTITY_RENEWAL" in environ:
        entries, pair_separator = RENEWAL_ENV_SEPARATORS
        renewal = []
        for entry in environ["AP_IDENTITY_RENEWAL"].split(entries):
            if entry.strip():
                key, _, cert = entry.partition(pair_separator)
                renewal.append({"key": key.strip(), **({"cert": cert.strip()} if cert.strip() else {})})
        raw.setdefault("identity", {})
        if isinstance(raw["identity"], dict):
            raw["identity"]["renewal"] = renewal


class _Reader:
    """Collects problems while reading values out of the raw TOML tables."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def table(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            self.problem(f"[{name}] must be a table")
            return {}
        return value

    def unknown(self, table: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{where}: unknown setting {key!r} (allowed: {', '.join(allowed)})")

    def string(self, table: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None or value == "":
            if required:
                self.problem(f"{where}.{key} is required")
            return None
        if not isinstance(value, str):
            self.problem(f"{where}.{key} must be a string, not {type(value).__name__}")
            return None
        return value

    def boolean(self, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.lower() in ("true", "1", "yes")
        if not isinstance(value, bool):
            self.problem(f"{where}.{key} must be true or false")
            return default
        return value

    def number(self, table: dict[str, Any], key: str, where: str, default: float, *, integer: bool) -> Any:
        value = table.get(key, default)
        if isinstance(value, str):
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                self.problem(f"{where}.{key} must be a number, not {value!r}")
                return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (integer and isinstance(value, float))
        ):
            self.problem(f"{where}.{key} must be {'an integer' if integer else 'a number'}")
            return default
        if value < 0:
            self.problem(f"{where}.{key} must not be negative")
            return default
        return value

    def file(self, table: dict[str, Any], key: str, where: str, *, required: bool = False) -> Path | None:
        text = self.string(table, key, where, required=required)
        if text is None:
            return None
        path = (self.base / text).resolve()
        if not path.is_file():
            self.problem(f"{where}.{key}: file not found: {path}")
        return path

    def tables(self, value: object, where: str) -> list[tuple[str, dict[str, Any]]]:
        """The tables of the array of tables ``where`` (``[[where]]``), each with its own ``where``."""
        if not isinstance(value, list):
            self.problem(f"{where} must be an array of tables ([[{where}]])")
            return []
        found: list[tuple[str, dict[str, Any]]] = []
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                found.append((f"{where}[{index}]", entry))
            else:
                self.problem(f"{where}[{index}] must be a table")
        return found

    def strings(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"{where}.{key} must be a list of strings")
            return ()
        return tuple(value)


def _url(reader: _Reader, value: str | None, where: str, schemes: tuple[str, ...]) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        reader.problem(f"{where}: {value!r} is not a {'/'.join(schemes)} URL")


def _limits(reader: _Reader, raw: dict[str, Any]) -> Limits:
    table = reader.table(raw, "limits")
    defaults = Limits()
    names = tuple(f.name for f in fields(Limits))
    reader.unknown(table, "limits", names)
    values = {
        f.name: reader.number(table, f.name, "limits", getattr(defaults, f.name), integer=f.type == "int")
        for f in fields(Limits)
    }
    for name in ("send_max_attempts", "webhook_max_attempts", "worker_threads", "max_connections"):
        if values[name] < 1:
            reader.problem(f"limits.{name} must be at least 1")
    if values["lease_seconds"] < MIN_LEASE_SECONDS:
        reader.problem(f"limits.lease_seconds must be at least {MIN_LEASE_SECONDS:g}")
    return Limits(**values)


def _api_keys(reader: _Reader, raw: object, where: str) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    for here, entry in reader.tables(raw, f"{where}.api_keys"):
        reader.unknown(entry, here, ("id", "hash", "scopes"))
        key_id = reader.string(entry, "id", here, required=True)
        digest = reader.string(entry, "hash", here, required=True)
        if digest is not None and not (
            digest.startswith("sha256:")
            and len(digest) == 71
            and all(c in "0123456789abcdef" for c in digest[7:])
        ):
            reader.problem(f"{here}.hash must be 'sha256:' + 64 hex digits (the key itself never goes here)")
        scopes = reader.strings(entry, "scopes", here) if "scopes" in entry else ("send", "read")
        for scope in scopes:
            if scope not in SCOPES:
                reader.problem(f"{here}: unknown scope {scope!r} (allowed: {', '.join(SCOPES)})")
        if key_id and digest:
            keys.append(ApiKey(key_id, digest, scopes))
    return tuple(keys)


_TENANT_KEYS: Final = (
    "id", "participants", "format", "webhook_url", "webhook_secret", "country", "tender_receipt",
    "rejection", "api_keys",
)  # fmt: skip


def _tenants(reader: _Reader, raw: dict[str, Any]) -> tuple[Tenant, ...]:
    tenants: list[Tenant] = []
    owners: dict[ParticipantId, str] = {}
    key_ids: set[str] = set()
    for where, entry in reader.tables(raw.get("tenants", []), "tenants"):
        reader.unknown(entry, where, _TENANT_KEYS)
        tenant_id = reader.string(entry, "id", where, required=True) or f"#{where}"
        where = f"tenant {tenant_id!r}"
        participants: list[ParticipantId] = []
        for text in reader.strings(entry, "participants", where):
            try:
                participant = ParticipantId.parse(text)
            except IdentifierError as exc:
                reader.problem(f"{where}: participant {text!r}: {exc}")
                continue
            if participant in owners:
                reader.problem(
                    f"{where}: participant {text} already belongs to tenant {owners[participant]!r}"
                )
            owners[participant] = tenant_id
            participants.append(participant)
        if not participants:
            reader.problem(f"{where} has no participants")
        fmt = reader.string(entry, "format", where) or "ubl"
        if fmt not in TENANT_FORMATS:
            reader.problem(f"{where}.format must be one of {', '.join(TENANT_FORMATS)}, not {fmt!r}")
        webhook = reader.string(entry, "webhook_url", where)
        _url(reader, webhook, f"{where}.webhook_url", ("https", "http"))
        secret = reader.string(entry, "webhook_secret", where)
        if webhook and not secret:
            reader.problem(f"{where}: webhook_url needs a webhook_secret (deliveries are HMAC-signed)")
        country = reader.string(entry, "country", where)
        if country is not None and not (len(country) == 2 and country.isalpha() and country.isupper()):
            reader.problem(f"{where}.country must be an ISO 3166-1 alpha-2 code such as 'FR'")
        keys = _api_keys(reader, entry.get("api_keys", []), where)
        for key in keys:
            if key.id in key_ids:
                reader.problem(f"{where}: API key id {key.id!r} is used twice")
            key_ids.add(key.id)
        if any(t.id == tenant_id for t in tenants):
            reader.problem(f"{where}: tenant id used twice")
        tenants.append(
            Tenant(
                id=tenant_id,
                participants=tuple(participants),
                format=fmt,
                webhook_url=webhook,
                webhook_secret=secret,
                country=country,
                tender_receipt=reader.boolean(entry, "tender_receipt", where, False),
                rejection=reader.boolean(entry, "rejection", where, False),
                api_keys=keys,
            )
        )
    if not tenants:
        reader.problem("no [[tenants]]: the service would serve no participant")
    return tuple(tenants)


_TRUST_KEYS: Final = (
    "network", "ap", "smp", "tls", "crls", "revocation", "allow_fetching", "receipt_signer",
)  # fmt: skip
_PAIR_KEYS: Final = ("cert", "key", "key_password_file")
_PASSWORD_KEYS: Final = ("key_password", "password")


def _key_pair(reader: _Reader, table: dict[str, Any], where: str, allowed: tuple[str, ...]) -> KeyPair | None:
    """``cert``, ``key`` and ``key_password_file`` of ``table`` (the cert is optional for PKCS#12)."""
    for name in _PASSWORD_KEYS:
        if name in table:
            reader.problem(
                f"{where}.{name}: a password never goes in the configuration file "
                f"(key_password_file = FILE, or $AP_KEY_PASSWORD)"
            )
    reader.unknown({k: v for k, v in table.items() if k not in _PASSWORD_KEYS}, where, allowed)
    key = reader.file(table, "key", where, required=True)
    from peppol.pki import looks_pkcs12

    pkcs12 = key is not None and key.is_file() and looks_pkcs12(key)
    cert = reader.file(table, "cert", where, required=not pkcs12)
    password_file = reader.file(table, "key_password_file", where)
    return KeyPair(key, cert, password_file) if key is not None else None


def _identity(reader: _Reader, raw: dict[str, Any]) -> tuple[KeyPair | None, tuple[KeyPair, ...]]:
    """The current key pair of ``[identity]`` and the ``[[identity.renewal]]`` ones."""
    identity = reader.table(raw, "identity")
    current = _key_pair(reader, identity, "identity", (*_PAIR_KEYS, "renewal"))
    renewal: list[KeyPair] = []
    for where, entry in reader.tables(identity.get("renewal", []), "identity.renewal"):
        pair = _key_pair(reader, entry, where, _PAIR_KEYS)
        if pair is None:
            continue
        if current is not None and pair.key == current.key:
            reader.problem(f"{where}.key is the current identity.key (list only the other certificates)")
        elif pair.key in (other.key for other in renewal):
            reader.problem(f"{where}.key is listed twice")
        if pair.key_password_file is None and current is not None:  # the current one's password file
            pair = KeyPair(pair.key, pair.cert, current.key_password_file)
        renewal.append(pair)
    return current, tuple(renewal)


def _parse(path: Path, environ: Mapping[str, str]) -> tuple[ServiceConfig | None, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot read {path}: {exc}"]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"not valid TOML: {exc}"]
    _env_overrides(raw, environ)
    reader = _Reader(path.resolve().parent)
    reader.unknown(raw, "top level", (*_TOP_SCALARS, *_SECTIONS, "tenants"))

    data_dir = (reader.base / (reader.string(raw, "data_dir", "top level") or "data")).resolve()
    public_url = reader.string(raw, "public_url", "top level", required=True) or ""
    _url(reader, public_url or None, "public_url", ("https", "http"))
    database_url = reader.string(raw, "database_url", "top level")
    if database_url is not None and urlsplit(database_url).scheme.split("+")[0] not in DATABASE_SCHEMES:
        reader.problem(
            f"database_url: {database_url.split('@')[-1]!r} is not a sqlite:/// or postgresql:// URL"
        )
    redis_url = reader.string(raw, "redis_url", "top level")
    _url(reader, redis_url, "redis_url", ("redis", "rediss", "unix"))

    server = reader.table(raw, "server")
    reader.unknown(server, "server", ("host", "port", "tls_cert", "tls_key", "insecure_http"))
    host = reader.string(server, "host", "server") or "127.0.0.1"
    port = reader.number(server, "port", "server", DEFAULT_PORT, integer=True)
    if port > 65535:
        reader.problem(f"server.port {port} is not a TCP port")
    tls_cert = reader.file(server, "tls_cert", "server")
    tls_key = reader.file(server, "tls_key", "server")
    insecure_http = reader.boolean(server, "insecure_http", "server", False)
    if (tls_cert is None) != (tls_key is None):
        reader.problem("server.tls_cert and server.tls_key go together")
    if tls_cert is None and not insecure_http:
        reader.problem(
            "server: no tls_cert/tls_key; Peppol requires TLS (insecure_http = true for local tests)"
        )
    if public_url.startswith("http://") and not insecure_http:
        reader.problem("public_url is plain http:// (set server.insecure_http = true for local tests only)")

    current, renewal = _identity(reader, raw)

    trust = reader.table(raw, "trust")
    reader.unknown(trust, "trust", _TRUST_KEYS)
    network = reader.string(trust, "network", "trust")
    if network is not None and network not in NETWORKS:
        reader.problem(f"trust.network must be one of {', '.join(NETWORKS)}, not {network!r}")
        network = None
    ap_trust = reader.file(trust, "ap", "trust", required=network is None and "network" not in trust)
    smp_trust = reader.file(trust, "smp", "trust")
    if network is not None:  # the shipped OpenPeppol CAs, unless a file is given
        from peppol.pki import trust_file

        ap_trust, smp_trust = trust_file(network, ap_trust), trust_file(network, smp_trust)
    tls_trust = reader.file(trust, "tls", "trust")
    receipt_signer = reader.string(trust, "receipt_signer", "trust") or RECEIPT_SIGNERS[0]
    if receipt_signer not in RECEIPT_SIGNERS:
        reader.problem(
            f"trust.receipt_signer must be one of {', '.join(RECEIPT_SIGNERS)}, not {receipt_signer!r}"
        )
    crls = tuple((reader.base / c).resolve() for c in reader.strings(trust, "crls", "trust"))
    for crl in crls:
        if not crl.is_file():
            reader.problem(f"trust.crls: file not found: {crl}")
    revocation = reader.string(trust, "revocation", "trust") or "soft-fail"
    if revocation not in REVOCATION_POLICIES:
        reader.problem(f"trust.revocation must be one of {', '.join(REVOCATION_POLICIES)}")
    allow_fetching = reader.boolean(trust, "allow_fetching", "trust", True)

    discovery = reader.table(raw, "discovery")
    reader.unknown(discovery, "discovery", ("sml_zone", "nameservers", "static"))
    zone = reader.string(discovery, "sml_zone", "discovery")
    nameservers = reader.strings(discovery, "nameservers", "discovery")
    static = reader.file(discovery, "static", "discovery")
    if static is not None and zone is not None:
        reader.problem("discovery: set either sml_zone (SML + SMP) or static (a directory file), not both")
    if static is None and zone is None:
        reader.problem("discovery: set sml_zone (e.g. 'edelivery.tech.ec.europa.eu') or static")
    if zone is not None and smp_trust is None:
        reader.problem(
            "trust.smp (or trust.network) is required with discovery.sml_zone (SMP signatures are verified)"
        )

    client = reader.table(raw, "client")
    reader.unknown(client, "client", ("api_url", "api_key", "tls_ca"))
    api_url = reader.string(client, "api_url", "client")
    _url(reader, api_url, "client.api_url", ("https", "http"))

    limits = _limits(reader, raw)
    tenants = _tenants(reader, raw)
    if reader.problems:
        return None, reader.problems
    assert current is not None and ap_trust is not None
    config = ServiceConfig(
        path=path.resolve(),
        data_dir=data_dir,
        public_url=public_url,
        host=host,
        port=int(port),
        tls_cert=tls_cert,
        tls_key=tls_key,
        insecure_http=insecure_http,
        identity_cert=current.cert,
        identity_key=current.key,
        identity_key_password_file=current.key_password_file,
        identity_renewal=renewal,
        network=network,
        receipt_signer=receipt_signer,
        ap_trust=ap_trust,
        smp_trust=smp_trust,
        tls_trust=tls_trust,
        crls=crls,
        revocation=revocation,
        allow_fetching=allow_fetching,
        sml_zone=zone,
        nameservers=nameservers,
        static_directory=static,
        limits=limits,
        tenants=tenants,
        database_url=database_url,
        redis_url=redis_url,
        api_url=api_url,
        api_key=reader.string(client, "api_key", "client"),
        client_tls_ca=reader.file(client, "tls_ca", "client"),
    )
    return config, []


def load_key_pair(pair: KeyPair, environ: Mapping[str, str] | None = None) -> Identity:
    """One configured key pair: a PKCS#12 file or a PEM key, plain or encrypted, its password from
    ``key_password_file``, else ``$AP_KEY_PASSWORD`` (never in the configuration file); a clear PEM key
    takes none (the keys of a renewal may be one clear, one encrypted)."""
    from peppol.pki import key_password, load_identity, needs_password

    password = key_password(pair.key_password_file, environ) if needs_password(pair.key) else None
    return load_identity(pair.key, pair.cert, password=password)


def load_service_identity(config: ServiceConfig) -> Identity:
    """Our AP identity: the current key pair of ``[identity]``, which signs; with ``[[identity.renewal]]``
    entries an :class:`~peppol.pki.IdentitySet` that also decrypts messages encrypted for them.

    Raises :class:`~peppol.pki.KeyLoadError` naming the entry (``identity.renewal[1]: …``)."""
    from peppol.pki import IdentitySet, KeyLoadError

    current = load_key_pair(config.identity_pair)
    if not config.identity_renewal:
        return current
    others = []
    for index, pair in enumerate(config.identity_renewal):
        try:
            others.append(load_key_pair(pair))
        except KeyLoadError as exc:
            raise KeyLoadError(f"identity.renewal[{index}]: {exc}") from exc
    return IdentitySet.of_identities(current, others)


def _identity_problems(config: ServiceConfig, environ: Mapping[str, str]) -> list[str]:
    """Each key pair loads, the renewal ones are of our seat and none is the current certificate."""
    from datetime import UTC, datetime

    from peppol.pki import seat_id

    try:
        current = load_key_pair(config.identity_pair, environ)
    except Exception as exc:
        return [f"identity: cannot load the key pair: {exc}"]
    problems: list[str] = []
    now = datetime.now(UTC)
    seen = {current.certificate}
    for index, pair in enumerate(config.identity_renewal):
        where = f"identity.renewal[{index}]"
        try:
            other = load_key_pair(pair, environ)
        except Exception as exc:
            problems.append(f"{where}: cannot load the key pair: {exc}")
            continue
        if other.certificate in seen:
            problems.append(f"{where}: the same certificate as identity or another entry (list each once)")
        elif seat_id(other.certificate) != seat_id(current.certificate):
            problems.append(
                f"{where}: certificate of seat {seat_id(other.certificate)!r}, the current one is "
                f"{seat_id(current.certificate)!r} (a renewal keeps the seat id)"
            )
        elif other.certificate.not_valid_after_utc <= now:
            problems.append(
                f"{where}: the certificate expired on {other.certificate.not_valid_after_utc:%Y-%m-%d} "
                "(no sender can use it any more: remove the entry)"
            )
        seen.add(other.certificate)
    return problems


def _deep_checks(config: ServiceConfig, environ: Mapping[str, str]) -> list[str]:
    """Checks that load the files: key matches certificate, trust stores parse, our certificate
    validates, TLS pair loads."""
    import ssl

    from peppol.pki import TrustStore

    problems = _identity_problems(config, environ)
    for name, path in (("ap", config.ap_trust), ("smp", config.smp_trust), ("tls", config.tls_trust)):
        if path is not None:
            try:
                TrustStore.from_pem(path)
            except Exception as exc:
                problems.append(f"trust.{name}: {path}: not a PEM trust store: {exc}")
    if config.tls_cert is not None and config.tls_key is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                str(config.tls_cert), str(config.tls_key)
            )
        except (OSError, ssl.SSLError) as exc:
            problems.append(f"server: cannot load the TLS certificate and key: {exc}")
    return problems


def check_config(path: Path | str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every problem of the configuration at ``path``, one line each (empty: usable)."""
    environ = os.environ if environ is None else environ
    config, problems = _parse(Path(path), environ)
    if config is None:
        return problems
    return _deep_checks(config, environ)


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    """The configuration at ``path`` with the environment applied; :class:`ConfigError` otherwise."""
    config, problems = _parse(Path(path), os.environ if environ is None else environ)
    if config is None:
        raise ConfigError(path, problems)
    return config


__all__ = [
    "ApiKey",
    "ConfigError",
    "KeyPair",
    "Limits",
    "ServiceConfig",
    "Tenant",
    "check_config",
    "environment_names",
    "load_config",
    "load_key_pair",
    "load_service_identity",
]
