-- Every column that holds one of a fixed set of values (the enums of `model`) is checked
-- by the database itself, so that no value the code cannot read is ever stored. SQLite
-- cannot add a CHECK to a table, so each table is rebuilt: its rows are kept in a
-- temporary table, the old tables are dropped children first (so that dropping a parent
-- finds no child row to cascade to: sqlx runs SQLite migrations in a transaction, where
-- foreign keys cannot be switched off), made again with their checks, and filled again.
-- The sets must equal `ImageStatus::ALL`, `ImageKind::ALL`, `ProviderId::ALL`,
-- `KeyProvider::ALL`, `Purpose` and `Trigger` (a test compares them with the enums and
-- with the PostgreSQL schema).

-- 1. The rows, kept aside.
CREATE TEMP TABLE keep_email_tokens AS SELECT * FROM email_tokens;
CREATE TEMP TABLE keep_provider_keys AS SELECT * FROM provider_keys;
CREATE TEMP TABLE keep_images AS SELECT * FROM images;
CREATE TEMP TABLE keep_image_variants AS SELECT * FROM image_variants;
CREATE TEMP TABLE keep_jobs AS SELECT * FROM jobs;
CREATE TEMP TABLE keep_job_stages AS SELECT * FROM job_stages;
CREATE TEMP TABLE keep_provider_files AS SELECT * FROM provider_files;
CREATE TEMP TABLE keep_maintenance_runs AS SELECT * FROM maintenance_runs;

-- 2. The old tables, children before their parents.
DROP TABLE job_stages;
DROP TABLE provider_files;
DROP TABLE image_variants;
DROP TABLE jobs;
DROP TABLE images;
DROP TABLE email_tokens;
DROP TABLE provider_keys;
DROP TABLE maintenance_runs;

-- 3. The tables again, with their checks, and their rows (parents first).
CREATE TABLE email_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose       TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
INSERT INTO email_tokens (id, user_id, purpose, token_hash, created_at, expires_at, used_at)
    SELECT id, user_id, purpose, token_hash, created_at, expires_at, used_at FROM keep_email_tokens;
DROP TABLE keep_email_tokens;
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

CREATE TABLE provider_keys (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL CHECK (provider IN ('openai', 'gemini')),
    ciphertext    BLOB NOT NULL,
    last4         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, provider)
);
INSERT INTO provider_keys (user_id, provider, ciphertext, last4, created_at, updated_at)
    SELECT user_id, provider, ciphertext, last4, created_at, updated_at FROM keep_provider_keys;
DROP TABLE keep_provider_keys;

CREATE TABLE images (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('generated', 'uploaded', 'imported')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled')),
    collection_id  TEXT REFERENCES collections (id) ON DELETE SET NULL,
    character_id   TEXT REFERENCES characters (id) ON DELETE SET NULL,
    parent_id      TEXT REFERENCES images (id) ON DELETE SET NULL,
    title          TEXT,
    prompt         TEXT,
    revised_prompt TEXT,
    provider       TEXT CHECK (provider IN ('builtin', 'openai', 'gemini')),
    model          TEXT,
    params         TEXT,
    seed           INTEGER,
    width          INTEGER,
    height         INTEGER,
    mime_type      TEXT,
    bytes          INTEGER,
    sha256         TEXT,
    source_url     TEXT,
    storage_key    TEXT,
    error_code     TEXT,
    error_message  TEXT,
    favorite       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER,
    missing_at     INTEGER,
    generation     TEXT
);
INSERT INTO images (id, user_id, kind, status, collection_id, character_id, parent_id, title, prompt, revised_prompt, provider, model, params, seed, width, height, mime_type, bytes, sha256, source_url, storage_key, error_code, error_message, favorite, created_at, updated_at, deleted_at, missing_at, generation)
    SELECT id, user_id, kind, status, collection_id, character_id, parent_id, title, prompt, revised_prompt, provider, model, params, seed, width, height, mime_type, bytes, sha256, source_url, storage_key, error_code, error_message, favorite, created_at, updated_at, deleted_at, missing_at, generation FROM keep_images;
