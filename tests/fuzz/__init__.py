"""Fuzz / property tests over every entry point that takes outside input.

The rule they check (developer guide): bad input gets a clear typed error (an ebMS error code, an HTTP
4xx, the module's documented exception, a CLI message with a non-zero exit), never a crash, a 500 or
lost data. Each test feeds mutated real inputs (corpus files, messages built with our own builders) or
generated garbage to one entry point and asserts that only the documented error types come out.

Runs are reproducible: :data:`FUZZ` derandomizes Hypothesis and keeps no example database, so CI sees
the same inputs every time. Budgets are small (the whole package stays well under a minute on 2 cores).
Helpers for byte-level mutation live here so every test module mutates the same way.
"""

from __future__ import annotations

from typing import Any, Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Settings shared by every fuzz test; pass ``max_examples`` per test.
_COMMON: Final[dict[str, Any]] = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
}


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible fuzz settings with ``max_examples`` examples."""
    return settings(max_examples=max_examples, **_COMMON)


#: Byte strings that tend to break parsers when spliced into XML / MIME / PEM.
INTERESTING: Final[tuple[bytes, ...]] = (
    b"",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\n\n",
    b"\r\n\r\n",
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"]]>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"<!DOCTYPE a [<!ENTITY e 'x'>]>",
    b"&e;",
    b'"',
    b"'",
    b"xmlns=''",
    b'xmlns:x="urn:x"',
    b"</",
    b"/>",
    b"--",
    b"-----BEGIN CERTIFICATE-----",
    b"-----END CERTIFICATE-----",
    b"=",
    b"::",
    b"\xc3\x28",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x98\x80",
    b"9" * 40,
    b"A" * 300,
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 4) -> bytes:
    """``seed`` with 1..``max_ops`` random edits: byte flips, deletions, insertions of interesting or
    random bytes, duplicated ranges, truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("flip", "delete", "insert", "splice", "dup", "truncate", "replace")))
        n = len(data)
        pos = draw(st.integers(0, n))
        if op == "flip" and n:
            i = min(pos, n - 1)
            data[i] = data[i] ^ (1 << draw(st.integers(0, 7)))
        elif op == "delete" and n:
            length = draw(st.integers(1, max(1, min(64, n - min(pos, n - 1)))))
            del data[pos : pos + length]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "splice":
            data[pos:pos] = draw(st.sampled_from(INTERESTING))
        elif op == "dup" and n:
            length = draw(st.integers(1, min(256, n)))
            data[pos:pos] = data[max(0, pos - length) : pos]
        elif op == "truncate":
            del data[pos:]
        elif op == "replace" and n:
            length = draw(st.integers(1, 8))
            data[pos : pos + length] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


@st.composite
def token_mutated(draw: st.DrawFn, seed: bytes, tokens: tuple[bytes, ...], max_ops: int = 3) -> bytes:
    """``seed`` with occurrences of structural ``tokens`` (element names, header names, boundaries)
    removed, doubled or replaced: mutations that keep most of the input well-formed."""
    data = seed
    present = [t for t in tokens if t in data]
    if not present:
        return data
    for _ in range(draw(st.integers(1, max_ops))):
        token = draw(st.sampled_from(present))
        count = data.count(token)
        if not count:
            continue
        nth = draw(st.integers(0, count - 1))
        start = -1
        for _ in range(nth + 1):
            start = data.find(token, start + 1)
        end = start + len(token)
        how = draw(st.sampled_from(("drop", "double", "swap", "garble")))
        if how == "drop":
            replacement = b""
        elif how == "double":
            replacement = token + token
        elif how == "swap":
            replacement = draw(st.sampled_from(present))
        else:
            replacement = draw(st.sampled_from(INTERESTING))
        data = data[:start] + replacement + data[end:]
    return data


#: Text and attribute values that stress the readers behind an XML parser (dates, ids, base64, URLs).
INTERESTING_TEXT: Final[tuple[str, ...]] = (
    "",
    " ",
    "\t\n",
    "x",
    "::",
    "a::",
    "::b",
    "0088:",
    "9999:x",
    "%zz",
    "%3A%3A",
    "http://",
    "https://[::1",
    "mailto:",
    "0001-01-01",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31",
    "9999-12-31T23:59:59-14:00",
    "2020-02-30",
    "2020-01-01T25:00:00",
    "2020-01-01+99999999999:00",
    "2020-01-01Z",
    "not-a-date",
    "-1",
    "1e309",
    "NaN",
    "AAAA",
    "MII=",
    "-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----",
    "\u20ac\u00e9\U0001f600",
    "\u200b",
    "x" * 3000,
)


@st.composite
def xml_mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 3) -> bytes:
    """``seed`` (well-formed XML) with element-level edits that keep it well-formed: remove, duplicate
    or swap elements, replace texts and attribute values with :data:`INTERESTING_TEXT`, rename or
    re-namespace elements. Reaches the readers behind the parser, which byte mutations rarely do."""
    from lxml import etree

    root = etree.fromstring(seed, etree.XMLParser(resolve_entities=False, no_network=True))
    for _ in range(draw(st.integers(1, max_ops))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        el = draw(st.sampled_from(elements))
        parent = el.getparent()
        op = draw(st.sampled_from(("remove", "duplicate", "text", "attr", "drop-attr", "rename", "move")))
        if op == "remove" and parent is not None:
            parent.remove(el)
        elif op == "duplicate" and parent is not None:
            import copy

            parent.insert(parent.index(el), copy.deepcopy(el))
        elif op == "text":
            el.text = draw(st.sampled_from(INTERESTING_TEXT))
        elif op == "attr" and el.attrib:
            name = draw(st.sampled_from(sorted(el.attrib)))
            el.set(name, draw(st.sampled_from(INTERESTING_TEXT)))
        elif op == "drop-attr" and el.attrib:
            del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
        elif op == "rename":
            qname = etree.QName(el)
            how = draw(st.sampled_from(("local", "namespace", "relative")))
            if how == "local":
                el.tag = etree.QName(qname.namespace, qname.localname + "X").text
            else:  # a relative namespace URI is well-formed XML but cannot be canonicalised
                el.tag = etree.QName("urn:fuzz" if how == "namespace" else "rel/ns", qname.localname).text
        elif op == "move" and parent is not None:
            target = draw(st.sampled_from(elements))
            if target is not el and el not in target.iterancestors():
                target.append(el)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
