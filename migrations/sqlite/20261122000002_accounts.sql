-- Sessions, access tokens, email tokens and provider keys. Every token is stored as the
-- hex SHA-256 of the value the person holds; the value itself is never stored.

-- Browser sessions (server side of the session cookie).
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the session library's record data, as JSON
    data          TEXT NOT NULL,
    user_agent    TEXT,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Personal access tokens for /api/v1.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- the first characters of the token, shown so that people can tell tokens apart
    prefix        TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    expires_at    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

-- Single-use tokens sent by mail: email verification and password reset.
CREATE TABLE email_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'verify_email' or 'reset_password'
    purpose       TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

-- Provider API keys, encrypted: version byte, nonce, AES-256-GCM ciphertext.
CREATE TABLE provider_keys (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    ciphertext    BLOB NOT NULL,
    last4         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, provider)
);
