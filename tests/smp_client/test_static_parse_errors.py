"""A static directory that does not parse is reported on one line, with where the parser stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from smp_client import StaticDirectory, StaticDirectoryError


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.yaml", "participants: [\n", "at line 2, column 1"),
        ("bad.yaml", "participants:\n  - id: x\n   bad: [\n", "line 3"),
        ("bad.json", '{"participants": }', "line 1 column 18"),
    ],
)
def test_unparsable_static_directory_error_is_one_line_with_position(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(StaticDirectoryError) as caught:
        StaticDirectory(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "is not valid" in message and where in message
