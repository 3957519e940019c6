-- The audit trail: append-only events, each hash-chained to the previous
-- one. audit_head holds the chain's last seq and hash; every append locks
-- it first (an UPDATE), so that one chain is kept whatever the number of
-- instances writing.

CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    agent_id  TEXT,
    resource  TEXT,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_events_agent_id ON audit_events (agent_id, seq);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
