"""Procurement documents: type registry, UBL helpers, official-artifact store, validation engine
(XSD, Schematron compiled to XSLT 3 and run by saxonche) and reports. Imports only ``peppol``."""
