-- Every column that holds one of a fixed set of values (the enums of `model`) is checked
-- by the database itself, so that no value the code cannot read is ever stored. The sets
-- must equal `ImageStatus::ALL`, `ImageKind::ALL`, `ProviderId::ALL`, `KeyProvider::ALL`,
-- `Purpose` and `Trigger` (a test compares them with the enums and with the SQLite schema).
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password'));
ALTER TABLE provider_keys ADD CONSTRAINT provider_keys_provider_check
    CHECK (provider IN ('openai', 'gemini'));
ALTER TABLE images ADD CONSTRAINT images_kind_check
    CHECK (kind IN ('generated', 'uploaded', 'imported'));
ALTER TABLE images ADD CONSTRAINT images_status_check
    CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled'));
ALTER TABLE images ADD CONSTRAINT images_provider_check
    CHECK (provider IN ('builtin', 'openai', 'gemini'));
ALTER TABLE jobs ADD CONSTRAINT jobs_provider_check
    CHECK (provider IN ('builtin', 'openai', 'gemini'));
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled'));
ALTER TABLE job_stages ADD CONSTRAINT job_stages_status_check
    CHECK (status IN ('pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled'));
ALTER TABLE provider_files ADD CONSTRAINT provider_files_provider_check
    CHECK (provider IN ('builtin', 'openai', 'gemini'));
ALTER TABLE maintenance_runs ADD CONSTRAINT maintenance_runs_trigger_check
    CHECK (trigger IN ('server', 'command'));
