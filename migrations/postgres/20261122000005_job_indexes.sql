-- The dispatcher counts running jobs per person and per provider for every candidate:
-- these make each count touch only the running rows.
CREATE INDEX jobs_user_status ON jobs (user_id, status);
CREATE INDEX jobs_provider_status ON jobs (provider, status);
