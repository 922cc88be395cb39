-- Orchestration: outbox delivery lanes and owners, offer expiry, the manual
-- credentialing gate, and the built-in connectors' own tables (CRM deals,
-- tracker projects and membership, board cards, notifications), plus receipts
-- that make every built-in delivery idempotent.

-- Effects for one connector are delivered in order per project ("lane").
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
UPDATE outbox SET lane = CASE
    WHEN kind LIKE 'crm_%' THEN 'crm'
    WHEN kind LIKE 'tracker_%' THEN 'tracker'
    WHEN kind LIKE 'board_%' THEN 'board'
    ELSE 'notify' END;
ALTER TABLE outbox ADD COLUMN delivered_by TEXT;
CREATE INDEX outbox_lane ON outbox (project_id, lane, seq);

ALTER TABLE projects ADD COLUMN offered_at TEXT;

-- One row per required document type of a project (the manual credentialing gate).
CREATE TABLE project_documents (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    doc_type    TEXT NOT NULL,
    status      TEXT NOT NULL,
    decided_by  TEXT,
    comment     TEXT,
    decided_at  TEXT,
    PRIMARY KEY (project_id, doc_type)
);

CREATE TABLE connector_receipts (
    idempotency_key  TEXT PRIMARY KEY,
    connector        TEXT NOT NULL,
    result           TEXT,
    applied_at       TEXT NOT NULL
);

CREATE TABLE crm_deals (
    project_id  TEXT PRIMARY KEY REFERENCES projects (id),
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    stage       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE tracker_projects (
    project_id  TEXT PRIMARY KEY REFERENCES projects (id),
    tracker_key TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    deleted_at  TEXT
);

-- Membership is the expert's access to the project's tracker.
CREATE TABLE tracker_members (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    expert_id   TEXT NOT NULL REFERENCES contacts (id),
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (project_id, expert_id)
);

CREATE TABLE board_cards (
    project_id  TEXT PRIMARY KEY REFERENCES projects (id),
    list        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE board_checklist (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    doc_type    TEXT NOT NULL,
    checked     INTEGER NOT NULL,
    PRIMARY KEY (project_id, doc_type)
);

CREATE TABLE board_attachments (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    project_id  TEXT REFERENCES projects (id),
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX notifications_contact ON notifications (contact_id, id);
