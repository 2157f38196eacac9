"""Document and AS4 conformance suites and their reports (next wave)."""
