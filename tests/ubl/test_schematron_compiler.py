# ruff: noqa: E501  (inline XML fixtures read best on one line)
"""Unit tests of the Schematron → XSLT 3.0 compiler, one feature at a time, on tiny hand-written schemas."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from peppol.xml import DoctypeForbiddenError
from ubl.result import LayerStatus, Severity
from ubl.schematron import (
    SchematronCompileError,
    SchematronPhaseError,
    SchematronReferenceError,
    SchematronRuntimeError,
    SchematronSourceError,
    SchematronUnsupportedError,
    compile_schematron,
    parse_svrl,
)
from ubl.schematron.runtime import forget_compiled

SCH = 'xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"'
DOC = b"""<?xml version="1.0"?>
<r:root xmlns:r="urn:test:r" version="2">
  <r:item code="A">one</r:item>
  <r:item code="B">two</r:item>
  <r:other/>
  <r:group><r:leaf>x</r:leaf></r:group>
</r:root>
"""

Compile = Callable[..., list[tuple[str, str]]]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schc")


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, body: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).strip() + "\n", encoding="utf-8")
        return path

    return _write


@pytest.fixture
def fired(write: Callable[[str, str], Path], cache_dir: Path) -> Compile:
    """Compile ``body`` (schema content) and return [(kind, id)] of failed asserts / successful reports."""

    def _fired(
        body: str, *, phase: str | None = None, doc: bytes = DOC, attrs: str = ""
    ) -> list[tuple[str, str]]:
        path = write("s.sch", f"<schema {SCH} {attrs}>\n<ns prefix='r' uri='urn:test:r'/>\n{body}\n</schema>")
        compiled = compile_schematron(path, phase=phase, cache_dir=cache_dir)
        layer = compiled.validate(doc)
        assert layer.svrl is not None
        kinds = {b"failed-assert": "A", b"successful-report": "R"}
        out: list[tuple[str, str]] = []
        from lxml import etree

        for el in etree.fromstring(layer.svrl).iter():
            local = etree.QName(el).localname.encode()
            if local in kinds:
                out.append((kinds[local], el.get("id", "")))
        return out

    return _fired


def test_assert_and_report_write_svrl_with_id_flag_role_location_test_and_text(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "s.sch",
        f"""
        <schema {SCH}>
          <title>T</title>
          <ns prefix="r" uri="urn:test:r"/>
          <pattern id="p1">
            <rule context="r:item">
              <assert id="A1" flag="fatal" role="ERROR" test="@code = 'A'">Item <name/> has code
                <value-of select="@code"/>, <emph>not</emph> <dir value="ltr">A</dir><span class="x">!</span></assert>
              <report id="R1" flag="warning" test="@code = 'A'">report {{braces}} kept</report>
            </rule>
          </pattern>
        </schema>
        """,
    )
    layer = compile_schematron(path, cache_dir=cache_dir).validate(DOC, name="unit")
    assert layer.kind == "schematron" and layer.name == "unit"
    assert layer.status is LayerStatus.INVALID
    by_id = {(i.rule_id, i.location): i for i in layer.items}
    failed = by_id[("A1", "/r:root/r:item[2]")]
    assert failed.severity is Severity.FATAL and failed.flag == "fatal" and failed.role == "ERROR"
    assert failed.test == "@code = 'A'"
    assert failed.text == "Item r:item has code B, not A!"
    report = by_id[("R1", "/r:root/r:item[1]")]
    assert report.severity is Severity.WARNING
    assert report.text == "report {braces} kept"
    assert len(layer.items) == 2
    svrl = layer.svrl or b""
    assert b"<svrl:active-pattern" in svrl and b'id="p1"' in svrl
    assert b'<svrl:fired-rule context="r:item"' in svrl
    assert b'title="T"' in svrl


def test_location_xpath_matches_official_form(
    fired: Compile, write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "s.sch",
        f"""
        <schema {SCH}>
          <ns prefix="r" uri="urn:test:r"/>
          <pattern>
            <rule context="r:leaf | r:other | @version | r:item/@code"><assert id="L" test="false()"/></rule>
          </pattern>
        </schema>
        """,
    )
    items = compile_schematron(path, cache_dir=cache_dir).validate(DOC).items
    assert sorted(i.location for i in items) == [
        "/r:root/@version",
        "/r:root/r:group/r:leaf",
        "/r:root/r:item[1]/@code",
        "/r:root/r:item[2]/@code",
        "/r:root/r:other",
    ]


def test_location_of_undeclared_namespace_is_unambiguous(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "s.sch",
        f"""<schema {SCH}><pattern><rule context="*:leaf"><assert id="L" test="false()"/></rule></pattern></schema>""",
    )
    items = compile_schematron(path, cache_dir=cache_dir).validate(DOC).items
    assert [i.location for i in items] == [
        "/*:root[namespace-uri()='urn:test:r']/*:group[namespace-uri()='urn:test:r']"
        "/*:leaf[namespace-uri()='urn:test:r']"
    ]


def test_first_matching_rule_wins_within_a_pattern_but_not_across_patterns(fired: Compile) -> None:
    result = fired(
        """
        <pattern id="one">
          <rule context="r:item[@code = 'A']"><report id="first" test="true()"/></rule>
          <rule context="r:item"><report id="second" test="true()"/></rule>
        </pattern>
        <pattern id="two">
          <rule context="r:item"><report id="other-pattern" test="true()"/></rule>
        </pattern>
        """
    )
    assert sorted(result) == [
        ("R", "first"),
        ("R", "other-pattern"),
        ("R", "other-pattern"),
        ("R", "second"),
    ]


def test_rule_fires_on_descendants_of_a_matched_node(fired: Compile) -> None:
    result = fired(
        """
        <pattern>
          <rule context="r:group"><report id="group" test="true()"/></rule>
          <rule context="r:leaf"><report id="leaf" test="true()"/></rule>
        </pattern>
        """
    )
    assert result == [("R", "group"), ("R", "leaf")]


def test_let_scoping_schema_phase_pattern_rule(fired: Compile) -> None:
    body = """
        <let name="count" value="count(//r:item)"/>
        <phase id="ph">
          <let name="phaseValue" value="'P'"/>
          <active pattern="p1"/><active pattern="p2"/>
        </phase>
        <pattern id="p1">
          <let name="here" value="local-name(.)"/>
          <let name="n" value="1"/>
          <rule context="r:leaf">
            <let name="mine" value="string(.)"/>
            <assert id="schema-let" test="$count = 2"/>
            <assert id="pattern-let-root-context" test="$here = ''"/>
            <assert id="pattern-let" test="$n = 1"/>
            <assert id="phase-let" test="$phaseValue = 'P'"/>
            <assert id="rule-let" test="$mine = 'x'"/>
            <report id="always" test="true()"/>
          </rule>
        </pattern>
        <pattern id="p2">
          <let name="n" value="2"/>
          <rule context="r:leaf"><assert id="same-name-other-pattern" test="$n = 2"/></rule>
        </pattern>
    """
    # Nothing fails: every let is visible with its own scope and value (pattern lets: document-root context).
    assert fired(body, phase="ph") == [("R", "always")]


def test_phases_all_default_and_named(fired: Compile) -> None:
    body = """
        <phase id="only-a"><active pattern="a"/></phase>
        <phase id="only-b"><active pattern="b"/></phase>
        <pattern id="a"><rule context="/*"><report id="in-a" test="true()"/></rule></pattern>
        <pattern id="b"><rule context="/*"><report id="in-b" test="true()"/></rule></pattern>
    """
    assert fired(body) == [("R", "in-a"), ("R", "in-b")]
    assert fired(body, phase="#ALL") == [("R", "in-a"), ("R", "in-b")]
    assert fired(body, phase="only-b") == [("R", "in-b")]
    assert fired(body, attrs='defaultPhase="only-a"') == [("R", "in-a")]
    assert fired(body, phase="#DEFAULT", attrs='defaultPhase="only-b"') == [("R", "in-b")]
    with pytest.raises(SchematronPhaseError, match=r"unknown phase 'nope' \(known: only-a, only-b\)"):
        fired(body, phase="nope")


def test_bundled_phases_share_one_stylesheet_and_pick_phase_at_run_time(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "bundle.sch",
        f"""
        <schema {SCH}>
          <phase id="x"><let name="v" value="'x'"/><active pattern="a"/></phase>
          <phase id="y"><let name="v" value="'y'"/><active pattern="a"/><active pattern="b"/></phase>
          <pattern id="a"><rule context="/*"><report id="a" test="true()"><value-of select="$v"/></report></rule></pattern>
          <pattern id="b"><rule context="/*"><report id="b" test="true()"/></rule></pattern>
        </schema>
        """,
    )
    x = compile_schematron(path, phase="x", cache_dir=cache_dir, bundle_phases=True)
    y = compile_schematron(path, phase="y", cache_dir=cache_dir, bundle_phases=True)
    assert x.xslt_path == y.xslt_path and x.phase == "x" and y.phase == "y"
    assert [(i.rule_id, i.text) for i in x.validate(DOC).items] == [("a", "x")]
    assert [(i.rule_id, i.text) for i in y.validate(DOC).items] == [("a", "y"), ("b", "")]
    assert compile_schematron(path, phase="x", cache_dir=cache_dir, bundle_phases=True) is x


def test_many_phases_compile_in_groups_each_phase_running_only_its_own_patterns(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    """Five phases, groups of two (sorted ids: p1 p2 | p3 p4 | p5): phases of one group share one
    stylesheet, every phase still fires exactly its own patterns, and a lone phase compiles alone."""
    phases = "".join(f'<phase id="p{i}"><active pattern="a{i}"/></phase>' for i in range(1, 6))
    patterns = "".join(
        f'<pattern id="a{i}"><rule context="/*"><report id="r{i}" test="true()"/></rule></pattern>'
        for i in range(1, 6)
    )
    path = write("groups.sch", f"<schema {SCH}>{phases}{patterns}</schema>")
    compiled = {
        f"p{i}": compile_schematron(path, phase=f"p{i}", cache_dir=cache_dir, phase_group=2)
        for i in range(1, 6)
    }
    assert compiled["p1"].xslt_path == compiled["p2"].xslt_path
    assert compiled["p3"].xslt_path == compiled["p4"].xslt_path != compiled["p1"].xslt_path
    assert compiled["p5"].xslt_path not in (compiled["p1"].xslt_path, compiled["p3"].xslt_path)
    for i in range(1, 6):
        assert [item.rule_id for item in compiled[f"p{i}"].validate(DOC).items] == [f"r{i}"]
    assert compile_schematron(path, phase="p3", cache_dir=cache_dir, phase_group=2) is compiled["p3"]
    with pytest.raises(SchematronPhaseError, match="unknown phase 'p9'"):
        compile_schematron(path, phase="p9", cache_dir=cache_dir, phase_group=2)


def test_abstract_pattern_with_is_a_and_params(fired: Compile) -> None:
    body = """
        <pattern abstract="true" id="has">
          <rule context="$parent"><assert id="has-child" test="$child">missing <value-of select="'$child'"/></assert></rule>
        </pattern>
        <pattern is-a="has" id="items-have-text"><param name="parent" value="r:item"/><param name="child" value="text()"/></pattern>
        <pattern is-a="has" id="root-has-group"><param name="parent" value="/r:root"/><param name="child" value="r:nothing"/></pattern>
    """
    assert fired(body) == [("A", "has-child")]


def test_abstract_rule_with_extends(fired: Compile) -> None:
    body = """
        <pattern>
          <rule abstract="true" id="coded"><assert id="has-code" test="@code"/></rule>
          <rule abstract="true" id="coded-and-more"><extends rule="coded"/><assert id="is-b" test="@code = 'B'"/></rule>
          <rule context="r:item"><extends rule="coded-and-more"/></rule>
          <rule context="r:other"><extends rule="coded"/></rule>
        </pattern>
    """
    assert sorted(fired(body)) == [("A", "has-code"), ("A", "is-b")]


def test_extends_cycle_and_unknown_targets_are_reference_errors(fired: Compile) -> None:
    with pytest.raises(SchematronReferenceError, match="extends cycle: a -> a"):
        fired(
            '<pattern><rule abstract="true" id="a"><extends rule="a"/></rule><rule context="/*"><extends rule="a"/></rule></pattern>'
        )
    with pytest.raises(SchematronReferenceError, match="extends rule='missing' names no abstract rule"):
        fired('<pattern><rule context="/*"><extends rule="missing"/></rule></pattern>')
    with pytest.raises(SchematronReferenceError, match="is-a='missing' names no abstract pattern"):
        fired('<pattern is-a="missing"/>')


def test_diagnostics_evaluated_in_the_assert_context(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "s.sch",
        f"""
        <schema {SCH}>
          <ns prefix="r" uri="urn:test:r"/>
          <pattern><rule context="r:item"><assert id="D" test="@code = 'A'" diagnostics="d1 d2">bad</assert></rule></pattern>
          <diagnostics>
            <diagnostic id="d1" see="field:X">code was <value-of select="@code"/></diagnostic>
            <diagnostic id="d2">text <value-of select="."/></diagnostic>
          </diagnostics>
        </schema>
        """,
    )
    layer = compile_schematron(path, cache_dir=cache_dir).validate(DOC)
    svrl = (layer.svrl or b"").decode()
    assert (
        '<svrl:diagnostic-reference diagnostic="d1" see="field:X"><svrl:text>code was B</svrl:text>' in svrl
    )
    assert '<svrl:diagnostic-reference diagnostic="d2"><svrl:text>text two</svrl:text>' in svrl
    with pytest.raises(SchematronReferenceError, match="diagnostics='zz' names no diagnostic"):
        compile_schematron(
            write(
                "bad.sch",
                f'<schema {SCH}><pattern><rule context="/"><assert test="1" diagnostics="zz"/></rule></pattern></schema>',
            ),
            cache_dir=cache_dir,
        )


def test_includes_are_recursive_and_relative_to_the_including_file(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    write(
        "parts/a.sch",
        '<pattern xmlns="http://purl.oclc.org/dsdl/schematron" id="a"><include href="rules/r.sch"/></pattern>',
    )
    write(
        "parts/rules/r.sch",
        '<rule xmlns="http://purl.oclc.org/dsdl/schematron" context="/*"><report id="from-nested-include" test="true()"/></rule>',
    )
    main = write("main.sch", f'<schema {SCH}><include href="parts/a.sch"/></schema>')
    items = compile_schematron(main, cache_dir=cache_dir).validate(DOC).items
    assert [i.rule_id for i in items] == ["from-nested-include"]
    write(
        "loop1.sch",
        '<pattern xmlns="http://purl.oclc.org/dsdl/schematron"><include href="loop2.sch"/></pattern>',
    )
    write(
        "loop2.sch",
        '<rule xmlns="http://purl.oclc.org/dsdl/schematron" context="/"><include href="loop1.sch"/></rule>',
    )
    with pytest.raises(
        SchematronReferenceError, match=r"include cycle: loop\.sch -> loop1\.sch -> loop2\.sch"
    ):
        compile_schematron(
            write("loop.sch", f'<schema {SCH}><include href="loop1.sch"/></schema>'), cache_dir=cache_dir
        )
    with pytest.raises(SchematronSourceError, match=r"missing\.sch: no such Schematron file"):
        compile_schematron(
            write("gone.sch", f'<schema {SCH}><include href="missing.sch"/></schema>'), cache_dir=cache_dir
        )


def test_xsl_function_key_and_include_pass_through(fired: Compile, write: Callable[[str, str], Path]) -> None:
    write(
        "lib.xsl",
        """
        <xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:f="urn:f">
          <xsl:function name="f:twice"><xsl:param name="s"/><xsl:sequence select="$s || $s"/></xsl:function>
        </xsl:stylesheet>""",
    )
    write(
        "sub/imported.xsl",
        """
        <xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:f="urn:f">
          <xsl:function name="f:one"><xsl:sequence select="1"/></xsl:function>
        </xsl:stylesheet>""",
    )
    body = """
        <ns prefix="f" uri="urn:f"/>
        <xsl:include xmlns:xsl="http://www.w3.org/1999/XSL/Transform" href="lib.xsl"/>
        <xsl:key xmlns:xsl="http://www.w3.org/1999/XSL/Transform" name="by-code" match="r:item" use="@code"/>
        <xsl:import xmlns:xsl="http://www.w3.org/1999/XSL/Transform" href="sub/imported.xsl"/>
        <xsl:function xmlns:xsl="http://www.w3.org/1999/XSL/Transform" name="f:upper" as="xs:string">
          <xsl:param name="s" as="xs:string"/><xsl:sequence select="upper-case($s)"/>
        </xsl:function>
        <pattern>
          <rule context="r:item">
            <assert id="fn" test="f:upper(.) = ('ONE', 'TWO')"/>
            <assert id="included-fn" test="f:twice(@code) = ('AA', 'BB')"/>
            <assert id="imported-fn" test="f:one() = 1"/>
            <report id="key" test="exists(key('by-code', 'B')) and @code = 'B'"/>
          </rule>
        </pattern>
    """
    assert fired(body) == [("R", "key")]


def test_unsupported_constructs_raise_schematron_errors(fired: Compile) -> None:
    with pytest.raises(SchematronUnsupportedError) as info:
        fired('<pattern documents="doc(\'x.xml\')"><rule context="/"><assert test="1"/></rule></pattern>')
    assert info.value.code == "schematron-unsupported"
    assert "pattern/@documents" in str(info.value)
    with pytest.raises(SchematronUnsupportedError, match="unsupported Schematron element sch:frobnicate"):
        fired('<pattern><rule context="/"><assert test="1"/><frobnicate/></rule></pattern>')
    with pytest.raises(SchematronUnsupportedError, match="xsl:variable inside sch:rule is not supported"):
        fired(
            '<pattern><rule context="/">'
            '<xsl:variable xmlns:xsl="http://www.w3.org/1999/XSL/Transform" name="x"/></rule></pattern>'
        )


def test_bad_xpath_is_a_compile_error_and_dynamic_failure_a_runtime_error(fired: Compile) -> None:
    with pytest.raises(SchematronCompileError, match="XPST0003") as compile_error:
        fired('<pattern><rule context="/*"><assert id="x" test="((("/></rule></pattern>')
    assert compile_error.value.code == "schematron-xslt-compile"
    with pytest.raises(SchematronRuntimeError, match='Cannot convert string "abc" to an integer'):
        fired('<pattern><rule context="/*"><assert id="x" test="xs:integer(\'abc\') = 1"/></rule></pattern>')


def test_unreadable_schema_and_unsafe_document(
    write: Callable[[str, str], Path], cache_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(SchematronSourceError, match=r"nope\.sch: no such Schematron file"):
        compile_schematron(tmp_path / "nope.sch", cache_dir=cache_dir)
    with pytest.raises(SchematronSourceError, match="root element is 'notschematron', not sch:schema"):
        compile_schematron(write("x.sch", "<notschematron/>"), cache_dir=cache_dir)
    with pytest.raises(SchematronUnsupportedError, match="queryBinding 'stx' is not supported"):
        compile_schematron(write("b.sch", f"<schema {SCH.replace('xslt2', 'stx')}/>"), cache_dir=cache_dir)
    ok = compile_schematron(
        write(
            "ok.sch", f'<schema {SCH}><pattern><rule context="/"><assert test="1"/></rule></pattern></schema>'
        ),
        cache_dir=cache_dir,
    )
    with pytest.raises(DoctypeForbiddenError):
        ok.validate(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    with pytest.raises(SchematronRuntimeError) as info:
        ok.validate(tmp_path / "no-such-document.xml")
    assert info.value.code == "schematron-document-unreadable"


def test_disk_cache_hit_and_invalidation_on_included_file_change(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    write(
        "inc.sch",
        '<pattern xmlns="http://purl.oclc.org/dsdl/schematron"><rule context="/*"><report id="v1" test="true()"/></rule></pattern>',
    )
    main = write("m.sch", f'<schema {SCH}><include href="inc.sch"/></schema>')
    first = compile_schematron(main, cache_dir=cache)
    assert not first.from_disk_cache
    assert compile_schematron(main, cache_dir=cache) is first
    forget_compiled()
    second = compile_schematron(main, cache_dir=cache)
    assert second.from_disk_cache and second.xslt_path == first.xslt_path
    write(
        "inc.sch",
        '<pattern xmlns="http://purl.oclc.org/dsdl/schematron"><rule context="/*"><report id="v2" test="true()"/></rule></pattern>',
    )
    forget_compiled()
    third = compile_schematron(main, cache_dir=cache)
    assert not third.from_disk_cache
    assert [i.rule_id for i in third.validate(DOC).items] == ["v2"]


def test_concurrent_validation_from_threads_gives_identical_results(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    path = write(
        "t.sch",
        f"""<schema {SCH}><ns prefix="r" uri="urn:test:r"/>
        <pattern><rule context="r:item"><assert id="A" test="@code = 'A'"><value-of select="."/></assert></rule></pattern>
        </schema>""",
    )
    compiled = compile_schematron(path, cache_dir=cache_dir)
    docs = [DOC.replace(b'code="B">two', f'code="B">t{n}'.encode()) for n in range(40)]
    seen_threads: set[int] = set()

    def run(doc: bytes) -> str:
        seen_threads.add(threading.get_ident())
        return compiled.validate(doc).items[0].text

    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(run, docs))
    assert texts == [f"t{n}" for n in range(40)]
    assert len(seen_threads) > 1


@pytest.mark.parametrize(
    ("flag", "role", "expected"),
    [
        ("fatal", None, Severity.FATAL),
        ("warning", "ERROR", Severity.WARNING),
        (None, "ERROR", Severity.ERROR),
        (None, "WARN", Severity.WARNING),
        (None, "warning", Severity.WARNING),
        (None, "INFO", Severity.INFO),
        (None, None, Severity.ERROR),
        ("odd", "odd", Severity.ERROR),
    ],
)
def test_svrl_severity_mapping(flag: str | None, role: str | None, expected: Severity) -> None:
    attrs = (f' flag="{flag}"' if flag else "") + (f' role="{role}"' if role else "")
    svrl = (
        '<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">'
        f'<svrl:failed-assert id="X"{attrs} location="/a" test="t"><svrl:text> some\n text </svrl:text>'
        "</svrl:failed-assert></svrl:schematron-output>"
    ).encode()
    (item,) = parse_svrl(svrl)
    assert item.severity is expected and item.rule_id == "X" and item.text == "some text"
    assert item.location == "/a" and item.test == "t" and item.flag == flag and item.role == role


def test_parse_svrl_rejects_garbage() -> None:
    with pytest.raises(SchematronRuntimeError, match="SVRL is not well-formed"):
        parse_svrl(b"<not-closed")


def test_unique_pattern_let_is_visible_from_other_patterns_like_the_iso_skeleton(fired: Compile) -> None:
    # Peppol pre-award T019/T020 read one pattern's $syntaxError from another pattern; the ISO skeleton
    # (global variables) accepts that, so we do too when the name is unambiguous.
    body = """
        <pattern id="declares"><let name="msg" value="'M'"/><rule context="/*"><assert id="a" test="$msg = 'M'"/></rule></pattern>
        <pattern id="reads"><rule context="/*"><report id="reads-other" test="$msg = 'M'"/></rule></pattern>
    """
    assert fired(body) == [("R", "reads-other")]


def test_pattern_lets_with_one_name_in_two_patterns_keep_their_own_values(fired: Compile) -> None:
    body = """
        <pattern id="one"><let name="v" value="1"/><rule context="r:item"><report id="one" test="$v = 1"/></rule></pattern>
        <pattern id="two"><let name="v" value="2"/><rule context="r:item"><report id="two" test="$v = 2"/></rule></pattern>
    """
    assert fired(body) == [("R", "one"), ("R", "one"), ("R", "two"), ("R", "two")]


def test_document_bytes_in_a_declared_non_utf8_encoding(fired: Compile) -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><r:root xmlns:r="urn:test:r"><r:item>café</r:item></r:root>'
    body = '<pattern><rule context="r:item"><report id="accented" test=". = \'café\'"/></rule></pattern>'
    assert fired(body, doc=doc.encode("iso-8859-1")) == [("R", "accented")]
    assert fired(body, doc=b"\xef\xbb\xbf" + doc.replace("ISO-8859-1", "UTF-8").encode()) == [
        ("R", "accented")
    ]


def test_schema_and_phase_lets_usable_in_rule_contexts(fired: Compile) -> None:
    body = """
        <let name="wanted" value="'A'"/>
        <phase id="ph"><let name="other" value="'B'"/><active pattern="p"/></phase>
        <pattern id="p">
          <rule context="r:item[@code = $wanted]"><report id="schema-let-in-context" test="true()"/></rule>
          <rule context="r:item[@code = $other]"><report id="phase-let-in-context" test="true()"/></rule>
        </pattern>
    """
    assert fired(body, phase="ph") == [("R", "schema-let-in-context"), ("R", "phase-let-in-context")]


def test_validate_accepts_a_tree_already_parsed_by_peppol_xml(
    write: Callable[[str, str], Path], cache_dir: Path
) -> None:
    from peppol.xml import parse_bytes

    path = write(
        "tree.sch",
        f"<schema {SCH}><ns prefix='r' uri='urn:test:r'/><pattern><rule context='r:item'><assert id='A' test=\"@code = 'A'\"/></rule></pattern></schema>",
    )
    compiled = compile_schematron(path, cache_dir=cache_dir)
    tree = parse_bytes(DOC)
    from_tree = compiled.validate(tree)
    assert [(i.rule_id, i.location) for i in from_tree.items] == [("A", "/r:root/r:item[2]")]
    assert from_tree.items == compiled.validate(DOC).items == compiled.validate(tree.getroot()).items


def test_unusable_cache_dir_falls_back_and_tampered_xslt_is_regenerated(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write(
        "c.sch",
        f'<schema {SCH}><pattern><rule context="/*"><report id="ok" test="true()"/></rule></pattern></schema>',
    )
    not_a_dir = tmp_path / "file-not-dir"
    not_a_dir.write_text("x")
    compiled = compile_schematron(path, cache_dir=not_a_dir)
    assert not compiled.xslt_path.is_relative_to(not_a_dir)
    assert [i.rule_id for i in compiled.validate(DOC).items] == ["ok"]
    forget_compiled()
    cache = tmp_path / "cache"
    first = compile_schematron(path, cache_dir=cache)
    assert first.xslt_path.is_relative_to(cache)
    forget_compiled()
    first.xslt_path.write_bytes(first.xslt_path.read_bytes().replace(b'id="ok"', b'id="evil"'))
    again = compile_schematron(path, cache_dir=cache)
    assert not again.from_disk_cache
    assert [i.rule_id for i in again.validate(DOC).items] == ["ok"]


@pytest.mark.parametrize(
    ("include", "error", "reason"),
    [
        (
            '<include href="http://127.0.0.1:9/rules.sch"/>',
            SchematronUnsupportedError,
            "include of a non-file URI",
        ),
        ("<include/>", SchematronSourceError, "sch:include without href"),
        ('<include href="part.sch#nope"/>', SchematronReferenceError, "no element with id 'nope'"),
    ],
    ids=["remote-uri", "no-href", "unknown-fragment"],
)
def test_include_errors_are_typed(
    write: Callable[[str, str], Path], cache_dir: Path, include: str, error: type[Exception], reason: str
) -> None:
    """An include is never fetched over the network, and a broken one names what is wrong."""
    write("part.sch", '<pattern xmlns="http://purl.oclc.org/dsdl/schematron" id="p"/>')
    main = write("main.sch", f"<schema {SCH}>{include}</schema>")
    with pytest.raises(error, match=reason):
        compile_schematron(main, cache_dir=cache_dir)


def test_include_chain_deeper_than_the_cap_is_refused(
    write: Callable[[str, str], Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ubl.schematron.source as source

    monkeypatch.setattr(source, "MAX_INCLUDE_DEPTH", 3)
    for i in range(5):
        write(
            f"level{i}.sch",
            f'<pattern xmlns="http://purl.oclc.org/dsdl/schematron"><include href="level{i + 1}.sch"/></pattern>',
        )
    write("level5.sch", '<pattern xmlns="http://purl.oclc.org/dsdl/schematron"/>')
    main = write("deep.sch", f'<schema {SCH}><include href="level0.sch"/></schema>')
    with pytest.raises(SchematronReferenceError, match="includes nested deeper than 3"):
        compile_schematron(main, cache_dir=cache_dir)


_OK = '<pattern id="p"><rule context="/"><assert test="1"/></rule></pattern>'


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        pytest.param('<pattern abstract="true"><rule context="/"><assert test="1"/></rule></pattern>',
                     SchematronSourceError, "abstract pattern without id", id="abstract-pattern-no-id"),
        pytest.param('<pattern abstract="true" id="a" is-a="b"/><pattern abstract="true" id="b"/>',
                     SchematronUnsupportedError, "abstract pattern 'a' may not itself use is-a",
                     id="abstract-pattern-is-a"),
        pytest.param('<pattern abstract="true" id="a"><rule context="$x"><assert test="1"/></rule></pattern>'
                     '<pattern is-a="a" id="c"><param name="x"/></pattern>',
                     SchematronSourceError, "sch:param needs name and value", id="param-without-value"),
        pytest.param('<pattern><rule abstract="true"><assert test="1"/></rule></pattern>',
                     SchematronSourceError, "abstract rule without id", id="abstract-rule-no-id"),
        pytest.param('<pattern><rule abstract="true" id="r" context="/"><assert test="1"/></rule></pattern>',
                     SchematronSourceError, "abstract rule 'r' may not have a context", id="abstract-rule-context"),
        pytest.param('<pattern><rule context="/"><extends href="x.sch"/></rule></pattern>',
                     SchematronUnsupportedError, "sch:extends with href", id="extends-href"),
        pytest.param('<pattern><rule context="/"><extends/></rule></pattern>',
                     SchematronSourceError, "sch:extends without rule attribute", id="extends-no-rule"),
        pytest.param('<phase id="ph"><active pattern="nope"/></phase>' + _OK,
                     SchematronPhaseError, "phase 'ph' activates unknown pattern 'nope'", id="phase-unknown-pattern"),
        pytest.param('<let value="1"/>' + _OK, SchematronSourceError, "sch:let without name", id="let-no-name"),
        pytest.param('<ns prefix="q"/>' + _OK, SchematronSourceError, "sch:ns needs prefix and uri", id="ns-no-uri"),
        pytest.param('<ns prefix="q" uri="urn:a"/><ns prefix="q" uri="urn:b"/>' + _OK,
                     SchematronSourceError, "prefix 'q' declared with two URIs", id="ns-two-uris"),
        pytest.param('<ns prefix="xsl" uri="urn:not-xslt"/>' + _OK,
                     SchematronUnsupportedError, "prefix 'xsl' is reserved", id="ns-reserved"),
        pytest.param('<phase><active pattern="p"/></phase>' + _OK,
                     SchematronSourceError, "sch:phase without id", id="phase-no-id"),
        pytest.param('<phase id="ph" from="x"><active pattern="p"/></phase>' + _OK,
                     SchematronUnsupportedError, "phase/@from is not supported", id="phase-from"),
        pytest.param("<library/>", SchematronUnsupportedError, "sch:library is not supported", id="library"),
        pytest.param('<pattern><rule context="/"><assert test="false()">x <value-of/></assert></rule></pattern>',
                     SchematronSourceError, "sch:value-of without select", id="value-of-no-select"),
        pytest.param('<pattern><rule><assert test="1"/></rule></pattern>',
                     SchematronSourceError, "rule without context", id="rule-no-context"),
        pytest.param('<pattern><rule context="/"><assert test="1"/><pattern/></rule></pattern>',
                     SchematronUnsupportedError, "sch:pattern inside sch:rule", id="sch-in-rule"),
        pytest.param('<pattern><rule context="/"><assert id="a"/></rule></pattern>',
                     SchematronSourceError, "sch:assert 'a' without test", id="assert-no-test"),
        pytest.param(_OK, SchematronPhaseError, "defaultPhase 'nope' names no phase", id="default-phase-unknown"),
    ],
)  # fmt: skip
def test_malformed_schema_is_refused_with_its_reason(
    write: Callable[[str, str], Path], cache_dir: Path, body: str, error: type[Exception], reason: str
) -> None:
    """Each malformed or unsupported construct gets its own typed error naming it (a compiler that let
    it through, or failed later with another message, fails here)."""
    attrs = ' defaultPhase="nope"' if "default" in reason else ""
    path = write("bad.sch", f"<schema {SCH}{attrs}>{body}</schema>")
    with pytest.raises(error, match=reason):
        compile_schematron(path, cache_dir=cache_dir)


def test_extends_chain_deeper_than_the_cap_is_refused(
    fired: Compile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ubl.schematron.expand as expand

    monkeypatch.setattr(expand, "MAX_EXTENDS_DEPTH", 2)
    chain = (
        "".join(f'<rule abstract="true" id="r{i}"><extends rule="r{i + 1}"/></rule>' for i in range(4))
        + '<rule abstract="true" id="r4"><assert id="a" test="1"/></rule>'
    )
    with pytest.raises(SchematronReferenceError, match="extends nested deeper than 2"):
        fired(f'<pattern>{chain}<rule context="/*"><extends rule="r0"/></rule></pattern>')
