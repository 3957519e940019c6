"""The Python examples against a live Warrant: the agent (authlib,
private_key_jwt) gets a token and reads the CRM (Flask, introspection);
bad, foreign and under-scoped tokens are refused; the CRM fails closed when
Warrant cannot answer; a kill makes the same token useless at once and
stops the agent getting another.

Run by ci.sh (WARRANT_BIN names the binary). The tests run in file order
against one Warrant, one CRM and one agent; the kill comes last.
"""

import base64
import ctypes
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet

import agent as agent_example
import resource_server

HERE = Path(__file__).resolve().parent
CRM = "https://crm.example.com"
TICKETING = "https://ticketing.example.com"


# --- processes ---------------------------------------------------------------------------------


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# SIGTERM (ci.sh's trap) ends pytest as Ctrl-C does, so the fixtures stop what they started.
signal.signal(signal.SIGTERM, _interrupted)


def _die_with_parent():
    """Linux: the child gets SIGTERM if this test process dies without cleaning up."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Process:
    """A child process whose standard output goes to a file, waited on for its `listening on` line."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.log = Path(workdir) / f"{name}.log"
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        self.url = self._wait_for("listening on http://")

    def _wait_for(self, marker, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if marker in line:
                    return "http://" + line.split(marker, 1)[1].split()[0]
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"{self.name} did not start:\n{self.tail()}")

    def tail(self, lines=40):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _clean_env():
    """This environment without any WARRANT_* setting (so Warrant runs embedded, as configured here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARRANT_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@pytest.fixture(scope="module")
def workdir():
    path = tempfile.mkdtemp(prefix="warrant-python-examples-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


class Warrant:
    def __init__(self, process, admin_id, admin_secret):
        self.process = process
        self.url = process.url
        self.admin_id = admin_id
        self.admin_secret = admin_secret

    def client_token(self, client_id, client_secret, resource="urn:warrant:admin"):
        response = requests.post(
            f"{self.url}/oauth2/token",
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials", "resource": resource},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def admin(self, token, method, path, body=None, expect=200):
        response = requests.request(
            method,
            f"{self.url}/admin/v1{path}",
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def introspect(self, resource_credentials, token):
        response = requests.post(
            f"{self.url}/oauth2/introspect", auth=resource_credentials, data={"token": token}, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def warrant(workdir):
    binary = os.environ.get("WARRANT_BIN") or str(HERE.parents[1] / "target" / "debug" / "warrant")
    assert os.access(binary, os.X_OK), f"no warrant binary at {binary} (run ci.sh, or set WARRANT_BIN)"
    admin_secret = secrets.token_urlsafe(24)
    env = _clean_env() | {
        "WARRANT_LISTEN": "127.0.0.1:0",
        "WARRANT_DATA_DIR": str(workdir / "data"),
        "WARRANT_KEYS_DIR": str(workdir / "keys"),
        "WARRANT_BOOTSTRAP_ADMIN_ID": "admin",
        "WARRANT_BOOTSTRAP_ADMIN_SECRET": admin_secret,
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
    }
    process = Process("warrant", [binary, "serve"], env, workdir)
    yield Warrant(process, "admin", admin_secret)
    process.stop()


@pytest.fixture(scope="module")
def world(warrant, workdir):
    """Everything an operator sets up, through the admin API, as README's walkthrough does."""
    admin = warrant.client_token(warrant.admin_id, warrant.admin_secret)

    def operator(name, role):
        created = warrant.admin(
            admin,
            "POST",
            "/operators",
            {"name": name, "email": f"{name.lower()}@example.com", "roles": [role]},
            expect=201,
        )
        return created, warrant.client_token(created["client_id"], created["client_secret"])

    (rita, rita_token), (abe, abe_token) = operator("Rita", "requester"), operator("Abe", "approver")

    def resource(name, kind, audience, scopes):
        created = warrant.admin(
            admin,
            "POST",
            "/resources",
            {
                "name": name,
                "kind": kind,
                "audience": audience,
                "scopes": [{"name": s, "description": s, "data_class": c} for s, c in scopes],
            },
            expect=201,
        )
        assert created["audience"] == audience and created["client_id"] and created["client_secret"]
        return created

    crm = resource("Contact-centre CRM", "crm", CRM, [("contacts:read", "pii"), ("cases:read", "internal")])
    ticketing = resource("Ticketing", "ticketing", TICKETING, [("tickets:read", "internal")])

    # The agent's key pair: the private key stays with the agent, the public JWK Set goes to Warrant.
    key = agent_example.generate_key()
    agent_file = workdir / "agent-key.pem"
    agent_example.save_key(key, agent_file)
    registered = warrant.admin(
        rita_token,
        "POST",
        "/agents",
        {
            "name": "Python CRM assistant",
            "platform": "internal",
            "vendor": "Example Ltd",
            "owner": "jane.doe@example.com",
            "purpose": "Look up callers in the CRM",
            "environment": "test",
            "acts_on_behalf_of": "customer",
            "tags": ["python-example"],
            "jwks": agent_example.public_jwks(key),
        },
        expect=201,
    )
    assert registered["client_id"], registered
    assert not registered.get("client_secret"), "an agent registered with a jwks gets no secret"

    expires = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for audience, scopes in ((CRM, ["contacts:read", "cases:read"]), (TICKETING, ["tickets:read"])):
        grant = warrant.admin(
            rita_token,
            "POST",
            f"/agents/{registered['id']}/grants",
            {
                "resource": audience,
                "scopes": scopes,
                "justification": "python example",
                "expires_at": expires,
            },
            expect=201,
        )
        assert grant["status"] == "requested" and grant["requested_by"] == rita["id"], grant
        approved = warrant.admin(abe_token, "POST", f"/grants/{grant['id']}/approve")
        assert approved["status"] == "approved" and approved["approved_by"] == abe["id"], approved

    return {
        "admin": admin,
        "agent": registered,
        "agent_key": agent_example.load_key(agent_file),
        "crm": crm,
        "crm_credentials": (crm["client_id"], crm["client_secret"]),
        "ticketing": ticketing,
    }


