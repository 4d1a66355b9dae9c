-- Accounts. Ids are TEXT (UUIDv7), times BIGINT milliseconds since the epoch.
CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    -- lower-cased email: accounts are unique case-insensitively
    email_normalized  TEXT NOT NULL UNIQUE,
    display_name      TEXT,
    password_hash     TEXT,
    email_verified_at BIGINT,
    is_admin          BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at       BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
