"""``PerObject``: a value derived once per object, never served for another object."""

from __future__ import annotations

from peppol.pki.memo import PerObject


class _Box:
    def __init__(self, value: int) -> None:
        self.value = value


def test_value_is_derived_once_per_object_and_not_shared_between_equal_objects() -> None:
    calls: list[int] = []

    def derive(box: _Box) -> int:
        calls.append(box.value)
        return box.value * 2

    memo: PerObject[_Box, int] = PerObject(derive)
    a, b = _Box(1), _Box(1)
    assert memo(a) == 2 and memo(a) == 2
    assert memo(b) == 2
    assert calls == [1, 1]


def test_memo_is_bounded_and_a_dropped_object_is_derived_again() -> None:
    memo: PerObject[_Box, int] = PerObject(lambda box: box.value, maxsize=2)
    boxes = [_Box(i) for i in range(5)]
    assert [memo(b) for b in boxes] == [0, 1, 2, 3, 4]
    assert len(memo._data) <= 2
    boxes[0].value = 10
    assert memo(boxes[0]) == 10  # evicted, so derived again from the object as it is now
