"""A small real SMTP server for integration tests. Standard library only.

It speaks enough ESMTP for libcurl's SMTP client (EHLO, STARTTLS, AUTH PLAIN
and LOGIN, MAIL/RCPT/DATA with SIZE, BODY=8BITMIME and SMTPUTF8) and records
every accepted message, so tests can assert on what the daemon really sent.

    sink = SmtpSink(reject_rcpt={"bad@example.com"}).start()
    ...  # point the daemon at 127.0.0.1:sink.port
    msgs = sink.wait_for(1, timeout=10)
    sink.stop()

Each recorded message is a dict:
    mail_from   envelope sender (str, without the angle brackets)
    rcpt_to     accepted envelope recipients (list of str)
    mail_params MAIL FROM parameters, upper-cased keys (dict, value or None)
    data        message bytes, dot-unstuffed, final CRLF.CRLF removed
    tls         whether the session was encrypted (bool)
    auth_user   authenticated user name, or None
    helo        the name given in EHLO/HELO

Run this file directly for a self-test against smtplib.
"""

import base64
import binascii
import os
import re
import socket
import socketserver
import ssl
import subprocess
import threading

# RFC 5321 allows 998 characters plus CRLF; a little slack keeps the check
# about gross violations rather than off-by-one arguments.
LINE_LIMIT = 1000
MAX_MESSAGE_SIZE = 10 * 1024 * 1024
CONN_TIMEOUT = 30.0
SERVER_NAME = "localhost"

_MAIL_RE = re.compile(r"FROM:\s*<([^>]*)>\s*(.*)", re.IGNORECASE | re.DOTALL)
_RCPT_RE = re.compile(r"TO:\s*<([^>]*)>\s*(.*)", re.IGNORECASE | re.DOTALL)


class _Disconnect(Exception):
    """The peer went away (EOF, reset, timeout or TLS failure)."""


class _TooLong:
    """Sentinel returned by the line reader for an over-long line."""


def make_self_signed(dirpath):
    """Create a throwaway certificate for localhost / 127.0.0.1.

    Returns (cert_path, key_path)."""
    cert = os.path.join(dirpath, "smtp-cert.pem")
    key = os.path.join(dirpath, "smtp-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cert, key


def _normalise_reject(x):
    if x is None or callable(x):
        return x
    if isinstance(x, str):
        x = [x]
    return frozenset(a.lower() for a in x)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, sink):
        self.sink = sink
        super().__init__(addr, _Session)

    def handle_error(self, request, client_address):
        # A broken test client must not spam tracebacks into the test log;
        # sessions already swallow the expected network errors.
        pass


