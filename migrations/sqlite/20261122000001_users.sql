-- Accounts. Ids are TEXT (UUIDv7), times INTEGER milliseconds since the epoch.
CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    -- lower-cased email: accounts are unique case-insensitively
    email_normalized  TEXT NOT NULL UNIQUE,
    display_name      TEXT,
    password_hash     TEXT,
    email_verified_at INTEGER,
    is_admin          BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
