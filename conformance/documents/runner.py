"""Runs rule unit tests through the Schematron layer only (fragments are not XSD-valid) and turns
each into a :class:`conformance.model.CaseResult` with its reason in one sentence."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.model import CaseResult, Level, Outcome, Run, RunHeader, one_sentence
from peppol.xml import XmlError
from ubl import registry
from ubl.artifacts import ArtifactError, ArtifactStore, default_store
from ubl.schematron import CompiledSchematron, SchematronError, compile_schematron, eforms_phase

from .expectations import Check
from .sources import TestSourceError, UnitTest, check_document

SUITE_NAME = "documents"


class RulesetError(ValueError):
    """A ruleset key or Schematron that cannot be used (one-line message)."""

    code = "conformance-ruleset"


@dataclass(frozen=True, slots=True)
class Choice:
    """The Schematron (and phase) the user chose for every test, overriding the tests' own hints."""

    schematron: Path | None = None
    ruleset: str | None = None
    phase: str | None = None
    cache_dir: Path | None = None


def ruleset_schematron(key: str, store: ArtifactStore) -> tuple[Path, str | None]:
    """The Schematron file and phase of registry type ``key`` in ``store``."""
    try:
        doc_type = registry.get(key)
    except registry.UnknownDocumentTypeKey:
        raise RulesetError(f"unknown ruleset {key!r} (see 'ap artifacts' for the document types)") from None
    if doc_type.schematron is None:
        raise RulesetError(f"ruleset {key!r} has no Schematron we can run")
    try:
        return store.path(doc_type.schematron.set) / doc_type.schematron.path, doc_type.phase
    except ArtifactError as exc:
        raise RulesetError(f"ruleset {key!r}: {exc}") from exc


def _auto_phase(document: bytes) -> str | None:
    """An eForms notice's phase (``eforms-<subtype>``); None for anything else (default phase)."""
    try:
        return eforms_phase(document)
    except (SchematronError, XmlError):
        return None


def resolve(test: UnitTest, choice: Choice, store: ArtifactStore) -> tuple[Path, str | None]:
    """Schematron and phase for ``test``: the command line first, then the test file's own hints."""
    phase = choice.phase or test.phase
    if choice.schematron is not None:
        source: Path = choice.schematron
    elif choice.ruleset is not None:
        source, own = ruleset_schematron(choice.ruleset, store)
        phase = phase or own
    elif test.schematron is not None:
        source = test.schematron
    elif test.ruleset is not None:
        source, own = ruleset_schematron(test.ruleset, store)
        phase = phase or own
    else:
        raise RulesetError("no Schematron for this test: give --schematron or --ruleset")
    return source, phase or _auto_phase(test.document)


def _reason(checks: list[Check]) -> str:
    broken = [c for c in checks if not c.held]
    if broken:
        more = f" (and {len(broken) - 1} more expectations broken)" if len(broken) > 1 else ""
        return one_sentence(broken[0].text.rstrip(".") + more)
    if len(checks) == 1:
        return one_sentence(checks[0].text)
    return one_sentence(f"All {len(checks)} expectations held; {checks[0].text.rstrip('.')}, and more")


def _case(test: UnitTest, outcome: Outcome, reason: str, **extra: object) -> CaseResult:
    return CaseResult(
        id=test.id,
        title=test.title,
        level=Level.MUST,
        outcome=outcome,
        reason=reason,
        expected=test.expectation.describe(),
        group=test.group,
        **extra,  # type: ignore[arg-type]
    )


def run_test(test: UnitTest, compiled: CompiledSchematron) -> CaseResult:
    started = time.time()
    clock = time.perf_counter()
    evidence = {"document.xml": test.document}
    try:
        check_document(test.document, test.id)
        layer = compiled.validate(test.document)
    except (TestSourceError, SchematronError, XmlError) as exc:
        return _case(
            test,
            Outcome.ERROR,
            one_sentence(f"The Schematron could not run: {exc}"),
            evidence=evidence,
            started=started,
            duration=time.perf_counter() - clock,
        )
    checks = test.expectation.judge(layer.items)
    if layer.svrl is not None:
        evidence["svrl.xml"] = layer.svrl
    relevant = test.expectation.relevant(layer.items)
    fired = sorted({f"{i.rule_id} ({i.severity.value})" for i in relevant})
    ignored = len({i.rule_id for i in layer.items} - {i.rule_id for i in relevant})
    return _case(
        test,
        Outcome.PASSED if all(c.held for c in checks) else Outcome.FAILED,
        _reason(checks),
        actual=(("fired: " + ", ".join(fired)) if fired else "no rule in scope fired")
        + (f" ({ignored} other rules fired, out of scope)" if ignored else ""),
        details=[("held: " if c.held else "BROKEN: ") + c.text for c in checks],
        evidence=evidence,
        started=started,
        duration=time.perf_counter() - clock,
        spec=f"{compiled.source.name}" + (f" phase {compiled.phase}" if compiled.phase else ""),
    )


def run_documents(
    tests: list[UnitTest],
    choice: Choice,
    *,
    store: ArtifactStore | None = None,
    tick: Callable[[str], None] | None = None,
) -> Run:
    """Run every test; a test whose Schematron cannot be found or compiled is an ERROR case."""
    store_ = store or default_store()
    cache_dir = choice.cache_dir or store_.cache_dir / "schematron"
    run = Run(RunHeader(suite=SUITE_NAME, system_under_test="", profile=""))
    planned: list[tuple[UnitTest, Path | None, str | None, str]] = []
    phases: dict[Path, set[str | None]] = defaultdict(set)
    for test in tests:
        try:
            source, phase = resolve(test, choice, store_)
        except RulesetError as exc:
            planned.append((test, None, None, str(exc)))
            continue
        planned.append((test, source, phase, ""))
        phases[source].add(phase)
    compiled: dict[tuple[Path, str | None], CompiledSchematron | str] = {}
    results: list[CaseResult] = []
    for test, maybe_source, phase, problem in planned:
        if maybe_source is None:
            results.append(_case(test, Outcome.ERROR, one_sentence(problem)))
        else:
            source = maybe_source
            key = (source, phase)
            if key not in compiled:
                try:
                    # Several phases of one Schematron: compile them all into one stylesheet.
                    compiled[key] = compile_schematron(
                        source, phase=phase, cache_dir=cache_dir, bundle_phases=len(phases[source]) > 2
                    )
                except SchematronError as exc:
                    compiled[key] = one_sentence(f"Cannot compile {source.name}: {exc}")
            found = compiled[key]
            if isinstance(found, str):
                results.append(_case(test, Outcome.ERROR, found))
            else:
                results.append(run_test(test, found))
        if tick is not None:
            tick(test.id)
    run.cases = results
    run.header.system_under_test = ", ".join(sorted({s.name for s in phases})) or "no Schematron"
    run.header.profile = "Schematron rule unit tests (VEFA testSet semantics)"
    run.header.environment = {"schematrons": "; ".join(str(s) for s in sorted(phases))}
    run.finish()
    return run
