"""SVRL → :class:`ubl.result.Item` conversion, and the severity mapping.

Severity of a ``failed-assert`` / ``successful-report``: the ``flag`` attribute wins when it names a
severity, then ``role``, otherwise :data:`DEFAULT_SEVERITY` (error). Values are compared case-insensitively:

=========================================  =========
``flag`` / ``role`` value                  Severity
=========================================  =========
``fatal``                                  fatal
``error``                                  error
``warning``, ``warn``                      warning
``info``, ``information``, ``notice``      info
anything else / absent                     error
=========================================  =========

Peppol BIS rules use ``flag="fatal"``/``flag="warning"``; eForms uses ``role="ERROR"``/``role="WARN"``.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from peppol.xml import XmlError, parse_bytes
from ubl.result import Item, Severity

from .errors import SchematronRuntimeError

SVRL_NS: Final = "http://purl.oclc.org/dsdl/svrl"
DEFAULT_SEVERITY: Final = Severity.ERROR
SEVERITY_WORDS: Final[dict[str, Severity]] = {
    "fatal": Severity.FATAL,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "notice": Severity.INFO,
}
_FAILED: Final = f"{{{SVRL_NS}}}failed-assert"
_REPORT: Final = f"{{{SVRL_NS}}}successful-report"
_TEXT: Final = f"{{{SVRL_NS}}}text"


def severity_of(flag: str | None, role: str | None) -> Severity:
    """Severity from ``flag`` then ``role`` (see the module table)."""
    for value in (flag, role):
        if value:
            found = SEVERITY_WORDS.get(value.strip().lower())
            if found is not None:
                return found
    return DEFAULT_SEVERITY


def items_from_tree(root: etree._Element) -> list[Item]:
    """Items of every ``failed-assert`` and ``successful-report`` under ``root``, in document order."""
    items: list[Item] = []
    for el in root.iter(_FAILED, _REPORT):
        text_el = el.find(_TEXT)
        text = " ".join("".join(str(t) for t in text_el.itertext()).split()) if text_el is not None else ""
        flag, role = el.get("flag"), el.get("role")
        items.append(
            Item(
                rule_id=el.get("id", ""),
                severity=severity_of(flag, role),
                text=text,
                location=el.get("location", ""),
                test=el.get("test", ""),
                role=role,
                flag=flag,
            )
        )
    return items


def parse_svrl(svrl: bytes) -> list[Item]:
    """Parse an SVRL report into items (failed asserts and successful reports)."""
    try:
        tree = parse_bytes(svrl)
    except XmlError as exc:
        raise SchematronRuntimeError(f"SVRL is not well-formed: {exc}") from exc
    return items_from_tree(tree.getroot())
