"""A small CRM API that trusts Warrant: every request's bearer token is
introspected (RFC 7662) at Warrant, with the CRM's own resource-server
credentials, on every call.

    GET /contacts/<id>   needs scope contacts:read

Configuration (environment):
    WARRANT_URL          Warrant's base URL, e.g. http://127.0.0.1:8080
    CRM_AUDIENCE         this API's audience URI as registered in Warrant
    CRM_CLIENT_ID        the client_id POST /admin/v1/resources returned
    CRM_CLIENT_SECRET    the client_secret it returned
    CRM_LISTEN           host:port to listen on (default 127.0.0.1:8081; port 0 picks one)

It fails closed: when Warrant cannot be asked, or answers anything but a
well-formed 200, the request is refused with 503, never let through. It
keeps no cache of introspection answers, so a kill in Warrant takes effect
at the next request.
"""

import functools
import logging
import os

import requests
from flask import Flask, g, jsonify, request

CONTACTS = {
    "1": {"id": "1", "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0001"},
    "2": {"id": "2", "name": "Alan Turing", "email": "alan@example.com", "phone": "+44 20 7946 0002"},
}

log = logging.getLogger("crm")


class WarrantUnavailable(Exception):
    """Warrant could not give an answer we can trust."""


def create_app(warrant_url=None, audience=None, client_id=None, client_secret=None, timeout=5.0):
    env = os.environ
    warrant_url = (warrant_url or env["WARRANT_URL"]).rstrip("/")
    audience = audience or env["CRM_AUDIENCE"]
    credentials = (client_id or env["CRM_CLIENT_ID"], client_secret or env["CRM_CLIENT_SECRET"])
    http = requests.Session()
    app = Flask(__name__)

    def introspect(token):
        try:
            response = http.post(
                f"{warrant_url}/oauth2/introspect",
                data={"token": token, "token_type_hint": "access_token"},
                auth=credentials,
                timeout=timeout,
            )
        except requests.RequestException as error:
            raise WarrantUnavailable(f"introspection failed: {type(error).__name__}") from None
        if response.status_code != 200:
            raise WarrantUnavailable(f"introspection answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise WarrantUnavailable("introspection answered something other than JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            raise WarrantUnavailable("introspection answer has no boolean 'active'")
        return answer

    def for_us(answer):
        aud = answer.get("aud")
        return aud == audience or (isinstance(aud, list) and audience in aud)

    def refuse(status, error, description, **params):
        challenge = 'Bearer realm="crm"'
        if error:
            challenge += f', error="{error}", error_description="{description}"'
        for name, value in params.items():
            challenge += f', {name}="{value}"'
        response = jsonify(error=error or "unauthorized", error_description=description)
        response.status_code = status
        response.headers["WWW-Authenticate"] = challenge
        return response

    def requires(scope):
        def decorator(view):
            @functools.wraps(view)
            def guarded(*args, **kwargs):
                scheme, _, token = request.headers.get("Authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return refuse(401, None, "a bearer token is required")
                try:
                    answer = introspect(token.strip())
                except WarrantUnavailable as error:
                    log.error("refusing %s %s: %s", request.method, request.path, error)
                    response = jsonify(
                        error="temporarily_unavailable", error_description="the authorization server cannot be reached"
                    )
                    response.status_code = 503
                    response.headers["Retry-After"] = "1"
                    return response
                if answer["active"] is not True or not for_us(answer):
                    return refuse(401, "invalid_token", "the token is not active for this API")
                if scope not in str(answer.get("scope", "")).split():
                    return refuse(403, "insufficient_scope", f"{scope} is required", scope=scope)
                g.token = answer
                return view(*args, **kwargs)

            return guarded

        return decorator

    @app.get("/contacts/<contact_id>")
    @requires("contacts:read")
    def contact(contact_id):
        found = CONTACTS.get(contact_id)
        if found is None:
            return jsonify(error="not_found"), 404
        log.info("agent %s read contact %s", g.token.get("sub"), contact_id)
        return jsonify(found)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def main():
    from werkzeug.serving import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    host, _, port = os.environ.get("CRM_LISTEN", "127.0.0.1:8081").rpartition(":")
    server = make_server(host or "127.0.0.1", int(port), create_app(), threaded=True)
    print(f"CRM listening on http://{server.host}:{server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
