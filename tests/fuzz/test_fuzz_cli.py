"""Fuzz the ``ap`` CLI (typer ``CliRunner``): garbage arguments, mutated and unreadable files.

Every run must end with a documented exit code and, when it fails, a reason on the terminal; never an
exception escaping the command (``CliRunner`` records one as ``result.exception`` with exit code 1) and
never a traceback. Nothing here touches the network: lookups use ``--static``, sends go to a closed
loopback port, ``as4 serve`` only gets files it must refuse.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from access_point.cli import app
from tests.fuzz import fuzz_settings, mutated, xml_mutated
from tests.fuzz.test_fuzz_as4 import INVOICE, no_hang

runner = CliRunner()

DOCTYPE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PARTICIPANT = "iso6523-actorid-upis::9915:fuzz"
SENDER = "iso6523-actorid-upis::0088:5790000435951"
RECEIVER = "iso6523-actorid-upis::0088:5798000000001"
#: A loopback port nothing listens on (discard): a send fails at once with "connection refused".
CLOSED_URL = "https://127.0.0.1:9/as4"

_ARG_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        (
            "",
            "-",
            "--",
            "--help-me",
            "::",
            "\x00",
            "\u20ac",
            "iso6523-actorid-upis::",
            "iso6523-actorid-upis::0088:",
            "iso6523-actorid-upis::0088:5798000000001",
            "busdox-docid-qns::x",
            "cenbii-procid-ubl::",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01",
            "1e309",
            "-1",
            "x" * 500,
        )
    ),
)


def check(result: Result, allowed: set[int]) -> None:
    """The CLI contract for any input."""
    exc = result.exception
    escaped = exc is not None and not isinstance(exc, SystemExit)
    assert not escaped, f"exception escaped the command: {exc!r}\n{result.output[-800:]}"
    assert "Traceback (most recent call last)" not in result.output, result.output[-800:]
    assert result.exit_code in allowed, (result.exit_code, result.output[-800:])
    if result.exit_code == 2:
        assert "error" in result.output.lower(), f"exit 2 without a reason:\n{result.output[-800:]}"
    if currently_in_test_context():  # check() also serves plain (non-hypothesis) regression tests
        event(f"exit {result.exit_code}")


def invoke(args: list[str]) -> Result:
    return runner.invoke(app, args)


# --- ap id ----------------------------------------------------------------------------------------------


@fuzz_settings(40)
@given(
    identifier=_ARG_TEXT,
    options=st.lists(
        st.tuples(st.sampled_from(("--kind", "--zone", "--lax", "--json", "--bogus")), _ARG_TEXT), max_size=2
    ),
)
def test_cli_id_check_garbage(identifier: str, options: list[tuple[str, str]]) -> None:
    args = ["id", "check"]
    for name, value in options:
        args += [name] if name in ("--lax", "--json") else [name, value]
    check(invoke([*args, "--", identifier]), {0, 2})


# --- ap pki -----------------------------------------------------------------------------------------------


class _Files(dict[str, bytes]):
    def __repr__(self) -> str:
        return f"<{len(self)} seed files>"


@pytest.fixture(scope="module")
def seeds(test_pki: Any) -> dict[str, bytes]:
    from tests.fuzz.test_fuzz_as4 import make_sbd

    cert_pem = test_pki.aps[1].cert.read_bytes()
    b64 = b"".join(line for line in cert_pem.splitlines() if not line.startswith(b"-----")).decode()
    static = (
        "participants:\n"
        f"  - id: {PARTICIPANT}\n"
        "    services:\n"
        f"      - document_type: {DOCTYPE}\n"
        f"        process: {PROCESS}\n"
        "        endpoints:\n"
        "          - url: https://ap.fuzz.test/as4\n"
        f"            certificate: {b64}\n"
        "            activation: 2020-01-01T00:00:00Z\n"
        "            expiration: 2099-01-01\n"
        "            description: fuzz\n"
    ).encode()
    return _Files(
        {
            "cert": cert_pem,
            "truststore": test_pki.ap_truststore.read_bytes(),
            "crl": test_pki.ap_crl.read_bytes(),
            "key": test_pki.aps[0].key.read_bytes(),
            "static": static,
            "sbd": make_sbd(),
        }
    )


def _unreadable(tmp: Path, kind: str) -> Path:
    """A path the commands cannot use as an input file."""
    if kind == "missing":
        return tmp / "missing.file"
    if kind == "directory":
        path = tmp / "a-directory"
        path.mkdir(exist_ok=True)
        return path
    if kind == "empty":
        path = tmp / "empty.file"
        path.write_bytes(b"")
        return path
    path = tmp / "binary.file"
    path.write_bytes(bytes(range(256)) * 4)
    return path


_UNREADABLE = st.sampled_from(("missing", "directory", "empty", "binary"))


@fuzz_settings(30)
@given(data=st.data())
def test_cli_pki_show_and_check_mutated_files(
    seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("pki")
    cert = tmp / "cert.pem"
    trust = tmp / "trust.pem"
    crl = tmp / "ca.crl"
    which = data.draw(st.sampled_from(("cert", "trust", "crl", "unreadable")), label="broken")
    cert.write_bytes(data.draw(mutated(seeds["cert"], 3), label="cert") if which == "cert" else seeds["cert"])
    trust.write_bytes(
        data.draw(mutated(seeds["truststore"], 3), label="trust") if which == "trust" else seeds["truststore"]
    )
    crl.write_bytes(data.draw(mutated(seeds["crl"], 3), label="crl") if which == "crl" else seeds["crl"])
    if which == "unreadable":
        target = data.draw(st.sampled_from(("cert", "trust", "crl")), label="which-unreadable")
        bad = _unreadable(tmp, data.draw(_UNREADABLE, label="how"))
        cert, trust, crl = (
            bad if target == n else p for n, p in (("cert", cert), ("trust", trust), ("crl", crl))
        )
    unreadable_cert = which == "unreadable" and target == "cert"
    check(invoke(["pki", "show", str(cert)]), {2} if unreadable_cert else {0, 2})
    at = data.draw(
        st.sampled_from((None, "2026-06-01T00:00:00", "0001-01-01", "9999-12-31T23:59:59")), label="at"
    )
    args = ["pki", "check", str(cert), "-t", str(trust), "--crl", str(crl), "--offline"]
    if at:
        args += ["--at", at]
    # an input that cannot be read at all is a usage error, never a verdict on the certificate
    check(invoke(args), {2} if which == "unreadable" else {0, 1, 2})


@fuzz_settings(15)
@given(name=_ARG_TEXT, aps=st.integers(-3, 1200))
def test_cli_pki_init_garbage_directory(
    tmp_path_factory: pytest.TempPathFactory, name: str, aps: int
) -> None:
    tmp = tmp_path_factory.mktemp("init")
    (tmp / "file").write_bytes(b"x")
    target = tmp / "file" / "sub" if not name or "\x00" in name or "/" in name else tmp / "file"
    check(invoke(["pki", "init", str(target), "--aps", str(aps)]), {2})


# --- ap validate ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ubl.artifacts import ArtifactStore, install_from_corpus

    path = tmp_path_factory.mktemp("cli-store")
    install_from_corpus(ArtifactStore(path), corpus)
    return path


@fuzz_settings(30)
@given(data=st.data())
def test_cli_validate_mutated_documents_and_options(
    corpus: Path, cli_store: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    seed = (
        corpus / "peppol-preaward/guides/transactions/T004/files/call-for-tenders-instance.xml"
    ).read_bytes()
    tmp = tmp_path_factory.mktemp("validate")
    doc = tmp / "doc.xml"
    how = data.draw(st.sampled_from(("tree", "bytes", "unreadable")), label="how")
    if how == "tree":
        doc.write_bytes(data.draw(xml_mutated(seed, 3), label="doc"))
    elif how == "bytes":
        doc.write_bytes(data.draw(mutated(seed, 3), label="doc"))
    else:
        doc = _unreadable(tmp, data.draw(_UNREADABLE, label="unreadable"))
    args = ["validate", str(doc), "--store", str(cli_store)]
    option = data.draw(
        st.sampled_from(("", "--ruleset", "--format", "--xsd", "--schematron", "--phase", "--output")),
        label="option",
    )
    if option in ("--xsd", "--schematron"):
        junk = tmp / "junk.xsd"
        junk.write_bytes(data.draw(st.sampled_from((b"", b"<a/>", b"<xs:schema/>", seed)), label="junk"))
        args += [option, data.draw(st.sampled_from((str(junk), "nope:x.sch", str(tmp))), label="value")]
    elif option == "--output":
        args += [
            "-o",
            data.draw(st.sampled_from((str(tmp), str(tmp / "no" / "dir" / "r.txt"))), label="value"),
        ]
    elif option:
        args += [option, data.draw(_ARG_TEXT, label="value")]
    check(invoke(args), {0, 1, 2})


# --- ap lookup --static -----------------------------------------------------------------------------------


_STATIC_EXIT_CODES = {0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}


@fuzz_settings(40)
@given(data=st.data())
def test_cli_lookup_static_mutated_directory(
    seeds: dict[str, bytes], test_pki: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("static")
    static = tmp / data.draw(st.sampled_from(("dir.yaml", "dir.json", "dir.txt")), label="name")
    text = seeds["static"]
    how = data.draw(st.sampled_from(("lines", "bytes", "value")), label="how")
    if how == "bytes":
        text = data.draw(mutated(text, 3), label="static")
    elif how == "lines":
        lines = text.split(b"\n")
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        op = data.draw(st.sampled_from(("drop", "dup", "dedent")), label="op")
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        else:
            lines[i] = lines[i].lstrip()
        text = b"\n".join(lines)
    else:
        key = data.draw(
            st.sampled_from((b"activation: ", b"expiration: ", b"url: ", b"certificate: ", b"- id: ")),
            label="key",
        )
        value = data.draw(
            st.sampled_from(
                (
                    b"0001-01-01",
                    b"2020-13-45",
                    b"[1, 2]",
                    b"{a: b}",
                    b"~",
                    b"true",
                    b"12",
                    b"!!binary aGVsbG8=",
                    b"*undefined_alias",
                    b"-----BEGIN CERTIFICATE-----",
                    base64.b64encode(b"not a certificate"),
                )
            ),
            label="value",
        )
        start = text.index(key) + len(key)
        end = text.index(b"\n", start)
        text = text[:start] + value + text[end:]
    static.write_bytes(text)
    args = ["lookup", PARTICIPANT, "--doctype", DOCTYPE, "--process", PROCESS, "--static", str(static)]
    if data.draw(st.booleans(), label="ap-trust"):
        args += ["--ap-trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl), "--no-fetch"]
    if data.draw(st.booleans(), label="json"):
        args.append("--json")
    check(invoke(args), _STATIC_EXIT_CODES)


def test_cli_lookup_static_expiration_9999_12_31(seeds: dict[str, bytes], tmp_path: Path) -> None:
    static = tmp_path / "dir.yaml"
    static.write_bytes(seeds["static"].replace(b"expiration: 2099-01-01", b"expiration: 9999-12-31"))
    args = ["lookup", PARTICIPANT, "--doctype", DOCTYPE, "--process", PROCESS, "--static", str(static)]
    result = invoke(args)
    check(result, {0})  # the last representable day is a valid expiration, not a crash or a refusal
    assert "https://ap.fuzz.test/as4" in result.output and "9999-12-31" in result.output


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_cli_lookup_static_deeply_nested_file(tmp_path: Path, suffix: str) -> None:
    static = tmp_path / f"dir.{suffix}"
    nested = "[" * 100_000 + "]" * 100_000
    static.write_text(f"participants: {nested}\n" if suffix == "yaml" else f'{{"participants": {nested}}}')
    check(invoke(["lookup", PARTICIPANT, "--static", str(static)]), {2})


@fuzz_settings(20)
@given(participant=_ARG_TEXT, doctype=_ARG_TEXT, process=_ARG_TEXT, at=_ARG_TEXT)
def test_cli_lookup_garbage_identifiers(
    seeds: dict[str, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    participant: str,
    doctype: str,
    process: str,
    at: str,
) -> None:
    static = tmp_path_factory.mktemp("ids") / "dir.yaml"
    static.write_bytes(seeds["static"])
    args = ["lookup", "--static", str(static), "--doctype", doctype, "--process", process, "--at", at]
    check(invoke([*args, "--", participant]), _STATIC_EXIT_CODES)


# --- ap as4 -------------------------------------------------------------------------------------------------

#: URLs that never reach DNS: a closed loopback port, refused schemes, unparseable hosts/ports.
_SEND_URLS = (
    CLOSED_URL,
    "http://127.0.0.1:9/as4",
    "ftp://x",
    "",
    "https://[::1]:x/",
    "https://exa mple/",
    "https://127.0.0.1:99999/",
)


@fuzz_settings(25)
@given(data=st.data())
def test_cli_as4_send_mutated_inputs(
    seeds: dict[str, bytes], test_pki: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Broken SBD, key or certificates: exit 2 before sending; otherwise a refused connection: exit 1."""
    tmp = tmp_path_factory.mktemp("send")
    # a bare UBL document: the CLI builds the SBDH from options (drawn valid or garbage)
    bare = data.draw(
        st.one_of(
            st.none(),
            st.tuples(
                st.sampled_from((SENDER, "", "x::y", "iso6523-actorid-upis::0088:\u20ac")),
                st.sampled_from((RECEIVER, "", "iso6523-actorid-upis::")),
                st.sampled_from(("FR", "", "XX", "fr", "\u20ac\u20ac", "FRA")),
            ),
        ),
        label="bare",
    )
    files = {
        "file": ("doc.xml", seeds["sbd"] if bare is None else INVOICE),
        "key": ("key.pem", seeds["key"]),
        "cert": ("cert.pem", test_pki.aps[0].cert.read_bytes()),
        "receiver": ("receiver.pem", seeds["cert"]),
    }
    broken = data.draw(st.sampled_from(("none", *sorted(files))), label="broken")
    paths: dict[str, Path] = {}
    how = "none"
    for name, (file_name, content) in files.items():
        path = tmp / file_name
        if name == broken:
            how = data.draw(st.sampled_from(("bytes", "unreadable", "tree")), label="how")
            if how == "unreadable":
                path = _unreadable(tmp, data.draw(_UNREADABLE, label="unreadable"))
            elif how == "tree" and name == "file":
                path.write_bytes(data.draw(xml_mutated(content, 3), label="content"))
            else:
                path.write_bytes(data.draw(mutated(content, 3), label="content"))
        else:
            path.write_bytes(content)
        paths[name] = path
    url = data.draw(st.sampled_from(_SEND_URLS), label="url")
    args = [
        "as4", "send", str(paths["file"]), "--url", url,
        "--key", str(paths["key"]), "--cert", str(paths["cert"]), "--receiver-cert", str(paths["receiver"]),
        "--attempts", "1", "--retry-interval", "0",
    ]  # fmt: skip
    if bare is not None:
        args += ["--sender", bare[0], "--receiver", bare[1], "--country-c1", bare[2]]
    if data.draw(st.booleans(), label="trust"):
        args += ["--trust", str(test_pki.ap_truststore), "--crl", str(test_pki.ap_crl)]
    if how == "unreadable":
        allowed = {2}  # refused before sending
    elif broken == "none" and bare is None:
        # valid inputs: only the closed loopback port is a real send (refused connection: exit 1);
        # every other URL is refused before sending (plain HTTP, other scheme, bad syntax: exit 2)
        allowed = {1} if url == CLOSED_URL else {2}
    else:
        allowed = {1, 2}
    check(invoke(args), allowed)


