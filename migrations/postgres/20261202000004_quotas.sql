-- An administrator's limits for one account; a NULL follows the instance's default
-- (QUOTA_IMAGES_PER_DAY, QUOTA_ACTIVE_JOBS, QUOTA_STORAGE_BYTES). 0 is no limit.
CREATE TABLE account_quotas (
    user_id         TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    images_per_day  BIGINT,
    active_jobs     BIGINT,
    storage_bytes   BIGINT,
    updated_at      BIGINT NOT NULL
);
