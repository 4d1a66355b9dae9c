-- The generation pipeline: a durable job queue (one job makes one image), the history of
-- each job's stages, the provider files a job uploaded, and idempotency keys.

-- How a generated image was made: usage, duration, attempts, references (JSON).
ALTER TABLE images ADD COLUMN generation TEXT;

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    image_id         TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    character_id     TEXT REFERENCES characters (id) ON DELETE SET NULL,
    -- whether the character's avatar is set when the job completes
    set_avatar       BOOLEAN NOT NULL DEFAULT FALSE,
    provider         TEXT NOT NULL,
    model            TEXT NOT NULL,
    -- JSON: prompt, size, quality, seed, reference image ids
    request          TEXT NOT NULL,
    -- 'pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled'
    status           TEXT NOT NULL,
    -- grows with every change of state (realtime clients ignore older events)
    seq              INTEGER NOT NULL DEFAULT 0,
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    -- when the job may be claimed (now, or after a retry's delay)
    next_attempt_at  INTEGER NOT NULL,
    -- the worker holding the job, until when (renewed by its heartbeat)
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
-- what the workers look for: due or leased jobs of an active status
CREATE INDEX jobs_status_due ON jobs (status, next_attempt_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
-- the fairness order: whose job started last
CREATE INDEX jobs_user_started ON jobs (user_id, started_at);
CREATE INDEX jobs_image ON jobs (image_id);

-- Every stage a job went through, with its time.
CREATE TABLE job_stages (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    status     TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    error_code TEXT,
    at         INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Files a job uploaded to a provider (Gemini's Files API), deleted when the job ends.
CREATE TABLE provider_files (
    id         TEXT PRIMARY KEY NOT NULL,
    job_id     TEXT REFERENCES jobs (id) ON DELETE SET NULL,
    user_id    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    -- the provider's name for it, e.g. files/abc-123
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX provider_files_open ON provider_files (deleted_at, created_at);

-- `Idempotency-Key` of POST /api/v1/generations: a repeat answers with the same jobs.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    -- SHA-256 of the request, so that a key reused for another request is refused
    request_hash TEXT NOT NULL,
    -- JSON array of the job ids
    job_ids      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
