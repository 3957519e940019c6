-- Governance: two-person approval (the approvals recorded so far and how
-- many a grant needs), and last use of agents, grants and credentials,
-- kept by the audit writer in the same commit as the token.issued event.

ALTER TABLE grants ADD COLUMN approvals TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grants ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1;
ALTER TABLE grants ADD COLUMN last_used_at INTEGER;
ALTER TABLE agents ADD COLUMN last_token_at INTEGER;
ALTER TABLE agents ADD COLUMN last_token_resource TEXT;
ALTER TABLE credentials ADD COLUMN last_used_at INTEGER;
CREATE INDEX agents_created ON agents (created_at, id);
CREATE INDEX grants_resource_id ON grants (resource_id);
