#!/usr/bin/env python3
"""Reference client for heidi-tray's local API (docs/ipc.md), standard library only.

Use it as a module (HeidiTray) or from the command line:

    python3 heidi_tray.py status
    python3 heidi_tray.py open --email dr.a@clinic.example --user-id 42 --patient-id P-1 --patient-name "Jane Citizen"
    python3 heidi_tray.py follow --store chart.jsonl --cursor cursor.txt
    python3 heidi_tray.py open --email dr.a@clinic.example --user-id 42 --emr-server https://emr.clinic.example/heidi-token
    python3 heidi_tray.py tokens --emr-server https://emr.clinic.example/heidi-token

With token_source = emr (docs/token-service.md) the EMR brings the clinician's JWT: `open
--emr-server URL` first asks the EMR's own server (which holds the Heidi key) for the token and
passes it in the open request; `tokens` follows /v1/events and answers every token_needed event
with POST /v1/token. The token never goes into a URL or a command line on this machine.

`follow` is the loop an EMR needs to file every note exactly once: at start and after every
reconnect it files every unacknowledged note (GET /v1/notes, page by page), then follows
/v1/events from its cursor. Each note is claimed (so a second EMR process leaves it alone), filed
idempotently by note id (here: a JSON-lines "chart" that is checked before writing), and only then
acknowledged; the cursor is saved after that. A crash at any point files nothing twice and loses
nothing. A note that carries a `warning`, or names no patient, is never filed automatically: it is
set aside for a person (here: a JSON-lines review file) and stays unacknowledged until someone
files it by hand. A real EMR also compares patient_id, patient_name and patient_dob with the chart
before filing.

Linux and macOS use the Unix socket; Windows uses the named pipe (not exercised in CI: see
docs/ipc.md).
"""
import argparse
import http.client
import json
import os
import socket
import sys
import time

API_VERSION = 1


class TrayError(Exception):
    """An error answer of the tray: code (docs/ipc.md), HTTP status, message, retryable."""

    RETRYABLE = {"rate_limited", "heidi_unavailable", "heidi_bad_response", "timeout", "shutting_down",
                 "keychain_unavailable", "token_unavailable"}

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.retryable = code in self.RETRYABLE


class NotRunning(Exception):
    """No tray answers on the endpoint (start it, or wait for it)."""


