"""A webhook receiver for tests: verifies the signature, appends ``<key> <alert id> <event>``
to a file (fsynced) and only then answers 200; ``python receiver.py PORT SECRET FILE``."""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from chaintrail.hub.monitor.delivery import SIGNATURE_HEADER, verify

PORT, SECRET, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not verify(SECRET, self.headers.get(SIGNATURE_HEADER, ""), body):
            self.send_response(401)
            self.end_headers()
            return
        alert = json.loads(body)
        fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, f"{self.headers['Idempotency-Key']} {alert['id']} {alert['event']}\n".encode())
        os.fsync(fd)
        os.close(fd)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
