-- Real connectors. An expert's Atlassian account is what Jira access is
-- granted to (project role membership).
ALTER TABLE contacts ADD COLUMN atlassian_account_id TEXT;

-- Effects of a contact outside any project (an expert's CRM record) keep their
-- order per contact, as a project's do per project: the ordering key is the
-- scope, the project's id or `contact:<id>`.
ALTER TABLE outbox ADD COLUMN contact_id TEXT;
ALTER TABLE outbox ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE outbox SET scope = COALESCE(project_id, '');
CREATE INDEX outbox_scope ON outbox (scope, lane, seq);

-- Records made in a tool by the hub ('out': a comment it posted) or taken from
-- a tool into the hub ('in': a comment made a helpdesk message), so a webhook
-- never echoes the hub's own change back and a retried webhook counts once.
CREATE TABLE external_events (
    tool         TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    direction    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tool, external_id)
);

-- Consultation form responses taken as intakes, once each.
CREATE TABLE form_responses (
    response_id  TEXT PRIMARY KEY,
    form_id      TEXT,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    contact_id   TEXT NOT NULL REFERENCES contacts (id),
    received_at  TEXT NOT NULL
);