def default_endpoint():
    if os.environ.get("HEIDI_TRAY_ENDPOINT"):
        return os.environ["HEIDI_TRAY_ENDPOINT"]
    if sys.platform == "win32":
        raise NotRunning("on Windows, pass the pipe name: heidi-tray status --json shows it")
    run = os.environ.get("XDG_RUNTIME_DIR")
    if run:
        return os.path.join(run, "heidi-tray", "ipc.sock")
    base = os.environ.get("TMPDIR", "/tmp") if sys.platform == "darwin" else "/tmp"
    return os.path.join(base, f"heidi-tray-{os.getuid()}", "ipc.sock")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("heidi-tray", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self._path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            s.close()
            raise NotRunning(str(e)) from e
        self.sock = s


class _PipeSocket:
    """Enough of a socket for http.client over a Windows named pipe."""

    def __init__(self, f):
        self._f = f

    def sendall(self, data):
        self._f.write(data)
        self._f.flush()

    def makefile(self, mode, *a, **k):
        return self._f

    def close(self):
        self._f.close()


class _PipeConnection(http.client.HTTPConnection):
    def __init__(self, name, timeout):
        super().__init__("heidi-tray", timeout=timeout)
        self._name = name

    def connect(self):
        try:
            self.sock = _PipeSocket(open(self._name, "r+b", buffering=0))
        except FileNotFoundError as e:
            raise NotRunning(str(e)) from e


class HeidiTray:
    def __init__(self, endpoint=None, timeout=30):
        self.endpoint = endpoint or default_endpoint()
        self.timeout = timeout

    def _conn(self, timeout=None):
        t = self.timeout if timeout is None else timeout
        if self.endpoint.startswith("\\\\.\\pipe\\"):
            return _PipeConnection(self.endpoint, t)
        return _UnixConnection(self.endpoint, t)

    def call(self, method, path, body=None, timeout=None):
        conn = self._conn(timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (ConnectionError, OSError) as e:
            if isinstance(e, NotRunning):
                raise
            raise NotRunning(str(e)) from e
        finally:
            conn.close()
        out = json.loads(raw) if raw else None
        if resp.status != 200:
            err = (out or {}).get("error", {})
            raise TrayError(resp.status, err.get("code", "http"), err.get("message", f"HTTP {resp.status}"))
        return out

    # --- the API ---
    def status(self):
        return self.call("GET", "/v1/status")

    def open(self, email, user_id, region=None, patient=None, encounter_id=None, context=None, token=None):
        """Open Heidi. user_id must be a string; patient is {"id", "name", "dob"?, "gender"?};
        token is (jwt, expires_in_seconds) with token_source emr."""
        body = {"email": str(email), "user_id": str(user_id)}
        if token:
            body["token"], body["token_expires_in"] = str(token[0]), float(token[1])
        if region:
            body["region"] = str(region)
        if patient:
            body["patient"] = {k: str(v) for k, v in patient.items() if v is not None}
        if encounter_id:
            body["encounter_id"] = str(encounter_id)
        if context:
            body["context"] = str(context)
        return self.call("POST", "/v1/open", body)

    def provide_token(self, clinician, jwt, expires_in):
        """Answer a token_needed event: clinician is the event's {"email", "user_id", "region"}."""
        body = {"email": clinician["email"], "user_id": clinician["user_id"], "region": clinician["region"],
                "token": str(jwt), "expires_in": float(expires_in)}
        return self.call("POST", "/v1/token", body)

    def window(self):
        return self.call("GET", "/v1/window")

    def notes(self, after=0):
        return self.call("GET", f"/v1/notes?after={int(after)}")

    def ack(self, note_id, owner=None):
        return self.call("POST", f"/v1/notes/{note_id}/ack", {"owner": owner} if owner else {})

    def claim(self, note_id, owner, lease_seconds=60):
        return self.call("POST", f"/v1/notes/{note_id}/claim", {"owner": owner, "lease_seconds": lease_seconds})

    def events(self, after=None):
        """Yield events (dicts) until the stream ends; after=SEQ replays pending notes first.

        A heartbeat comes every 15 s: a read that waits 45 s ends the stream (NotRunning)."""
        conn = self._conn(timeout=45)
        path = "/v1/events" + (f"?after={int(after)}" if after is not None else "")
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            if resp.status != 200:
                raw = resp.read()
                err = (json.loads(raw) if raw else {}).get("error", {})
                raise TrayError(resp.status, err.get("code", "http"), err.get("message", ""))
            for line in resp:
                line = line.strip()
                if line:
                    yield json.loads(line)
        except (ConnectionError, OSError, http.client.HTTPException) as e:
            if isinstance(e, NotRunning):
                raise
            raise NotRunning(str(e)) from e
        finally:
            conn.close()


class Chart:
    """A stand-in for the EMR's database: JSON lines, one filed note each, unique by note id."""

    def __init__(self, path):
        self.path = path
        self.ids = set()
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        self.ids.add(json.loads(line)["id"])

    def file(self, note):
        if note["id"] in self.ids:
            return False  # filed before a crash: not again
        rec = {"id": note["id"], "seq": note["seq"], "launch_id": note["launch_id"], "patient_id": note["patient_id"],
               "patient_name": note.get("patient_name", ""), "encounter_id": note.get("encounter_id", ""),
               "text": note["text"]}
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.ids.add(note["id"])
        return True


def _save_cursor(path, seq):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(seq))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def follow(tray, chart, cursor_path, owner, review_path=None, log=lambda *a: None):
    """File every note exactly once, forever; survives restarts of the tray and of this process."""
    cursor = int(open(cursor_path).read().strip() or 0) if os.path.exists(cursor_path) else 0
    review_path = review_path or chart.path + ".review"
    set_aside = set()
    skipped = False  # a note another process held: look again at the next heartbeat
    delay = 0.2

    def handle(note):
        nonlocal cursor, skipped
        if note["id"] in set_aside:
            return
        try:
            tray.claim(note["id"], owner, lease_seconds=60)
        except TrayError as e:
            if e.code == "claimed":
                skipped = True  # another EMR process is filing it (or crashed: its lease runs out)
                return
            if e.code != "not_found":  # not_found: acknowledged meanwhile
                raise
            return
        if note.get("warning") or not note.get("patient_id"):
            # Never filed automatically: a person decides where it goes.
            with open(review_path, "a") as f:
                f.write(json.dumps({"id": note["id"], "why": note.get("warning") or "no patient", "note": note}) + "\n")
            set_aside.add(note["id"])
            log("set aside for a person:", note["id"], note.get("warning") or "no patient")
        else:
            chart.file(note)
            try:
                tray.ack(note["id"], owner)
            except TrayError as e:
                if e.code != "not_found":  # already acknowledged and removed: fine
                    raise
        if note["seq"] > cursor:
            cursor = note["seq"]
            _save_cursor(cursor_path, cursor)

    while True:
        try:
            # Everything unacknowledged, whatever the cursor says (another
            # process or a crash may have left some behind), page by page:
            # the next page starts after the last note received.
            skipped = False
            after = 0
            while True:
                page = tray.notes(after=after)
                for note in page["notes"]:
                    handle(note)
                if len(page["notes"]) < 500:
                    break
                after = page["notes"][-1]["seq"]
            for ev in tray.events(after=cursor):
                delay = 0.2
                if ev["type"] == "note":
                    handle(ev["note"])
                elif ev["type"] in ("dropped", "shutdown") or (ev["type"] == "heartbeat" and skipped):
                    break  # reconnect from the cursor (and list what is pending again)
        except NotRunning:
            time.sleep(delay)
            delay = min(delay * 2, 5)
        except TrayError as e:
            log("tray error:", e)
            time.sleep(1 if e.retryable else 5)


def token_from_emr_server(url, email, user_id, region):
    """Ask the EMR's own server for the clinician's Heidi JWT. In a real EMR this call carries the
    EMR's own sign-in; here the server answers {"token", "expires_in"}."""
    import urllib.parse
    import urllib.request
    q = urllib.parse.urlencode({"email": email, "user_id": user_id, "region": region or ""})
    with urllib.request.urlopen(url + "?" + q, timeout=20) as resp:
        out = json.loads(resp.read())
    return out["token"], out["expires_in"]


def answer_token_requests(tray, emr_server, only_email=None, log=lambda *a: None):
    """Answer token_needed events for as long as the tray runs (reconnecting when it restarts).
    only_email: answer only for the clinician signed in to the EMR on this workstation."""
    delay = 0.2
    while True:
        try:
            for ev in tray.events():
                delay = 0.2
                if ev["type"] != "token_needed":
                    continue
                c = ev["clinician"]
                if only_email and c["email"].lower() != only_email.lower():
                    log("not answering token_needed for another clinician:", c["email"])
                    continue
                try:
                    tok = token_from_emr_server(emr_server, c["email"], c["user_id"], c["region"])
                    tray.provide_token(c, *tok)
                    log("token provided for", c["email"])  # never log the token itself
                except (OSError, ValueError, KeyError, TrayError) as e:
                    log("could not provide a token:", e)
        except NotRunning:
            time.sleep(delay)
            delay = min(delay * 2, 5)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", help="socket path or pipe name (default: this user's)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    sub.add_parser("window")
    o = sub.add_parser("open")
    o.add_argument("--email", required=True)
    o.add_argument("--user-id", required=True)
    o.add_argument("--region")
    o.add_argument("--patient-id")
    o.add_argument("--patient-name")
    o.add_argument("--patient-dob")
    o.add_argument("--encounter-id")
    o.add_argument("--emr-server", help="token_source emr: get the clinician's token from this URL first")
    tk = sub.add_parser("tokens")
    tk.add_argument("--emr-server", required=True, help="the EMR server URL that answers with a clinician's token")
    tk.add_argument("--clinician", help="answer only for this email (the clinician signed in to the EMR)")
    f = sub.add_parser("follow")
    f.add_argument("--store", required=True, help="JSON-lines file standing in for the EMR's chart")
    f.add_argument("--cursor", required=True, help="file keeping the last note sequence number filed")
    # Stable across restarts, so a restarted follower can finish what it claimed.
    f.add_argument("--owner", default=f"{socket.gethostname()}-{os.environ.get('USER', os.getuid() if hasattr(os, 'getuid') else 'emr')}")
    f.add_argument("--review", help="JSON-lines file for notes a person must file (default: STORE.review)")
    a = p.parse_args(argv)
    tray = HeidiTray(a.endpoint)
    try:
        if a.cmd == "status":
            st = tray.status()
            if st.get("api_version") != API_VERSION:
                print(f"warning: this client speaks API version {API_VERSION}, the tray {st.get('api_version')}", file=sys.stderr)
            print(json.dumps(st, indent=2))
        elif a.cmd == "window":
            print(json.dumps(tray.window(), indent=2))
        elif a.cmd == "open":
            patient = None
            if a.patient_id:
                patient = {"id": a.patient_id, "name": a.patient_name, "dob": a.patient_dob}
            token = token_from_emr_server(a.emr_server, a.email, a.user_id, a.region) if a.emr_server else None
            print(json.dumps(tray.open(a.email, a.user_id, a.region, patient, a.encounter_id, token=token), indent=2))
        elif a.cmd == "tokens":
            answer_token_requests(tray, a.emr_server, a.clinician, log=lambda *m: print(*m, file=sys.stderr, flush=True))
        elif a.cmd == "follow":
            follow(tray, Chart(a.store), a.cursor, a.owner, a.review, log=lambda *m: print(*m, file=sys.stderr, flush=True))
    except NotRunning as e:
        print(f"heidi-tray is not running ({e})", file=sys.stderr)
        return 3
    except TrayError as e:
        print(f"heidi-tray: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
