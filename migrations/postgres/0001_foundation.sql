-- Foundation schema (PostgreSQL). Ids are UUID text, times are fixed-width UTC
-- RFC 3339 text (they sort as text), JSON is stored as text. The SQLite
-- schema mirrors this one column for column.

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('client', 'expert')),
    full_name   TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT,
    legal_name  TEXT,
    tax_id      TEXT,
    properties  TEXT NOT NULL DEFAULT '{}',
    crm_ref     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts (email);
CREATE INDEX contacts_kind ON contacts (kind, id);

CREATE TABLE expert_profiles (
    contact_id   TEXT PRIMARY KEY REFERENCES contacts (id),
    skills       TEXT NOT NULL,
    industries   TEXT NOT NULL,
    languages    TEXT NOT NULL,
    hourly_rate  DOUBLE PRECISION NOT NULL,
    capacity     BIGINT NOT NULL CHECK (capacity > 0),
    rating       DOUBLE PRECISION,
    vetting      TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE projects (
    id                  TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES contacts (id),
    title               TEXT NOT NULL,
    spec                TEXT NOT NULL,
    skills              TEXT NOT NULL,
    industry            TEXT,
    required_documents  TEXT NOT NULL,
    state               TEXT NOT NULL,
    expert_id           TEXT REFERENCES contacts (id),
    baseline            TEXT,
    outcome             TEXT,
    intake              TEXT NOT NULL,
    tracker_ref         TEXT,
    board_ref           TEXT,
    crm_ref             TEXT,
    version             BIGINT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX projects_client ON projects (client_id, id);
CREATE INDEX projects_expert ON projects (expert_id, id);
CREATE INDEX projects_state ON projects (state, id);

-- Experts who declined a project are not offered it again.
CREATE TABLE project_declines (
    project_id   TEXT NOT NULL REFERENCES projects (id),
    expert_id    TEXT NOT NULL REFERENCES contacts (id),
    declined_at  TEXT NOT NULL,
    PRIMARY KEY (project_id, expert_id)
);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    title        TEXT NOT NULL,
    description  TEXT,
    status       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX tasks_project ON tasks (project_id, id);

CREATE TABLE tickets (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL,
    opened_by   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX tickets_project ON tickets (project_id, id);

CREATE TABLE ticket_messages (
    id              TEXT PRIMARY KEY,
    ticket_id       TEXT NOT NULL REFERENCES tickets (id),
    author_role     TEXT NOT NULL,
    author_label    TEXT NOT NULL,
    author_contact  TEXT,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    actor_kind     TEXT NOT NULL,
    actor_label    TEXT NOT NULL,
    actor_contact  TEXT,
    action         TEXT NOT NULL,
    from_state     TEXT,
    to_state       TEXT,
    reason         TEXT,
    details        TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity, entity_id, id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    contact_id  TEXT REFERENCES contacts (id),
    label       TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Side effects, written in the same transaction as the change that asks for
-- them and delivered by workers. `seq` orders a project's effects.
CREATE TABLE outbox (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    project_id       TEXT,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_until      TEXT,
    lease_owner      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_project ON outbox (project_id, seq);
