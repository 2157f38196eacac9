"""The Schematron layer: our own ISO Schematron → XSLT 3.0 compiler, run by saxonche.

Public API (used by the validation orchestrator)::

    compiled = compile_schematron(path, phase="eforms-16")      # cached on disk and per process
    layer = compiled.validate(document_bytes_or_path)           # ubl.result.Layer, kind="schematron"
    items = parse_svrl(svrl_bytes)

See ``docs/schematron.md`` for the supported constructs and the generated stylesheet's shape.
"""

from __future__ import annotations

from .compiler import ALL_PHASE, COMPILER_VERSION, DEFAULT_PHASE
from .eforms import eforms_phase, notice_subtype
from .errors import (
    SchematronCacheError,
    SchematronCompileError,
    SchematronError,
    SchematronPhaseError,
    SchematronReferenceError,
    SchematronRuntimeError,
    SchematronSourceError,
    SchematronUnsupportedError,
)
from .runtime import CompiledSchematron, compile_schematron
from .svrl import parse_svrl, severity_of

__all__ = [
    "ALL_PHASE",
    "COMPILER_VERSION",
    "DEFAULT_PHASE",
    "CompiledSchematron",
    "SchematronCacheError",
    "SchematronCompileError",
    "SchematronError",
    "SchematronPhaseError",
    "SchematronReferenceError",
    "SchematronRuntimeError",
    "SchematronSourceError",
    "SchematronUnsupportedError",
    "compile_schematron",
    "eforms_phase",
    "notice_subtype",
    "parse_svrl",
    "severity_of",
]
