-- Issue 19 §3: one prompt sent to several models at once is one batch; each of its jobs
-- carries the batch's id, so that the results are shown side by side and kept or trashed
-- together.
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
CREATE INDEX jobs_batch ON jobs (batch_id);
