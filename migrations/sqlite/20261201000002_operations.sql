-- The operations page and /metrics count the jobs that failed recently, by reason.
CREATE INDEX jobs_finished ON jobs (status, finished_at);
