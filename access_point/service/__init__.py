"""The access point service: configuration, the durable queue, the REST API, the ``/as4`` endpoint and
the workers that send, process inbound documents and deliver webhooks (``docs/service.md``)."""
