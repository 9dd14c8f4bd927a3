"""An HTTPS proxy on 127.0.0.1 for the notify benchmark, so that apprise's plugins that
hard-code their service's host (Telegram, Pushover, Pushbullet, Google Chat, Zulip's
zulipchat.com) can be measured without leaving the machine: it answers CONNECT for any host,
terminates TLS itself with a certificate from a throwaway CA (the client trusts it through
REQUESTS_CA_BUNDLE), and answers every request as bench/receiver.rs does. Nothing is
forwarded anywhere.

usage: python3 tlsproxy.py CERT KEY PORTFILE
"""
import socket
import ssl
import sys
import threading

# One answer every service's client accepts (the fields each looks for, side by side).
BODY = (
    b'{"ok":true,"result":"success","status":1,"request":"r1","active":true,'
    b'"iden":"p1","type":"note","id":1,"msg":"","event_id":"$e1","room_id":"!r:x",'
    b'"success":true,"code":200,"message":"success","name":"spaces/A/messages/m1"}'
)
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


def headers(f):
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            return length
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip() or 0)


def serve(conn, ctx):
    with conn:
        f = conn.makefile("rb")
        if not f.readline().startswith(b"CONNECT "):
            return
        headers(f)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with ctx.wrap_socket(conn, server_side=True) as tls:
            r = tls.makefile("rb")
            while r.readline():
                r.read(headers(r))
                tls.sendall(REPLY)


def main():
    cert, key, port_file = sys.argv[1:4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    with open(port_file, "w") as f:
        f.write(str(listener.getsockname()[1]))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, ctx), daemon=True).start()


main()
