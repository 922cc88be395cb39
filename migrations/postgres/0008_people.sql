-- People who sign in to the pages: users with a role (expert and client users
-- speak for their contact), one-time invitations by which they set a
-- password, and server-side sessions.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    -- Lower-cased, so one address is one account however it is typed.
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'expert', 'client')),
    contact_id     TEXT REFERENCES contacts (id),
    -- argon2id PHC string; NULL until an invitation is accepted.
    password_hash  TEXT,
    -- 'pl' or 'en'; NULL: the browser's Accept-Language decides.
    locale         TEXT,
    disabled_at    TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX users_contact ON users (contact_id);

CREATE TABLE invitations (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    -- SHA-256 of the link's secret: the secret itself is never stored.
    token_hash     TEXT NOT NULL UNIQUE,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT,
    revoked_at     TEXT
);
CREATE INDEX invitations_user ON invitations (user_id, created_at);

CREATE TABLE web_sessions (
    -- SHA-256 of the cookie's secret.
    id_hash        TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    csrf_token     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- When each project entered its current state, so the console can show
-- those waiting longest; the last change stands in for older projects.
ALTER TABLE projects ADD COLUMN state_since TEXT;
UPDATE projects SET state_since = updated_at;
CREATE INDEX projects_state_since ON projects (state, state_since);
