-- Operators, protected resources and their scope catalogue, agents, client
-- credentials, grants, and the seen client-assertion ids (RFC 7523 replay).
-- Times are whole seconds since the Unix epoch (UTC).

CREATE TABLE operators (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    roles       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE resources (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    audience    TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE resource_scopes (
    resource_id TEXT NOT NULL REFERENCES resources (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    data_class  TEXT NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (resource_id, name)
);

CREATE TABLE agents (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    platform          TEXT NOT NULL,
    vendor            TEXT NOT NULL,
    owner             TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    environment       TEXT NOT NULL,
    acts_on_behalf_of TEXT NOT NULL,
    tags              TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX agents_platform ON agents (platform);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    client_kind TEXT NOT NULL,
    method      TEXT NOT NULL,
    secret_hash BYTEA,
    jwks        TEXT,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
CREATE INDEX credentials_client_id ON credentials (client_id);

CREATE TABLE grants (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL REFERENCES agents (id),
    resource_id   TEXT NOT NULL REFERENCES resources (id),
    scopes        TEXT NOT NULL,
    justification TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    denied_by     TEXT,
    denied_at     BIGINT,
    revoked_by    TEXT,
    revoked_at    BIGINT,
    expires_at    BIGINT NOT NULL,
    max_token_ttl BIGINT
);
CREATE INDEX grants_agent_id ON grants (agent_id);

CREATE TABLE assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX assertion_jtis_expires_at ON assertion_jtis (expires_at);
