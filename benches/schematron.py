"""Figures for the Schematron layer: compile cost (cold / warm from the disk cache) and per-document
validation time versus the raw saxonche transform of the same compiled stylesheet, in the same run.

``python -m benches schematron`` prints the project's reference figures (needs the shared corpus;
``AP_BENCH_QUICK=1``: one Peppol rule set, a few rounds).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from benches._common import quick, rounds
from peppol.xml import parse_bytes
from ubl.schematron import runtime
from ubl.schematron.runtime import compile_schematron, forget_compiled

#: Timed repetitions per document (the median is reported).
DEFAULT_REPEAT: Final = 200


@dataclass(frozen=True, slots=True)
class SchematronFigures:
    """One rule set × one document. Times in seconds (compile) and milliseconds (per document)."""

    name: str
    phase: str | None
    document_bytes: int
    compile_cold_s: float  # code generation + Saxon compile, empty disk cache
    generate_s: float  # our Python side of the cold compile
    compile_warm_s: float  # new process state, XSLT from the disk cache: Saxon compile only
    # Per document, best of ``repeat`` (the shared machine's noise only ever adds time):
    raw_transform_ms: float  # saxonche parse_xml + apply_templates to string, nothing else
    svrl_ms: float  # CompiledSchematron.svrl(bytes): hardened pre-parse + the above
    validate_ms: float  # CompiledSchematron.validate(bytes): the above + SVRL → Items
    validate_tree_ms: float  # validate(tree already parsed by peppol.xml, as the orchestrator has it)
    raw_median_ms: float
    validate_median_ms: float
    failed: int

    @property
    def overhead(self) -> float:
        """``validate`` over raw transform (best of N each), minus one (0.12 = 12 % slower than raw)."""
        return self.validate_ms / self.raw_transform_ms - 1.0

    @property
    def overhead_tree(self) -> float:
        """Same for ``validate(tree)``: the document was parsed (hardened) by an earlier layer."""
        return self.validate_tree_ms / self.raw_transform_ms - 1.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "overhead": self.overhead, "overhead_tree": self.overhead_tree}


def _elapsed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def measure_schematron(
    source: Path,
    document: Path,
    *,
    phase: str | None = None,
    name: str | None = None,
    repeat: int = DEFAULT_REPEAT,
    cache_dir: Path | None = None,
) -> SchematronFigures:
    """Measure compile (cold and warm) and per-document cost of ``source`` on ``document``.

    Uses a private temporary cache dir unless ``cache_dir`` is given (then "cold" is only cold when that
    directory is empty). Drops this process's compiled-stylesheet memo twice (cold, then warm).
    """
    with tempfile.TemporaryDirectory(prefix="schematron-bench-") as tmp:
        directory = cache_dir or Path(tmp)
        forget_compiled()
        cold = compile_schematron(source, phase=phase, cache_dir=directory)
        forget_compiled()
        warm = compile_schematron(source, phase=phase, cache_dir=directory)
        data = document.read_bytes()
        text = data.decode("utf-8-sig")
        processor, _ = runtime._saxon()
        executable = warm._executable

        def raw() -> str:
            with runtime.SAXON_LOCK:
                node = processor.parse_xml(xml_text=text)
                if warm.bundled:
                    executable.set_parameter(
                        runtime.PHASE_PARAM_CLARK, processor.make_string_value(warm.phase or "#ALL")
                    )
                executable.set_global_context_item(xdm_item=node)
                return str(executable.apply_templates_returning_string(xdm_value=node, encoding="UTF-8"))

        for _ in range(3):  # warm-up (JIT of the JVM-less native image still has caches to fill)
            raw()
            warm.validate(data)
        # Interleave the three measurements so machine noise hits them alike.
        raw_ms: list[float] = []
        svrl_ms: list[float] = []
        validate_ms: list[float] = []
        tree_ms: list[float] = []
        tree = parse_bytes(data)
        for _ in range(rounds(repeat)):
            raw_ms.append(_elapsed_ms(raw))
            svrl_ms.append(_elapsed_ms(lambda: warm.svrl(data)))
            validate_ms.append(_elapsed_ms(lambda: warm.validate(data)))
            tree_ms.append(_elapsed_ms(lambda: warm.validate(tree)))
        failed = len(warm.validate(data).failures)
    return SchematronFigures(
        name=name or source.name,
        phase=warm.phase,
        document_bytes=len(data),
        compile_cold_s=cold.compile_seconds,
        generate_s=cold.generate_seconds,
        compile_warm_s=warm.compile_seconds,
        raw_transform_ms=min(raw_ms),
        svrl_ms=min(svrl_ms),
        validate_ms=min(validate_ms),
        validate_tree_ms=min(tree_ms),
        raw_median_ms=statistics.median(raw_ms),
        validate_median_ms=statistics.median(validate_ms),
        failed=failed,
    )


def reference_cases(corpus: Path) -> list[tuple[str, Path, Path, str | None]]:
    """(name, schematron, document, phase) of the figures in ``docs/performance.md``."""
    pre = corpus / "peppol-preaward"
    ef = corpus / "eforms-sdk-1.14.2"
    eforms_sch = ef / "schematrons/static/complete-validation.sch"
    return [
        (
            "Peppol T019 (8 kB Qualification)",
            pre / "rules/peppol-qualification/PEPPOL-T019.sch",
            pre / "guides/transactions/T019/files/Qualification-doc.xml",
            None,
        ),
        (
            "Peppol T004 (CallForTenders)",
            pre / "rules/peppol-call-for-tender/PEPPOL-T004.sch",
            pre / "guides/transactions/T004/files/call-for-tenders-instance.xml",
            None,
        ),
        (
            "eForms 1.14.2 eforms-16 (cn_24_minimal)",
            eforms_sch,
            ef / "examples/notices/cn_24_minimal.xml",
            "eforms-16",
        ),
        (
            "eForms 1.14.2 eforms-16 (cn_24_maximal)",
            eforms_sch,
            ef / "examples/notices/cn_24_maximal.xml",
            "eforms-16",
        ),
    ]


def main() -> None:
    """Print the reference figures (corpus at ``$AP_CORPUS_DIR`` or ``../shared/corpus``)."""
    import os

    root = Path(__file__).resolve().parents[1]
    corpus = Path(os.environ.get("AP_CORPUS_DIR", root.parent / "shared" / "corpus"))
    print(
        f"{'case':44} {'kB':>5} {'cold s':>7} {'gen s':>6} {'warm s':>7} {'raw ms':>7} {'svrl ms':>8} "
        f"{'ours ms':>8} {'overhead':>8} {'tree ms':>8} {'ovh tree':>8} {'raw p50':>8} {'ours p50':>8}"
    )
    cases = reference_cases(corpus)
    for name, sch, doc, phase in cases[1:2] if quick() else cases:
        f = measure_schematron(sch, doc, phase=phase, name=name)
        print(
            f"{name:44} {f.document_bytes / 1024:5.1f} {f.compile_cold_s:7.2f} {f.generate_s:6.2f} "
            f"{f.compile_warm_s:7.2f} {f.raw_transform_ms:7.2f} {f.svrl_ms:8.2f} {f.validate_ms:8.2f} "
            f"{f.overhead:8.1%} {f.validate_tree_ms:8.2f} {f.overhead_tree:8.1%} {f.raw_median_ms:8.2f} "
            f"{f.validate_median_ms:8.2f}"
        )


if __name__ == "__main__":
    main()
