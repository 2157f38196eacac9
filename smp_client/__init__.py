"""Discovery: SML (DNS U-NAPTR) and SMP clients, signature checks, caching. Imports only ``peppol``."""
