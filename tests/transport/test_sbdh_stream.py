"""Streaming with bounded memory: a 50 MB SBD is built, read and extracted with small RSS growth.

Peak RSS is measured in a fresh interpreter (``ru_maxrss`` is a per-process high-water mark, which a
pytest worker that ran other tests would already have raised), before and after each operation.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from transport.sbdh import SbdhError, extract_payload, read_sbd

#: Size of the synthetic payloads.
PAYLOAD_BYTES = 50 * 1024 * 1024
#: Allowed peak RSS growth per operation (the brief's bound).
MAX_GROWTH_MB = 40

UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
    b' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
    b' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
    b"<cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:invoice:3</cbc:CustomizationID>\n"
    b"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>\n"
)
LINE = (
    b'<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>'
    b'<cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>'
    b"<cac:Item><cbc:Name>Widget &amp; co &lt;3&gt;</cbc:Name></cac:Item></cac:InvoiceLine>\n"
)
# A line embedding a big base64 attachment too: long text nodes must stream as well.
ATTACHMENT = b"<cbc:Note>" + b"QUJD" * (4 * 1024 * 1024) + b"</cbc:Note>\n"

MEASURE = r"""
import hashlib, json, resource, sys
from pathlib import Path
from transport.sbdh import extract_payload, header_for_document, read_sbd, write_binary_sbd, write_sbd

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

kind, payload, sbd, extracted = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
result = {}
base = peak_mb()
parties = {"sender": "0088:5798000000001", "receiver": "0088:5798000000002", "country_c1": "DK"}
if kind == "xml":
    header = header_for_document(payload, **parties)
    with sbd.open("wb") as out:
        write_sbd(header, payload, out)
else:
    header = header_for_document(Path(sys.argv[5]), **parties)
    with sbd.open("wb") as out:
        write_binary_sbd(header, payload, "application/vnd.etsi.asic-e+zip", out)
result["write"] = peak_mb() - base
parsed = read_sbd(sbd)
result["read"] = peak_mb() - base
result["header_ok"] = parsed.header == header
with extracted.open("wb") as out:
    info = extract_payload(sbd, out)
