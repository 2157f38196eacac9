"""The document suite: Schematron rule unit tests (VEFA ``testSet``, a simple YAML, or official SVRL
reports as expectations), run on the Schematron layer alone, each verdict with its reason."""

from __future__ import annotations

from .collect import builtin_testsets, collect
from .expectations import Check, RuleExpectation, SvrlExpectation
from .runner import SUITE_NAME, Choice, RulesetError, resolve, run_documents
from .sources import TestSourceError, UnitTest, load_testset, load_with_svrl, load_yaml

__all__ = [
    "SUITE_NAME",
    "Check",
    "Choice",
    "RuleExpectation",
    "RulesetError",
    "SvrlExpectation",
    "TestSourceError",
    "UnitTest",
    "builtin_testsets",
    "collect",
    "load_testset",
    "load_with_svrl",
    "load_yaml",
    "resolve",
    "run_documents",
]
