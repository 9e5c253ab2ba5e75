"""Local servers the channel tests talk to, each in a thread on 127.0.0.1, and a message
factory.

- :class:`SmtpServer`: a tiny SMTP server (Python 3.12 has no ``smtpd``) that keeps what
  it received; a recipient beginning with ``bounce`` is refused with 550, ``busy`` with 451.
- :class:`GatewayServer`: the bank's webhook gateway. It checks each request's signature
  with the shared secret (401 when wrong), answers from a script of status codes (or
  ``"slow"``: it waits past the client's timeout), and is idempotent by the
  ``Idempotency-Key`` header: a key it has seen is answered with the same id and not
  delivered again.
"""

from __future__ import annotations

import datetime as dt
import email
import itertools
import json
import socketserver
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone

from campaigns.channels.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from campaigns.models import Message
from customers.tests.factories import CustomerFactory

_keys = itertools.count(1)


def make_message(*, customer=None, channel="sms", recipient="13812345678", send_after=None, **fields) -> Message:
    return Message.objects.create(
        customer=customer or CustomerFactory(),
        channel=channel,
        recipient=recipient,
        body=fields.pop("body", "尊敬的张女士：您持有的理财产品将于5月20日到期。"),
        key=fields.pop("key", f"test:{next(_keys)}:{uuid.uuid4().hex[:8]}"),
        send_after=send_after or timezone.now() - dt.timedelta(minutes=1),
        **fields,
    )


# --- SMTP ----------------------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        self._reply("220 test.local ESMTP")
        sender, recipients = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 test.local")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address.startswith("bounce"):
                    self._reply("550 No such user")
                elif address.startswith("busy"):
                    self._reply("451 Try again later")
                else:
                    recipients.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                server.received.append(
                    {"from": sender, "to": recipients, "message": email.message_from_bytes(b"".join(lines))}
                )
                self._reply("250 Queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:  # RSET, NOOP, …
                self._reply("250 OK")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[dict] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


# --- the webhook gateway -------------------------------------------------------------------


class _GatewayHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _answer(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - the http.server convention
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        valid = signature_valid(
            secret=server.secret,
            timestamp=self.headers.get(TIMESTAMP_HEADER, ""),
            body=body,
            signature=self.headers.get(SIGNATURE_HEADER, ""),
        )
        key = self.headers.get(IDEMPOTENCY_HEADER, "")
        with server.lock:
            server.requests.append({"headers": dict(self.headers), "body": body, "signature_valid": valid})
            step = server.script.pop(0) if server.script else 200
        if not valid:
            self._answer(401, {"error": "bad signature"})
            return
        if step == "slow":
            time.sleep(server.slow_seconds)
            step = 200
        if step != 200:
            self._answer(step, {"error": "scripted"})
            return
        with server.lock:
            if key not in server.delivered:
                server.delivered[key] = f"gw-{len(server.delivered) + 1}"
            answer = server.delivered[key]
        self._answer(200, {"id": answer})


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, secret: str, script=None, slow_seconds: float = 1.0):
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.secret = secret
        self.script = list(script or [])
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        self.delivered: dict[str, str] = {}  # idempotency key -> the id answered
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/send"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
