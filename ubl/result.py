"""The layered validation result (in the manner of phive): each layer valid, invalid or skipped;
each item a rule id, a severity, a location, the test and the text."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    """Severity of one finding; Schematron ``flag``/``role`` values map onto these."""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def is_failure(self) -> bool:
        return self in (Severity.FATAL, Severity.ERROR)


class LayerStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Item:
    """One finding. ``location`` is an XPath for Schematron items, ``line:column`` context for XSD."""

    rule_id: str
    severity: Severity
    text: str
    location: str = ""
    test: str = ""
    line: int | None = None
    column: int | None = None
    role: str | None = None
    flag: str | None = None


@dataclass(slots=True)
class Layer:
    """One validation layer (an XSD, or a Schematron with a phase)."""

    name: str
    kind: str  # "xsd" | "schematron"
    status: LayerStatus
    items: list[Item] = field(default_factory=list)
    artifact: str = ""
    duration_ms: float = 0.0
    skip_reason: str = ""
    svrl: bytes | None = None

    @property
    def failures(self) -> list[Item]:
        return [i for i in self.items if i.severity.is_failure]


@dataclass(slots=True)
class ValidationResult:
    """All layers run over one document, in order. A failed XSD layer skips the Schematron layers."""

    source: str
    document_type: str | None
    layers: list[Layer] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(layer.status is not LayerStatus.INVALID for layer in self.layers)

    @property
    def items(self) -> list[Item]:
        return [item for layer in self.layers for item in layer.items]
