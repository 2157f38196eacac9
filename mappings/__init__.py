"""Platform data (OCDS, DECP) to and from UBL (eForms notices, Peppol pre-award documents)."""
