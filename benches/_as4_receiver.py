"""Child process of ``benches/as4.py``: an AS4 receiver on an ephemeral loopback port writing to an inbox.

argv: CERT KEY AP_TRUSTSTORE CRL INBOX URL_FILE WORK_DIR [noop]. Writes its URL to URL_FILE once
listening, then serves until terminated. Accepted messages go to the durable SQLite ledger in INBOX
(as with ``ap as4 serve``); with ``noop`` to an in-memory ledger (measures the protocol cost without
the database's and payload files' fsyncs).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from access_point.store import open_store
from peppol.pki import CertificateValidator, Identity, Purpose, RevocationPolicy, TrustStore
from transport.receiver import CallbackHooks, InMemoryLedger, ReceiverConfig
from transport.server import create_app, start_server


def main(argv: list[str]) -> None:
    cert, key, trust, crl, inbox, url_file, work = (Path(a) for a in argv[:7])
    noop = argv[7:] == ["noop"]
    validator = CertificateValidator(
        TrustStore.from_pem(trust),
        purpose=Purpose.AP,
        crls=(crl.read_bytes(),),
        revocation=RevocationPolicy.HARD_FAIL,
        allow_fetching=False,
    )
    ledger = InMemoryLedger() if noop else open_store(inbox).ledger
    config = ReceiverConfig(
        identity=Identity.load(cert, key), validate_signer=validator.validate, work_dir=work, ledger=ledger
    )
    server = start_server(create_app(config, CallbackHooks()))
    url_file.write_text(server.url)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
