-- Security: token expiry and last use, the audit hash chain, and requests to
-- change identity fields that only staff may change.

ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;

-- Each event's place in the chain, the hash of the one before it, and its own
-- hash over both; NULL only until its transaction commits.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain_seq);

-- The newest event of the chain; its row lock orders concurrent sealers.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- A person's request to change their own identity fields, which an operator
-- approves (the change is then made as theirs) or rejects.
CREATE TABLE contact_change_requests (
    id                    TEXT PRIMARY KEY,
    contact_id            TEXT NOT NULL REFERENCES contacts (id),
    changes               TEXT NOT NULL,
    reason                TEXT,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by          TEXT NOT NULL,
    decided_by            TEXT,
    decision_comment      TEXT,
    created_at            TEXT NOT NULL,
    decided_at            TEXT
);
CREATE INDEX contact_change_requests_status ON contact_change_requests (status, id);
CREATE INDEX contact_change_requests_contact ON contact_change_requests (contact_id, id);
