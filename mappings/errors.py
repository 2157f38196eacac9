"""Typed errors of the mappings package. Each carries a code and the input path that caused it."""

from __future__ import annotations


class MappingError(Exception):
    """A document or record could not be mapped. ``path`` names the input location (JSON path or XPath)."""

    code = "mapping"

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


class InputValidationError(MappingError):
    """The input does not satisfy its JSON Schema; ``errors`` lists every (path, reason) pair."""

    code = "invalid-input"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        first_path, first_reason = errors[0] if errors else ("", "invalid")
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first_reason + more, first_path)
        self.errors = errors


class SpecError(MappingError):
    """A mapping spec file is malformed."""

    code = "spec"


class UnsupportedConversion(MappingError):
    """The requested source/target pair is not supported."""

    code = "unsupported"


class InputTooLarge(MappingError):
    """The input is larger than the accepted maximum (``mappings.convert.MAX_INPUT_BYTES``)."""

    code = "too-large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"input is {size} bytes, more than the {limit}-byte limit", "$")
        self.size = size
        self.limit = limit
