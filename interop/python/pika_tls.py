"""pika 1.2 over TLS (interop/tls.test.mjs runs it): a PLAIN login and an EXTERNAL login with a
client certificate, each publishing and getting back a message; with EXPECT=refused, the
EXTERNAL login must be refused.

Environment: TLS_HOST, TLS_PORT, TLS_CA, TLS_CERT, TLS_KEY (PEM files), MODE (plain|external),
EXPECT (ok|refused), USER_ID (the user an EXTERNAL login should end up as).
"""
import os
import ssl
import sys
import uuid

import pika
import pika.credentials
import pika.exceptions

env = os.environ
MODE = env["MODE"]
EXPECT = env.get("EXPECT", "ok")

context = ssl.create_default_context(cafile=env["TLS_CA"])
context.load_cert_chain(env["TLS_CERT"], env["TLS_KEY"])
credentials = (
    pika.credentials.ExternalCredentials() if MODE == "external" else pika.PlainCredentials("guest", "guest")
)
params = pika.ConnectionParameters(
    host=env["TLS_HOST"],
    port=int(env["TLS_PORT"]),
    credentials=credentials,
    ssl_options=pika.SSLOptions(context, server_hostname="localhost"),
    connection_attempts=1,
)

try:
    conn = pika.BlockingConnection(params)
except pika.exceptions.ProbableAuthenticationError as e:
    if EXPECT == "refused":
        print("refused as expected: %r" % (e,))
        print("OK")
        sys.exit(0)
    raise
if EXPECT == "refused":
    raise AssertionError("EXTERNAL login was not refused")

ch = conn.channel()
q = ch.queue_declare("", exclusive=True).method.queue
body = uuid.uuid4().bytes
# user_id must be the logged-in user's name, or the broker closes the channel: this proves
# that an EXTERNAL login became the certificate's CN.
props = pika.BasicProperties(user_id=env.get("USER_ID", "guest"))
ch.basic_publish("", q, body, props)
got = None
for _ in range(200):
    method, header, got = ch.basic_get(q, auto_ack=True)
    if method:
        break
    conn.sleep(0.01)
assert got == body, "message lost over TLS"
assert header.user_id == env.get("USER_ID", "guest")
print("%s login over TLS published and got a message" % MODE)
conn.close()
print("OK")
