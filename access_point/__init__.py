"""The access point service: configuration, CLI, AS4 endpoint, store, queue, REST API and console.

Nothing in the project imports this package; it composes the others.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("procurement-access-point")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
