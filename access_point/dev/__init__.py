"""Development helpers: ``ap dev pair`` (a ready two-AP setup on loopback) and ``ap dev discovery``
(the DNS server playing the SML and the SMP serving that setup)."""
