"""SBDH envelope, AS4 messages, WS-Security, MIME, receipts and errors, HTTP sender and receiver core.
Imports only ``peppol``; never looks anything up (it is handed an ``Endpoint``)."""
