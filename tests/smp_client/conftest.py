"""Discovery test fixtures: the loopback SML + TLS SMP world (see ``world.py``)."""

from tests.smp_client.world import smp_world

__all__ = ["smp_world"]
