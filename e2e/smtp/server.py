"""An SMTP server for the e-mail tests: aiosmtpd (Debian's python3-aiosmtpd) on a free
loopback port, requiring STARTTLS (with the certificate and key given) and then AUTH
with the one account given, and writing each message it accepts, as received, to
OUTBOX/<n>.eml, and as Python's mail parser reads it to OUTBOX/<n>.eml.json. Prints `listening PORT` once it listens; stops on SIGTERM.

usage: server.py CERT KEY USER PASSWORD OUTBOX
"""
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, user, password, outbox = sys.argv[1:6]


class Keep:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Keep.count += 1
        path = os.path.join(outbox, f"{Keep.count}.eml")
        with open(path + ".part", "wb") as f:
            f.write(envelope.original_content)
        os.replace(path + ".part", path)
        # The same message as a mail reader decodes it (Python's own parser).
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        decoded = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "content_type": message.get_content_type(),
            "body": message.get_content(),
        }
        with open(path + ".json.part", "w", encoding="utf-8") as f:
            json.dump(decoded, f)
        os.replace(path + ".json.part", path + ".json")
        return "250 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password.encode()
    )
    return AuthResult(success=ok)


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Keep(),
    hostname="127.0.0.1",
    port=port,
    server_hostname="localhost",
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
    auth_require_tls=True,
)
controller.start()
print(f"listening {port}", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
controller.stop()
