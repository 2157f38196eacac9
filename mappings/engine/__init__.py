"""The engine that applies a declarative spec (``mappings.spec``) in both directions: :func:`read` a UBL
tree into an OCDS release fragment (``reader``), :func:`write` a release into a UBL tree (``writer``,
one :class:`~mappings.engine.writer.WriteContext` per scope object); what both share — the spec's
XPaths, kept lexical forms, value conversion — is in ``forms``."""

from mappings.engine.forms import RAW_TYPES, compiled_xpath
from mappings.engine.reader import read
from mappings.engine.writer import VARIANT_LANGUAGES, Trace, WriteContext, language_variations, write

__all__ = [
    "RAW_TYPES",
    "VARIANT_LANGUAGES",
    "Trace",
    "WriteContext",
    "compiled_xpath",
    "language_variations",
    "read",
    "write",
]
