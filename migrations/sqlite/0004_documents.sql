-- Uploaded credentialing documents: metadata, the verification queue (claimed
-- under a lease like the outbox), the agent's report and the extracted text.
CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    subject_kind      TEXT NOT NULL CHECK (subject_kind IN ('project', 'expert')),
    subject_id        TEXT NOT NULL,
    doc_type          TEXT NOT NULL,
    filename          TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL,
    sha256            TEXT NOT NULL,
    status            TEXT NOT NULL,
    uploaded_by       TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_until       TEXT,
    report            TEXT,
    pages             TEXT,
    expires_on        TEXT,
    decided_by        TEXT,
    decision_comment  TEXT,
    decided_at        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
-- The same bytes for the same subject are one document.
CREATE UNIQUE INDEX documents_subject_sha ON documents (subject_kind, subject_id, sha256);
CREATE INDEX documents_status ON documents (status, created_at);
CREATE INDEX documents_subject ON documents (subject_kind, subject_id, doc_type);

-- The credentials an expert must hold, like project_documents for projects.
CREATE TABLE expert_documents (
    expert_id   TEXT NOT NULL REFERENCES contacts (id),
    doc_type    TEXT NOT NULL,
    status      TEXT NOT NULL,
    decided_by  TEXT,
    comment     TEXT,
    decided_at  TEXT,
    PRIMARY KEY (expert_id, doc_type)
);