DROP TABLE keep_images;
CREATE INDEX images_user ON images (user_id, id);
CREATE INDEX images_user_collection ON images (user_id, collection_id, id);
CREATE INDEX images_user_character ON images (user_id, character_id, id);
CREATE INDEX images_deleted ON images (deleted_at);

CREATE TABLE image_variants (    image_id       TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    spec           TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    mime_type      TEXT NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    PRIMARY KEY (image_id, spec)
);
INSERT INTO image_variants (image_id, spec, storage_key, mime_type, width, height, bytes, created_at, last_used_at)
    SELECT image_id, spec, storage_key, mime_type, width, height, bytes, created_at, last_used_at FROM keep_image_variants;
DROP TABLE keep_image_variants;
CREATE INDEX image_variants_used ON image_variants (last_used_at);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    image_id         TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    character_id     TEXT REFERENCES characters (id) ON DELETE SET NULL,
    set_avatar       BOOLEAN NOT NULL DEFAULT FALSE,
    provider         TEXT NOT NULL CHECK (provider IN ('builtin', 'openai', 'gemini')),
    model            TEXT NOT NULL,
    request          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled')),
    seq              INTEGER NOT NULL DEFAULT 0,
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    error_code       TEXT,
    error_message    TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    updated_at       INTEGER NOT NULL
);
INSERT INTO jobs (id, user_id, image_id, character_id, set_avatar, provider, model, request, status, seq, attempt, max_attempts, next_attempt_at, lease_owner, lease_expires_at, cancel_requested, error_code, error_message, created_at, started_at, finished_at, updated_at)
    SELECT id, user_id, image_id, character_id, set_avatar, provider, model, request, status, seq, attempt, max_attempts, next_attempt_at, lease_owner, lease_expires_at, cancel_requested, error_code, error_message, created_at, started_at, finished_at, updated_at FROM keep_jobs;
DROP TABLE keep_jobs;
CREATE INDEX jobs_status_due ON jobs (status, next_attempt_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
CREATE INDEX jobs_user_started ON jobs (user_id, started_at);
CREATE INDEX jobs_image ON jobs (image_id);
CREATE INDEX jobs_user_status ON jobs (user_id, status);
CREATE INDEX jobs_provider_status ON jobs (provider, status);
CREATE INDEX jobs_finished ON jobs (status, finished_at);

CREATE TABLE job_stages (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled')),
    attempt    INTEGER NOT NULL,
    error_code TEXT,
    at         INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);
INSERT INTO job_stages (job_id, seq, status, attempt, error_code, at)
    SELECT job_id, seq, status, attempt, error_code, at FROM keep_job_stages;
DROP TABLE keep_job_stages;

CREATE TABLE provider_files (
    id         TEXT PRIMARY KEY NOT NULL,
    job_id     TEXT REFERENCES jobs (id) ON DELETE SET NULL,
    user_id    TEXT NOT NULL,
    provider   TEXT NOT NULL CHECK (provider IN ('builtin', 'openai', 'gemini')),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
);
INSERT INTO provider_files (id, job_id, user_id, provider, name, created_at, deleted_at)
    SELECT id, job_id, user_id, provider, name, created_at, deleted_at FROM keep_provider_files;
DROP TABLE keep_provider_files;
CREATE INDEX provider_files_open ON provider_files (deleted_at, created_at);

CREATE TABLE maintenance_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    task        TEXT NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('server', 'command')),
    dry_run     BOOLEAN NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    error       TEXT
);
INSERT INTO maintenance_runs (id, task, trigger, dry_run, started_at, finished_at, summary, error)
    SELECT id, task, trigger, dry_run, started_at, finished_at, summary, error FROM keep_maintenance_runs;
DROP TABLE keep_maintenance_runs;
CREATE INDEX maintenance_runs_started ON maintenance_runs (started_at);
