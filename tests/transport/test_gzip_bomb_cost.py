"""F6: a gzip bomb is refused as soon as the running compression ratio is exceeded, not after the
output cap (the ratio used to be taken over the *total* compressed size, so a bomb padded with
incompressible data inflated up to the size cap before EBMS:0303)."""

from __future__ import annotations

import os
import zlib

import pytest

from transport.as4 import streams
from transport.errors import DecompressionFailure

MIB = 1024 * 1024


class CountingSink:
    """Counts what the decompressor writes (keeps nothing)."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


def gzip_of(*blocks: tuple[bytes, int]) -> bytes:
    """One gzip member of each ``(block, repeat)`` written in turn (no 80 MiB string in memory)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [comp.compress(block) for block, repeat in blocks for _ in range(repeat)]
    out.append(comp.flush())
    return b"".join(out)


def test_padded_bomb_is_refused_long_before_the_size_cap() -> None:
    """40 MiB of zeros (~40 KiB compressed) followed by 2 MiB of random bytes: the total ratio is
    ~20:1, well under the ratio cap, but the running ratio passes 200:1 within the first megabytes.
    (Before the fix this wrote the full 32 MiB cap and failed on size, not ratio.)"""
    bomb = gzip_of((bytes(MIB), 40), (os.urandom(2 * MIB), 1))
    sink = CountingSink()
    with pytest.raises(DecompressionFailure, match="compression ratio"):
        streams.gunzip_capped(bomb, sink, max_bytes=32 * MIB, max_ratio=200)
    # Refused at ~ratio x the minimum input floor (12.5 MiB at 200:1), far below the 32 MiB cap.
    assert sink.written <= 200 * streams.RATIO_MIN_INPUT_BYTES + streams.CHUNK_SIZE
    assert sink.written < 16 * MIB


def test_a_small_repetitive_start_is_not_refused() -> None:
    """The minimum-input floor: a document whose first bytes compress extremely well (a whitespace
    run) but whose whole is ordinary is accepted."""
    data = gzip_of((b" " * MIB, 2), (os.urandom(MIB), 1))
    sink = CountingSink()
    assert streams.gunzip_capped(data, sink, max_bytes=64 * MIB, max_ratio=200) == 3 * MIB