class _Session(socketserver.BaseRequestHandler):
    """One SMTP connection. The socket is read by hand rather than through
    a file object so that STARTTLS can drop any pipelined plaintext before
    switching to TLS."""

    def setup(self):
        self.sink = self.server.sink
        self.sock = self.request
        self.sock.settimeout(CONN_TIMEOUT)
        self.buf = bytearray()
        self.overlong = False
        self.tls = False
        self.helo = None
        self.auth_user = None
        self._reset_transaction()
        self.sink._register(self)

    def finish(self):
        self.sink._unregister(self)
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle(self):
        try:
            if self.sink.implicit_tls:
                self._wrap_tls()
            self._reply(220, f"{SERVER_NAME} ESMTP smtp_sink ready")
            while self._command():
                pass
        except _Disconnect:
            pass

    # -- I/O -------------------------------------------------------------

    def _reply(self, code, *lines):
        lines = lines or ("",)
        out = []
        for i, text in enumerate(lines):
            sep = " " if i == len(lines) - 1 else "-"
            out.append(f"{code}{sep}{text}\r\n")
        try:
            self.sock.sendall("".join(out).encode("utf-8"))
        except OSError as e:
            raise _Disconnect() from e

    def _readline(self):
        """Return one line including its terminator, or _TooLong."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                if self.overlong:
                    self.overlong = False
                    return _TooLong
                if len(line.rstrip(b"\r\n")) > LINE_LIMIT:
                    return _TooLong
                return line
            if len(self.buf) > LINE_LIMIT + 2:
                # Keep memory bounded; the rest of the line is discarded.
                self.overlong = True
                self.buf.clear()
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                raise _Disconnect() from e
            if not chunk:
                raise _Disconnect()
            self.buf += chunk

    def _wrap_tls(self):
        try:
            self.sock = self.sink._ssl_context.wrap_socket(
                self.sock, server_side=True)
        except (OSError, ValueError) as e:
            raise _Disconnect() from e
        self.tls = True

    # -- protocol --------------------------------------------------------

    def _reset_transaction(self):
        self.mail_from = None
        self.mail_params = {}
        self.rcpt_to = []

    def _command(self):
        line = self._readline()
        if line is _TooLong:
            self._reply(500, "5.5.2 Line too long")
            return True
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        arg = arg.strip()
        handler = getattr(self, "_do_" + verb, None) if verb.isalpha() else None
        if handler is None:
            self._reply(502, "5.5.2 Command not recognized")
            return True
        return handler(arg) is not False

    def _do_EHLO(self, arg):
        if not arg:
            self._reply(501, "5.5.4 EHLO requires a domain")
            return
        self.helo = arg
        self._reset_transaction()
        sink = self.sink
        lines = [f"{SERVER_NAME} greets {arg}",
                 "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                 f"SIZE {MAX_MESSAGE_SIZE}"]
        if sink._ssl_context is not None and not self.tls:
            lines.append("STARTTLS")
        if sink.auth is not None and (self.tls or not sink.require_starttls):
            lines.append("AUTH PLAIN LOGIN")
        self._reply(250, *lines)

    def _do_HELO(self, arg):
        if not arg:
            self._reply(501, "5.5.4 HELO requires a domain")
            return
        self.helo = arg
        self._reset_transaction()
        self._reply(250, SERVER_NAME)

    def _do_NOOP(self, arg):
        self._reply(250, "2.0.0 OK")

    def _do_RSET(self, arg):
        self._reset_transaction()
        self._reply(250, "2.0.0 OK")

    def _do_QUIT(self, arg):
        self._reply(221, "2.0.0 Bye")
        return False

    def _do_STARTTLS(self, arg):
        if self.sink._ssl_context is None:
            self._reply(502, "5.5.1 STARTTLS not available")
            return
        if self.tls:
            self._reply(503, "5.5.1 TLS already active")
            return
        if arg:
            self._reply(501, "5.5.4 STARTTLS takes no arguments")
            return
        self._reply(220, "2.0.0 Ready to start TLS")
        # Anything the client sent after STARTTLS in plaintext must not be
        # honoured inside the TLS session (RFC 3207 section 4.2).
        self.buf.clear()
        self.overlong = False
        self._wrap_tls()
        self.helo = None
        self.auth_user = None
        self._reset_transaction()

    def _do_AUTH(self, arg):
        sink = self.sink
        if sink.auth is None:
            self._reply(502, "5.5.1 AUTH not available")
            return
        if sink.require_starttls and not self.tls:
            self._reply(530, "5.7.0 Must issue a STARTTLS command first")
            return
        if self.auth_user is not None:
            self._reply(503, "5.5.1 Already authenticated")
            return
        if self.mail_from is not None:
            self._reply(503, "5.5.1 AUTH not permitted during a mail transaction")
            return
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        initial = initial.strip() or None
        try:
            if mech == "PLAIN":
                user, password = self._auth_plain(initial)
            elif mech == "LOGIN":
                user, password = self._auth_login(initial)
            else:
                self._reply(504, "5.5.4 Unrecognized authentication type")
                return
        except ValueError as e:
            self._reply(501, f"5.5.2 {e}")
            return
        expected = sink.auth.get(user)
        if expected is None or expected != password:
            self._reply(535, "5.7.8 Authentication credentials invalid")
            return
        self.auth_user = user
        self._reply(235, "2.7.0 Authentication successful")

    def _challenge(self, prompt):
        """Send a 334 challenge and return the decoded response."""
        self._reply(334, base64.b64encode(prompt).decode("ascii"))
        line = self._readline()
        if line is _TooLong:
            raise ValueError("Authentication line too long")
        return _b64(line.strip().decode("ascii", errors="replace"))

    def _auth_plain(self, initial):
        raw = _b64(initial) if initial is not None else self._challenge(b"")
        parts = raw.split(b"\0")
        if len(parts) != 3:
            raise ValueError("Malformed PLAIN response")
        return parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")

    def _auth_login(self, initial):
        user = _b64(initial) if initial is not None else self._challenge(b"Username:")
        password = self._challenge(b"Password:")
        return user.decode("utf-8", "replace"), password.decode("utf-8", "replace")

    def _do_MAIL(self, arg):
        sink = self.sink
        if self.helo is None:
            self._reply(503, "5.5.1 Send EHLO/HELO first")
            return
        if sink.require_starttls and not self.tls:
            self._reply(530, "5.7.0 Must issue a STARTTLS command first")
            return
        if sink.auth is not None and self.auth_user is None:
            self._reply(530, "5.7.0 Authentication required")
            return
        if self.mail_from is not None:
            self._reply(503, "5.5.1 Nested MAIL command")
            return
        m = _MAIL_RE.fullmatch(arg)
        if not m:
            self._reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
            return
        params = {}
        for item in m.group(2).split():
            key, eq, value = item.partition("=")
            params[key.upper()] = value if eq else None
        for key, value in params.items():
            if key == "SIZE":
                if value is None or not value.isdigit():
                    self._reply(501, "5.5.4 Bad SIZE parameter")
                    return
                if int(value) > MAX_MESSAGE_SIZE:
                    self._reply(552, "5.3.4 Message size exceeds fixed limit")
                    return
            elif key == "BODY":
                if (value or "").upper() not in ("7BIT", "8BITMIME"):
                    self._reply(501, "5.5.4 Bad BODY parameter")
                    return
            elif key == "SMTPUTF8":
                if value is not None:
                    self._reply(501, "5.5.4 SMTPUTF8 takes no value")
                    return
            elif key == "AUTH":
                # libcurl adds AUTH=<> after authenticating; it is advisory.
                pass
            else:
                self._reply(555, f"5.5.4 Unsupported parameter {key}")
                return
        self.mail_from = m.group(1)
        self.mail_params = params
        self._reply(250, "2.1.0 OK")

    def _do_RCPT(self, arg):
        if self.mail_from is None:
            self._reply(503, "5.5.1 Need MAIL before RCPT")
            return
        m = _RCPT_RE.fullmatch(arg)
        if not m or not m.group(1):
            self._reply(501, "5.5.4 Syntax: RCPT TO:<address>")
            return
        addr = m.group(1)
        if self.sink._is_rejected(addr):
            with self.sink._cond:
                self.sink.rcpt_rejections.append(addr)
            self._reply(550, "5.1.1 mailbox unavailable")
            return
        self.rcpt_to.append(addr)
        self._reply(250, "2.1.5 OK")

    def _do_DATA(self, arg):
        if self.mail_from is None or not self.rcpt_to:
            self._reply(503, "5.5.1 Need MAIL and RCPT before DATA")
            return
        self._reply(354, "End data with <CR><LF>.<CR><LF>")
        lines = []
        size = 0
        too_long = too_big = False
        while True:
            line = self._readline()
            if line is _TooLong:
                too_long = True
                continue
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > MAX_MESSAGE_SIZE:
                too_big = True
            elif not too_long:
                lines.append(line)
        envelope = (self.mail_from, self.rcpt_to, self.mail_params)
        self._reset_transaction()
        if too_long:
            self._reply(500, "5.5.2 Line too long")
            return
        if too_big:
            self._reply(552, "5.3.4 Message size exceeds fixed limit")
            return
        data = b"".join(lines)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        self.sink._record({
            "mail_from": envelope[0],
            "rcpt_to": list(envelope[1]),
            "mail_params": dict(envelope[2]),
            "data": data,
            "tls": self.tls,
            "auth_user": self.auth_user,
            "helo": self.helo,
        })
        self._reply(250, "2.0.0 OK: queued")


def _b64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Invalid base64 data") from None


class SmtpSink:
    """SMTP server on a background thread that records accepted messages."""

    def __init__(self, host="127.0.0.1", port=0, *, starttls_cert=None,
                 starttls_key=None, require_starttls=False,
                 implicit_tls=False, auth=None, reject_rcpt=None):
        self.host = host
        self._requested_port = port
        self.require_starttls = require_starttls
        self.implicit_tls = implicit_tls
        self.auth = dict(auth) if auth is not None else None
        self.messages = []
        self.rcpt_rejections = []
        self._cond = threading.Condition()
        self._reject = _normalise_reject(reject_rcpt)
        self._server = None
        self._thread = None
        self._conns = set()
        self._ssl_context = None
        if starttls_cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(starttls_cert, starttls_key)
            self._ssl_context = ctx
        if (implicit_tls or require_starttls) and self._ssl_context is None:
            raise ValueError("implicit_tls/require_starttls need starttls_cert")

    # -- lifecycle -------------------------------------------------------

    def start(self):
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"smtp_sink:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        # Cut live sessions too, so a stopped sink really is unreachable.
        with self._cond:
            conns = list(self._conns)
        for session in conns:
            session.abort()
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        if self._server is not None:
            return self._server.server_address[1]
        return self._requested_port

    @property
    def url(self):
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    # -- test-facing helpers ----------------------------------------------

    def set_reject_rcpt(self, x):
        """Replace the rejection rule: None, an address set or a callable."""
        with self._cond:
            self._reject = _normalise_reject(x)

    def wait_for(self, n, timeout=10.0):
        """Wait until at least n messages arrived; return a copy of the list
        (possibly shorter than n if the timeout expired)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= n, timeout)
            return list(self.messages)

    # -- called from sessions ----------------------------------------------

    def _is_rejected(self, addr):
        with self._cond:
            rule = self._reject
        if rule is None:
            return False
        if callable(rule):
            return bool(rule(addr))
        return addr.lower() in rule

    def _record(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def _register(self, session):
        with self._cond:
            self._conns.add(session)

    def _unregister(self, session):
        with self._cond:
            self._conns.discard(session)


# -- self-test ----------------------------------------------------------------

def _self_test():
    import smtplib
    import tempfile

    def expect(cond, what):
        if not cond:
            raise AssertionError(what)

    msg = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"

    # Plain delivery, plus the error paths that do not need a transaction.
    with SmtpSink() as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
            s.ehlo("client.test")
            feats = s.esmtp_features
            expect("8bitmime" in feats and "smtputf8" in feats and "size" in feats,
                   f"extensions: {feats}")
            expect("pipelining" not in feats and "starttls" not in feats
                   and "auth" not in feats, f"unexpected extensions: {feats}")
            expect(s.docmd("FROB")[0] == 502, "unknown command")
            expect(s.docmd("NOOP", "x" * 1100)[0] == 500, "long command line")
            expect(s.noop()[0] == 250, "noop after long line")
            expect(s.rcpt("b@example.com")[0] == 503, "RCPT before MAIL")
            s.sendmail("a@example.com", ["b@example.com", "c@example.com"], msg)
            # 8BITMIME / SMTPUTF8 parameters and a UTF-8 address.
            s.sendmail("ä@example.com", ["b@example.com"],
                       "Subject: ü\r\n\r\nnon-ascii ü\r\n".encode("utf-8"),
                       mail_options=["BODY=8BITMIME", "SMTPUTF8"])
            long_line = b"Subject: long\r\n\r\n" + b"x" * 1200 + b"\r\n"
            try:
                s.sendmail("a@example.com", ["b@example.com"], long_line)
                raise AssertionError("over-long data line accepted")
            except smtplib.SMTPDataError as e:
                expect(e.smtp_code == 500, f"long data line code {e.smtp_code}")
        msgs = sink.wait_for(2, 5)
        expect(len(msgs) == 2, f"plain: {len(msgs)} messages")
        m = msgs[0]
        expect(m["mail_from"] == "a@example.com", m)
        expect(m["rcpt_to"] == ["b@example.com", "c@example.com"], m)
        expect(m["data"] == msg[:-2], m["data"])
        expect(m["tls"] is False and m["auth_user"] is None, m)
        expect(m["helo"] == "client.test", m)
        m = msgs[1]
        expect(m["mail_from"] == "ä@example.com", m)
        # smtplib adds SIZE= on its own because SIZE is advertised.
        expect(m["mail_params"] == {"SIZE": "29", "BODY": "8BITMIME",
                                    "SMTPUTF8": None}, m)
        expect(m["data"] == "Subject: ü\r\n\r\nnon-ascii ü".encode("utf-8"), m)

        # Clients vanishing mid-session must not disturb the server.
        for chunk in (b"EHLO x\r\nMAIL FROM:<a@x>\r\n",
                      b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\npart",
                      b"EHLO x\r\n" + b"y" * 5000):
            with socket.create_connection(("127.0.0.1", sink.port), timeout=5) as c:
                c.recv(1024)
                c.sendall(chunk)
        # Two concurrent sessions.
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s1, \
                smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s2:
            s1.ehlo()
            s2.ehlo()
            s1.mail("one@example.com")
            s2.sendmail("two@example.com", ["b@example.com"], b"two\r\n")
            s1.rcpt("b@example.com")
            s1.data(b"one\r\n")
        msgs = sink.wait_for(4, 5)
        expect(len(msgs) == 4, f"after disconnects: {len(msgs)} messages")
        expect({m["mail_from"] for m in msgs[2:]}
               == {"one@example.com", "two@example.com"}, msgs[2:])

    # Recipient rejection, then acceptance after changing the rule.
    with SmtpSink(reject_rcpt={"bad@example.com"}) as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
            try:
                s.sendmail("a@example.com", ["bad@example.com"], msg)
                raise AssertionError("rejected recipient accepted")
            except smtplib.SMTPRecipientsRefused as e:
                code, text = e.recipients["bad@example.com"]
                expect(code == 550 and text == b"5.1.1 mailbox unavailable",
                       e.recipients)
            refused = s.sendmail("a@example.com",
                                 ["good@example.com", "BAD@example.com"], msg)
            expect(list(refused) == ["BAD@example.com"], refused)
            sink.set_reject_rcpt(None)
            s.sendmail("a@example.com", ["bad@example.com"], msg)
            sink.set_reject_rcpt(lambda a: a.startswith("no"))
            expect(s.rcpt("nobody@example.com")[0] == 503, "RCPT after RSET")
            s.mail("a@example.com")
            expect(s.rcpt("nobody@example.com")[0] == 550, "callable rule")
            s.rset()
        msgs = sink.wait_for(2, 5)
        expect([m["rcpt_to"] for m in msgs]
               == [["good@example.com"], ["bad@example.com"]], msgs)
        expect(sink.rcpt_rejections
               == ["bad@example.com", "BAD@example.com", "nobody@example.com"],
               sink.rcpt_rejections)

    with tempfile.TemporaryDirectory() as tmp:
        cert, key = make_self_signed(tmp)
        client_ctx = ssl.create_default_context(cafile=cert)

        # STARTTLS required, then AUTH PLAIN and AUTH LOGIN.
        users = {"alice": "s3cret"}
        with SmtpSink(starttls_cert=cert, starttls_key=key,
                      require_starttls=True, auth=users) as sink:
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
                s.ehlo("tls.test")
                expect(s.has_extn("starttls") and not s.has_extn("auth"),
                       s.esmtp_features)
                code, text = s.mail("a@example.com")
                expect(code == 530 and text == b"5.7.0 Must issue a STARTTLS command first",
                       (code, text))
                s.starttls(context=client_ctx)
                s.ehlo("tls.test")
                expect(s.has_extn("auth") and not s.has_extn("starttls"),
                       s.esmtp_features)
                expect(s.mail("a@example.com")[0] == 530, "MAIL before AUTH")
                try:
                    s.login("alice", "wrong")
                    raise AssertionError("bad password accepted")
                except smtplib.SMTPAuthenticationError as e:
                    expect(e.smtp_code == 535, e)
                s.user, s.password = "alice", "s3cret"
                s.auth("PLAIN", s.auth_plain, initial_response_ok=False)
                s.sendmail("a@example.com", ["b@example.com"], msg)
            for initial in (True, False):
                with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
                    s.starttls(context=client_ctx)
                    s.ehlo()
                    s.user, s.password = "alice", "s3cret"
                    s.auth("LOGIN", s.auth_login, initial_response_ok=initial)
                    s.sendmail("a@example.com", ["b@example.com"], msg)
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
                s.starttls(context=client_ctx)
                s.login("alice", "s3cret")  # PLAIN with initial response
                s.sendmail("a@example.com", ["b@example.com"], msg)
            msgs = sink.wait_for(4, 5)
            expect(len(msgs) == 4, f"starttls: {len(msgs)} messages")
            for m in msgs:
                expect(m["tls"] is True and m["auth_user"] == "alice", m)
                expect(m["data"] == msg[:-2], m)
            expect(msgs[0]["helo"] == "tls.test", msgs[0])

        # Implicit TLS, and dot-unstuffing on the same connection.
        with SmtpSink(starttls_cert=cert, starttls_key=key,
                      implicit_tls=True) as sink:
            expect(sink.url == f"smtps://127.0.0.1:{sink.port}", sink.url)
            dotted = (b"Subject: dots\r\n\r\n.leading dot\r\nmiddle\r\n"
                      b"..two dots\r\n.\r\nend")
            with smtplib.SMTP_SSL("127.0.0.1", sink.port, timeout=10,
                                  context=client_ctx) as s:
                s.ehlo()
                expect(not s.has_extn("starttls"), s.esmtp_features)
                s.sendmail("a@example.com", ["b@example.com"], msg)
                s.sendmail("a@example.com", ["b@example.com"], dotted)
            msgs = sink.wait_for(2, 5)
            expect(len(msgs) == 2, f"implicit tls: {len(msgs)} messages")
            expect(all(m["tls"] for m in msgs), msgs)
            expect(msgs[0]["data"] == msg[:-2], msgs[0])
            expect(msgs[1]["data"] == dotted, msgs[1]["data"])

    # A stopped sink refuses connections.
    sink = SmtpSink().start()
    port = sink.port
    sink.stop()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        raise AssertionError("stopped sink still accepts connections")
    except ConnectionRefusedError:
        pass

    print("smtp_sink self-test: ok")


if __name__ == "__main__":
    _self_test()
