-- The kill switch's source of truth: each agent's last kill time, the kill
-- history, and revoked token ids (until the token expires). Redis holds a
-- fast copy and is refilled from these tables when it comes back empty.

ALTER TABLE agents ADD COLUMN killed_at BIGINT;

CREATE TABLE agent_kills (
    id             TEXT PRIMARY KEY,
    agent_id       TEXT NOT NULL REFERENCES agents (id),
    killed_at      BIGINT NOT NULL,
    killed_by      TEXT NOT NULL,
    reason         TEXT NOT NULL,
    restored_at    BIGINT,
    restored_by    TEXT,
    restore_reason TEXT
);
CREATE INDEX agent_kills_agent_id ON agent_kills (agent_id);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