result["extract"] = peak_mb() - base
result["kind"] = info.kind
print(json.dumps(result))
"""


def _sha256(path: Path, drop_tail: int = 0) -> str:
    digest = hashlib.sha256()
    left = path.stat().st_size - drop_tail
    with path.open("rb") as fh:
        while left > 0 and (chunk := fh.read(min(1 << 20, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def big_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "invoice.xml"
    with path.open("wb") as fh:
        fh.write(HEAD)
        fh.write(ATTACHMENT)
        block = LINE * 1000
        written = len(HEAD) + len(ATTACHMENT)
        while written < PAYLOAD_BYTES:
            fh.write(block)
            written += len(block)
        fh.write(b"</Invoice>\n")
    return path


@pytest.fixture(scope="module")
def big_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "tender.asice"
    block = hashlib.sha512(b"seed").digest() * 16384  # 1 MiB, not compressible to nothing
    with path.open("wb") as fh:
        for i in range(PAYLOAD_BYTES // len(block)):
            fh.write(bytes([i % 256]) + block[1:])
    return path


def _measure(kind: str, payload: Path, tmp_path: Path) -> tuple[dict[str, object], Path, Path]:
    sbd, extracted, small = tmp_path / "sbd.xml", tmp_path / "extracted", tmp_path / "small.xml"
    small.write_bytes(HEAD + b"</Invoice>")
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, kind, str(payload), str(sbd), str(extracted), str(small)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), sbd, extracted


def test_50mb_xml_sbd_streams_with_bounded_memory(big_xml: Path, tmp_path: Path) -> None:
    result, sbd, extracted = _measure("xml", big_xml, tmp_path)
    assert result["header_ok"] is True and result["kind"] == "xml"
    for op in ("write", "read", "extract"):
        assert isinstance(result[op], float) and result[op] < MAX_GROWTH_MB, result
    assert sbd.stat().st_size > PAYLOAD_BYTES
    # Byte-exact: the original's XML declaration is the one we write, and the newline after its root
    # element is not part of the element.
    assert HEAD.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert _sha256(extracted) == _sha256(big_xml, drop_tail=1)


def test_50mb_binary_sbd_streams_with_bounded_memory(big_binary: Path, tmp_path: Path) -> None:
    result, sbd, extracted = _measure("binary", big_binary, tmp_path)
    assert result["header_ok"] is True and result["kind"] == "binary"
    for op in ("write", "read", "extract"):
        assert isinstance(result[op], float) and result[op] < MAX_GROWTH_MB, result
    assert sbd.stat().st_size > PAYLOAD_BYTES * 4 // 3
    assert _sha256(extracted) == _sha256(big_binary)


class _Pipe(io.RawIOBase):
    """A non-seekable binary stream (like a socket or a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        chunk = self._inner.read(min(len(b), 1000))
        b[: len(chunk)] = chunk
        return len(chunk)


def _corpus_good(corpus: Path, name: str) -> Path:
    path = corpus / "sbdh" / "peppol-commons" / "good" / name
    assert path.is_file(), f"{path} not found"  # (the corpus fixture skips when there is no corpus)
    return path


def test_non_seekable_stream_is_read_and_extracted(corpus: Path) -> None:
    data = _corpus_good(corpus, "good-bis3.xml").read_bytes()
    stream: BinaryIO = io.BufferedReader(_Pipe(data))  # type: ignore[arg-type]
    assert read_sbd(stream).header.type == "Invoice"
    out = io.BytesIO()
    info = extract_payload(io.BufferedReader(_Pipe(data)), out)  # type: ignore[arg-type]
    assert info.local_name == "Invoice"
    assert out.getvalue().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ubl:Invoice')


def test_seekable_stream_is_extracted_from_its_position(corpus: Path) -> None:
    data = _corpus_good(corpus, "good-order-with-qty-ph.xml").read_bytes()
    stream = io.BytesIO(b"JUNK" + data)
    stream.seek(4)
    out = io.BytesIO()
    assert extract_payload(stream, out).local_name == "Order"
    assert b"<cbc:ID>5</cbc:ID>" in out.getvalue()


def test_truncated_sbd_fails_on_extract(corpus: Path) -> None:
    data = _corpus_good(corpus, "good.xml").read_bytes()
    cut = data[: len(data) - 200]
    assert read_sbd(cut).header.type == "Invoice"  # the header alone is fine
    with pytest.raises(SbdhError) as err:
        extract_payload(cut, io.BytesIO())
    assert err.value.code == "invalid-sbd-xml"


@pytest.mark.parametrize("feed_bytes", [1 << 30, 64, 7])
def test_a_comment_inside_a_header_value_is_refused_however_the_input_is_fed(
    corpus: Path, feed_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comment inside a header value (which exclusive c14n drops, so a signature still holds) is
    refused — never read as a truncated or joined value (issue 11 F1, docs/as4.md) — however the
    streaming reader slices its input; the in-memory parser refuses it the same way."""
    import transport.sbdh.reader as reader
    from transport.sbdh import parse_sbd

    monkeypatch.setattr(reader, "FEED_BYTES", feed_bytes)
    data = _corpus_good(corpus, "good-bis3.xml").read_bytes()
    original = read_sbd(data).header.instance_id
    cut = len(original) // 2
    marked = original[:cut] + "<!--x-->" + original[cut:]
    tampered = data.replace(original.encode(), marked.encode(), 1)
    assert tampered != data
    for read in (read_sbd, parse_sbd):
        with pytest.raises(SbdhError) as err:
            read(tampered)
        assert err.value.code == "invalid-sbd-xml" and "comment" in str(err.value), (read, err.value)


def test_another_root_is_refused_without_reading_the_document() -> None:
    """The reader only reports StandardBusinessDocument and its header: a large document with another
    root (even one holding an SBD further down) is refused within the prolog scan, not read to its end."""
    nested = b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"/>'
    for inner in (b"", nested):
        stream = io.BytesIO(HEAD + inner + LINE * 100_000 + b"</Invoice>\n")
        with pytest.raises(SbdhError) as err:
            read_sbd(stream)
        assert err.value.code == "invalid-sbd-xml" and "StandardBusinessDocument" in str(err.value)
        assert stream.tell() <= 128 * 1024, stream.tell()
