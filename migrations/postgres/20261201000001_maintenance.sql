-- Maintenance: one run of a task at a time across every server process and the command
-- line (a lease per task, taken with a conditional upsert and given up at the end; a
-- holder that crashed loses it when it expires), and the record of each run.
CREATE TABLE maintenance_leases (
    name       TEXT PRIMARY KEY NOT NULL,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE maintenance_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    task        TEXT NOT NULL,
    -- 'server' (the schedule) or 'command' (avatar-studio cleanup)
    trigger     TEXT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- the report, as the command prints it
    summary     TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX maintenance_runs_started ON maintenance_runs (started_at);
