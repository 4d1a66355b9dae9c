-- Invitations (SIGNUP=invite): single-use, expiring links an administrator hands out.
-- The link carries a random token; the table holds its SHA-256 only.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    note        TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX invitations_expires ON invitations (expires_at);
