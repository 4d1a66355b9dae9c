-- Abuse limits shared by every server process (used with PostgreSQL; kept in step here).
-- One row per limited key: the theoretical arrival time of its next request (GCRA), in
-- milliseconds since the epoch. A row whose time has passed has fully recovered.
CREATE TABLE rate_limits (
    key  TEXT PRIMARY KEY NOT NULL,
    tat  INTEGER NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

-- Where each session signed in from (the client address, through TRUSTED_PROXIES).
ALTER TABLE sessions ADD COLUMN ip TEXT;