@fuzz_settings(15)
@given(data=st.data())
def test_cli_as4_serve_refuses_unusable_configuration(
    test_pki: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Only configurations that cannot work (so the server never starts): exit 2 with the reason."""
    tmp = tmp_path_factory.mktemp("serve")
    junk = tmp / "junk.pem"
    junk.write_bytes(data.draw(st.binary(max_size=200), label="junk"))
    unreadable = _unreadable(tmp, data.draw(_UNREADABLE, label="unreadable"))
    bad = data.draw(st.sampled_from((junk, unreadable)), label="bad")
    target = data.draw(st.sampled_from(("--key", "--cert", "--trust", "--tls")), label="target")
    options = {
        "--key": test_pki.aps[1].key,
        "--cert": test_pki.aps[1].cert,
        "--trust": test_pki.ap_truststore,
    }
    args = ["as4", "serve", "--port", "0", "--inbox", str(tmp / "inbox")]
    for name, path in options.items():
        args += [name, str(bad if target == name else path)]
    if target == "--tls":
        args += ["--tls-cert", str(bad), "--tls-key", str(bad)]
    with no_hang(20):  # a configuration wrongly accepted would start serving: fail instead of blocking
        result = invoke(args)
    check(result, {2})


# --- ap artifacts -------------------------------------------------------------------------------------------


@fuzz_settings(15)
@given(
    command=st.sampled_from(("install", "verify", "remove", "list")),
    name=_ARG_TEXT,
    source=_UNREADABLE,
)
def test_cli_artifacts_garbage(
    tmp_path_factory: pytest.TempPathFactory, command: str, name: str, source: str
) -> None:
    tmp = tmp_path_factory.mktemp("artifacts")
    args = ["artifacts", command, "--store", str(tmp / "store")]
    if command != "list":
        args += ["--", name]
    if command == "install":  # always offline: never download
        args[3:3] = ["--from", str(_unreadable(tmp, source))]
    check(invoke(args), {0, 1, 2})


def test_cli_as4_send_unbalanced_ipv6_url(seeds: dict[str, bytes], test_pki: Any, tmp_path: Path) -> None:
    _send_to_malformed_url(seeds, test_pki, tmp_path, "https://[::1")


@pytest.mark.parametrize(
    "url", ["https://ap.test:99999/as4", "https://ap.test:x/as4", "https://a p.test/as4"]
)
def test_cli_as4_send_malformed_host_or_port_is_usage_error(
    seeds: dict[str, bytes], test_pki: Any, tmp_path: Path, url: str
) -> None:
    """A URL-syntax problem is exit 2 with a reason, not exit 1 as a connection failure (EBMS:0005)."""
    _send_to_malformed_url(seeds, test_pki, tmp_path, url)


def _send_to_malformed_url(seeds: dict[str, bytes], test_pki: Any, tmp_path: Path, url: str) -> None:
    sbd = tmp_path / "sbd.xml"
    sbd.write_bytes(seeds["sbd"])
    args = [
        "as4", "send", str(sbd), "--url", url,
        "--key", str(test_pki.aps[0].key), "--cert", str(test_pki.aps[0].cert),
        "--receiver-cert", str(test_pki.aps[1].cert), "--attempts", "1",
    ]  # fmt: skip
    result = invoke(args)
    check(result, {2})
    assert "invalid endpoint URL" in result.output
    assert "EBMS:0005" not in result.output


def test_cli_artifacts_list_store_is_a_regular_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.write_text("not a directory\n")
    result = invoke(["artifacts", "list", "--store", str(store)])
    check(result, {2})
    assert "not a directory" in result.output


def test_cli_as4_send_valid_inputs_to_a_closed_port_is_exit_1(
    seeds: dict[str, bytes], test_pki: Any, tmp_path: Path
) -> None:
    """Control for the send fuzz test: with nothing broken the command really sends, and a refused
    connection is a negative outcome (exit 1), not a usage error."""
    sbd = tmp_path / "sbd.xml"
    sbd.write_bytes(seeds["sbd"])
    args = [
        "as4", "send", str(sbd), "--url", CLOSED_URL,
        "--key", str(test_pki.aps[0].key), "--cert", str(test_pki.aps[0].cert),
        "--receiver-cert", str(test_pki.aps[1].cert), "--attempts", "1", "--retry-interval", "0",
    ]  # fmt: skip
    result = invoke(args)
    check(result, {1})
    assert result.output.startswith("NOT delivered") and "Connection refused" in result.output
