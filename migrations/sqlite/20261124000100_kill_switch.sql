-- The kill switch's source of truth: each agent's last kill time, the kill
-- history, and revoked token ids (until the token expires). Redis holds a
-- fast copy and is refilled from these tables when it comes back empty.

ALTER TABLE agents ADD COLUMN killed_at INTEGER;

CREATE TABLE agent_kills (
    id             TEXT PRIMARY KEY,
    agent_id       TEXT NOT NULL REFERENCES agents (id),
    killed_at      INTEGER NOT NULL,
    killed_by      TEXT NOT NULL,
    reason         TEXT NOT NULL,
    restored_at    INTEGER,
    restored_by    TEXT,
    restore_reason TEXT
);
CREATE INDEX agent_kills_agent_id ON agent_kills (agent_id);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
