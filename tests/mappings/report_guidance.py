"""Print the Markdown list of guidance.yaml entries that do not pass, with a reason (docs/mappings.md).

Run: ``.venv/bin/python -m tests.mappings.report_guidance``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from mappings.spec import load_spec
from tests.conftest import CORPUS_DIR
from tests.mappings.guidance import Case, load_cases, run_case

#: Why an entry fails (checked by hand; see the file's header).
REASONS: dict[str, str] = yaml.safe_load(
    (Path(__file__).parent / "guidance_reasons.yaml").read_text(encoding="utf-8")
)


def reason_for(case: Case, detail: str, rule_ids: set[str]) -> str:
    if case.id in REASONS:
        return REASONS[case.id]
    base = re.sub(r"\([a-z]\)", "", case.id)
    if detail.startswith("official OCDS example is not valid JSON"):
        return "official OCDS example is not valid JSON"
    if detail.startswith("snippet"):
        return "official XML snippet cannot be placed in a notice"
    mapped = case.id in rule_ids or base in rule_ids or any(r.startswith(case.id) for r in rule_ids)
    if case.id.startswith(("BT-195", "BT-196", "BT-197", "BT-198")):
        return "withheld information: snippet lacks the field code/owner, or name/label table entry missing"
    if mapped:
        try:
            expected = json.dumps(json.loads(case.ocds_text), ensure_ascii=False)
        except json.JSONDecodeError:
            expected = case.ocds_text
        if "..." in expected or "\u2026" in expected:
            return "mapped; example text differs from its snippet (spacing/ellipsis) or needs a label lookup"
        return "mapped; expected fragment needs data outside the snippet (label, scheme, derived id)"
    return "not mapped yet (no rule in specs/eforms.yaml)"


def main() -> None:
    rule_ids = {r.id for r in load_spec("eforms").rules}
    cases = load_cases(CORPUS_DIR)
    failing = [(c, run_case(c)[1]) for c in cases if not run_case(c)[0]]
    passed = len(cases) - len(failing)
    print(f"{passed}/{len(cases)} in-scope entries pass ({passed / len(cases):.1%}).\n")
    print("| Field | Reason |")
    print("|---|---|")
    for case, detail in failing:
        print(f"| `{case.id}` | {reason_for(case, detail, rule_ids)} |")


if __name__ == "__main__":
    main()
