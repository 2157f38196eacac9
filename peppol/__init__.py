"""The Peppol network's vocabulary: identifiers, code lists, PKI and trust, hardened XML.

This package imports nothing else from the project; every other package may import it.
"""