@pytest.fixture(scope="module")
def crm_url(warrant, world, workdir):
    env = _clean_env() | {
        "WARRANT_URL": warrant.url,
        "CRM_AUDIENCE": CRM,
        "CRM_CLIENT_ID": world["crm"]["client_id"],
        "CRM_CLIENT_SECRET": world["crm"]["client_secret"],
        "CRM_LISTEN": "127.0.0.1:0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    process = Process("crm", [sys.executable, str(HERE / "resource_server.py")], env, workdir)
    yield process.url
    process.stop()


@pytest.fixture(scope="module")
def the_agent(warrant, world):
    return agent_example.Agent(warrant.url, world["agent"]["client_id"], world["agent_key"])


def get_contact(crm_url, contact_id="1", authorization=None):
    headers = {"Authorization": authorization} if authorization else {}
    return requests.get(f"{crm_url}/contacts/{contact_id}", headers=headers, timeout=10)


def bearer(token):
    return f"Bearer {token['access_token']}"


def challenge(response):
    return response.headers.get("WWW-Authenticate", "")


# --- the round trip ----------------------------------------------------------------------------


def test_the_agent_signs_rfc_7523_client_assertions(warrant, world, the_agent):
    # What authlib adds to the token request body, signed by the agent's key.
    def assertion():
        auth = the_agent.oauth.client_auth("private_key_jwt")
        _, _, body = auth.prepare("POST", the_agent.token_endpoint, {}, "grant_type=client_credentials")
        form = dict(urllib.parse.parse_qsl(body))
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        return jwt.decode(form["client_assertion"], world["agent_key"], algorithms=["ES256"])

    first, second = assertion(), assertion()
    client_id = world["agent"]["client_id"]
    assert first.header == {"alg": "ES256", "kid": world["agent_key"].thumbprint(), "typ": "JWT"}
    assert first.claims["iss"] == first.claims["sub"] == client_id
    assert first.claims["aud"] == the_agent.token_endpoint == f"{warrant.url}/oauth2/token"
    assert first.claims["exp"] - first.claims["iat"] == 60
    assert abs(first.claims["iat"] - time.time()) < 5
    assert first.claims["jti"] != second.claims["jti"]


def test_the_agent_gets_a_token_with_private_key_jwt_and_reads_a_contact(warrant, world, crm_url, the_agent):
    token = the_agent.fetch_token(CRM, "contacts:read")
    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == "contacts:read"
    assert 0 < token["expires_in"] <= 300

    # An RFC 9068 access token, signed with a key Warrant publishes, for this agent and this CRM only.
    jwks = KeySet.import_key_set(requests.get(f"{warrant.url}/.well-known/jwks.json", timeout=10).json())
    decoded = jwt.decode(token["access_token"], jwks, algorithms=["ES256", "EdDSA"])
    assert decoded.header["typ"] == "at+jwt"
    claims = decoded.claims
    assert claims["sub"] == claims["client_id"] == world["agent"]["client_id"]
    assert claims["aud"] == CRM and claims["scope"] == "contacts:read"

    response = get_contact(crm_url, "1", bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == resource_server.CONTACTS["1"]
    assert get_contact(crm_url, "99", bearer(token)).status_code == 404

    # Each request signs a new assertion (fresh jti): a second token is not a replay.
    again = the_agent.fetch_token(CRM, "contacts:read")
    assert again["access_token"] != token["access_token"]
    assert get_contact(crm_url, "2", bearer(again)).json()["name"] == "Alan Turing"


def test_no_token_is_401_with_a_bearer_challenge(crm_url):
    for authorization in (None, "Basic YWdlbnQ6c2VjcmV0", "Bearer", "Bearer "):
        response = get_contact(crm_url, "1", authorization)
        assert response.status_code == 401, (authorization, response.text)
        assert challenge(response).startswith("Bearer "), challenge(response)
        assert "error=" not in challenge(response)  # RFC 6750 §3.1: no error code when no token was sent


def test_a_garbage_token_is_401_invalid_token(crm_url):
    forged = ".".join(
        base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=")
        for p in ({"alg": "none", "typ": "at+jwt"}, {"aud": CRM, "scope": "contacts:read"})
    )
    for token in ("garbage", "a.b.c", forged + "."):
        response = get_contact(crm_url, "1", f"Bearer {token}")
        assert response.status_code == 401, (token, response.text)
        assert 'error="invalid_token"' in challenge(response)


def test_a_token_for_another_system_is_401_invalid_token(crm_url, the_agent):
    token = the_agent.fetch_token(TICKETING, "tickets:read")
    response = get_contact(crm_url, "1", bearer(token))
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in challenge(response)


def test_a_token_without_the_scope_is_403_insufficient_scope(crm_url, the_agent):
    token = the_agent.fetch_token(CRM, "cases:read")
    assert token["scope"] == "cases:read"
    response = get_contact(crm_url, "1", bearer(token))
    assert response.status_code == 403, response.text
    assert 'error="insufficient_scope"' in challenge(response)
    assert 'scope="contacts:read"' in challenge(response)


def test_the_agent_cannot_widen_its_access(the_agent):
    with pytest.raises(OAuthError) as refused:
        the_agent.fetch_token(CRM, "contacts:read contacts:write")
    assert refused.value.error == "invalid_scope"


class _Stub(http.server.BaseHTTPRequestHandler):
    """A stand-in Warrant answering introspection with a fixed status and body."""

    answer = (503, b'{"error":"temporarily_unavailable"}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_crm_fails_closed_when_warrant_cannot_answer(world, the_agent):
    token = bearer(the_agent.fetch_token(CRM, "contacts:read"))  # a good token throughout

    def status_with(warrant_url):
        app = resource_server.create_app(warrant_url, CRM, *world["crm_credentials"], timeout=2)
        return app.test_client().get("/contacts/1", headers={"Authorization": token}).status_code

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert status_with(closed) == 503

    # A stand-in Warrant: the CRM takes nothing but a well-formed 200 with "active": true as a yes.
    claims = b'"aud":"%s","scope":"contacts:read"' % CRM.encode()
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}"
    try:
        for answer, expected in [
            ((503, b'{"error":"temporarily_unavailable"}'), 503),
            ((500, b"oops"), 503),
            ((401, b'{"error":"invalid_client"}'), 503),  # the CRM's own credentials were refused
            ((200, b"not json"), 503),
            ((200, b'{"active":"true",%s}' % claims), 503),
            ((200, b'{"active":false,%s}' % claims), 401),
            ((200, b'{"active":true,"aud":"https://elsewhere.example.com","scope":"contacts:read"}'), 401),
            ((200, b'{"active":true,"aud":"%s","scope":"cases:read"}' % CRM.encode()), 403),
            ((200, b'{"active":true,%s}' % claims), 200),
        ]:
            _Stub.answer = answer
            assert status_with(stub_url) == expected, answer
    finally:
        stub.shutdown()
        stub.server_close()


def test_a_kill_makes_the_token_inactive_at_once_and_stops_new_tokens(warrant, world, crm_url, the_agent):
    token = the_agent.fetch_token(CRM, "contacts:read")
    assert get_contact(crm_url, "1", bearer(token)).status_code == 200

    agent_id = world["agent"]["id"]
    killed = warrant.admin(
        world["admin"], "POST", f"/agents/{agent_id}/kill", {"reason": "python example: prompt injection suspected"}
    )
    assert killed["agent_id"] == agent_id and killed["killed_at"], killed
    reached = {r["audience"]: set(r["scopes"]) for r in killed["resources"]}
    assert reached == {CRM: {"contacts:read", "cases:read"}, TICKETING: {"tickets:read"}}, killed

    # The very next request with the same token is refused: no cache, no grace period.
    response = get_contact(crm_url, "1", bearer(token))
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in challenge(response)
    assert warrant.introspect(world["crm_credentials"], token["access_token"]) == {"active": False}

    with pytest.raises(OAuthError) as refused:
        the_agent.fetch_token(CRM, "contacts:read")
    assert refused.value.error == "invalid_client"

    report = warrant.admin(world["admin"], "GET", f"/agents/{agent_id}")
    assert report["status"] == "killed", report


def test_the_crm_refuses_everything_once_warrant_is_gone(warrant, crm_url):
    warrant.process.stop()
    response = get_contact(crm_url, "1", "Bearer anything")
    assert response.status_code == 503, response.text
