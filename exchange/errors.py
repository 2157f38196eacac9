"""Errors of the exchange layer: each carries a ``code`` (stable, for APIs and logs) and whether trying
again can help (``permanent``). Messages name the problem, never a CLI flag or an HTTP field: the
caller (CLI, REST API) words the fix in its own terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ubl.result import ValidationResult


class ExchangeError(Exception):
    """Base class. ``code``: stable identifier; ``permanent``: the same input will fail again."""

    code: str = "EXCHANGE_ERROR"
    permanent: bool = True

    def __init__(self, message: str, *, code: str | None = None, permanent: bool | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if permanent is not None:
            self.permanent = permanent


class InvalidRequest(ExchangeError):
    """The request itself is unusable (missing party, unknown input format, bad identifier)."""

    code = "INVALID_REQUEST"


class MappingFailed(ExchangeError):
    """Platform data (OCDS/DECP) could not be mapped to UBL; ``path`` names the input location."""

    code = "MAPPING_FAILED"

    def __init__(self, message: str, *, path: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.path = path


class ValidationFailed(ExchangeError):
    """The business document failed validation; ``result`` is the full layered report."""

    code = "VALIDATION_FAILED"

    def __init__(self, result: ValidationResult) -> None:
        failures = [item for item in result.items if item.severity.is_failure]
        first = f": {failures[0].rule_id} {failures[0].text}" if failures else ""
        super().__init__(f"the document is not valid ({len(failures)} failure(s)){first}")
        self.result = result


class EnvelopeFailed(ExchangeError):
    """The SBDH could not be built or read (``code`` is the SBDH rule code)."""

    code = "SBDH_INVALID"


class DiscoveryFailed(ExchangeError):
    """The receiver's endpoint could not be found. ``permanent`` for a participant not registered, a
    document type not supported, no AS4 endpoint or an untrusted endpoint certificate; transient for
    DNS/SMP outages. ``code`` is the discovery failure class (e.g. ``PARTICIPANT_NOT_REGISTERED``)."""

    code = "DISCOVERY_FAILED"


class BuildFailed(ExchangeError):
    """The AS4 message could not be built (e.g. the receiver certificate holds no RSA key)."""

    code = "BUILD_FAILED"
