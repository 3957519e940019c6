"""An AI agent that gets its access tokens from Warrant with the
client-credentials grant, authenticating with private_key_jwt (RFC 7523)
through authlib, and uses them to read the CRM.

    python agent.py keygen            create the agent's EC P-256 key, print its public JWK Set
    python agent.py jwks              print the public JWK Set (for POST /admin/v1/agents {"jwks": ...})
    python agent.py token             get a token and print Warrant's answer
    python agent.py contact ID        get a token and read a contact from the CRM

Configuration (environment):
    WARRANT_URL          Warrant's base URL, e.g. http://127.0.0.1:8080
    AGENT_KEY_FILE       the agent's private key, PEM (default agent-key.pem)
    AGENT_CLIENT_ID      the client_id Warrant gave the agent (token, contact)
    AGENT_RESOURCE       the audience of the system to reach (RFC 8707 resource)
    AGENT_SCOPE          the scopes to ask for (default contacts:read)
    CRM_URL              the CRM's base URL (contact)
"""

import json
import os
import sys

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import ECKey


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """authlib's private_key_jwt with ES256, the key's `kid`, and assertions
    that expire after 60 s instead of authlib's default hour. authlib adds
    iss = sub = client_id, aud = the token endpoint, iat, exp and a fresh
    `jti` for each request. (Do not pass `claims=` to PrivateKeyJWT: authlib
    stores the first `jti` in that dict and would send it again, a replay
    that Warrant refuses.)"""

    alg = "ES256"
    lifetime = 60

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            header={"kid": auth.client_secret.kid},
            alg=self.alg,
            expires_in=self.lifetime,
        )


def generate_key():
    """A new EC P-256 key whose `kid` is its RFC 7638 thumbprint."""
    return ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)


def load_key(path):
    with open(path, "rb") as f:
        key = ECKey.import_key(f.read(), parameters={"use": "sig", "alg": "ES256"})
    key.ensure_kid()  # the RFC 7638 thumbprint, as generate_key gave it
    return key


def save_key(key, path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.as_pem(private=True))


def public_jwks(key):
    """The JWK Set an operator registers for this agent: the public key only."""
    jwk = key.as_dict(private=False)
    jwk.update(kid=key.kid, use="sig", alg="ES256")
    return {"keys": [jwk]}


class Agent:
    def __init__(self, warrant_url, client_id, key):
        metadata = requests.get(f"{warrant_url.rstrip('/')}/.well-known/oauth-authorization-server", timeout=5)
        metadata.raise_for_status()
        self.token_endpoint = metadata.json()["token_endpoint"]
        key.ensure_kid()
        self.oauth = OAuth2Session(client_id, key, token_endpoint_auth_method="private_key_jwt")
        self.oauth.register_client_auth_method(ShortLivedPrivateKeyJWT(self.token_endpoint))

    def fetch_token(self, resource, scope):
        """A fresh access token for one resource (no refresh tokens: agents ask again).
        A refusal raises authlib's OAuthError, whose `error` is the RFC 6749 code."""
        return self.oauth.fetch_token(
            self.token_endpoint, grant_type="client_credentials", resource=resource, scope=scope, timeout=5
        )

    def get(self, url, token):
        return requests.get(url, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=5)


def main(argv):
    env = os.environ
    command = argv[1] if len(argv) > 1 else "help"
    key_file = env.get("AGENT_KEY_FILE", "agent-key.pem")
    if command == "keygen":
        key = generate_key()
        save_key(key, key_file)
        print(json.dumps(public_jwks(key), indent=2))
    elif command == "jwks":
        print(json.dumps(public_jwks(load_key(key_file)), indent=2))
    elif command in ("token", "contact"):
        agent = Agent(env["WARRANT_URL"], env["AGENT_CLIENT_ID"], load_key(key_file))
        try:
            token = agent.fetch_token(env["AGENT_RESOURCE"], env.get("AGENT_SCOPE", "contacts:read"))
        except OAuthError as refused:  # e.g. invalid_client once the agent is killed
            print(f"Warrant refused a token: {refused.error}: {refused.description}", file=sys.stderr)
            return 1
        if command == "token":
            print(json.dumps(dict(token), indent=2))
        else:
            contact_id = argv[2] if len(argv) > 2 else "1"
            response = agent.get(f"{env['CRM_URL'].rstrip('/')}/contacts/{contact_id}", token)
            print(response.status_code, response.text.strip())
            return 0 if response.ok else 1
    else:
        print(__doc__)
        return 0 if command == "help" else 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
