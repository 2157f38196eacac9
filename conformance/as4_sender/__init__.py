"""The sending-side AS4 suite (``ap conformance as4-sender``): the suite plays the receiving AP, checks
every property of the sender's first message against the Peppol AS4 profile (one case each) and
answers its next messages with faults (HTTP 500, signed ebMS errors, no answer) to judge its retries.

Public API: :class:`SenderSuite`, :class:`SenderSuiteConfig`, :func:`start_endpoint`,
:func:`tls_context`, :data:`FAULTS`, :func:`select_faults`, :data:`CHECKS`.
"""

from __future__ import annotations

from .endpoint import RunningEndpoint, start_endpoint, tls_context
from .faults import FAULTS, Fault, select_faults
from .profile import CHECKS
from .suite import PROFILE, SUITE_NAME, SenderSuite, SenderSuiteConfig

__all__ = [
    "CHECKS",
    "FAULTS",
    "PROFILE",
    "SUITE_NAME",
    "Fault",
    "RunningEndpoint",
    "SenderSuite",
    "SenderSuiteConfig",
    "select_faults",
    "start_endpoint",
    "tls_context",
]
