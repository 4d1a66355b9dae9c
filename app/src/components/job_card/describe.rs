//! What a job card says, as plain Rust (tested here): the title, the stage, how long it
//! has taken, the attempt and model, when the next retry is due, and why it failed.

use chrono::{DateTime, Utc};
use model::{Image, ImageFailure, ImageStatus, Job};

use crate::live::{duration, stage_label};

/// The words of one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardText {
    pub label: String,
    pub stage: &'static str,
    pub elapsed: String,
    pub attempt: Option<String>,
    pub model: Option<String>,
    pub retry: Option<String>,
    pub failure: Option<ImageFailure>,
}

/// The card's title: the image's, else "New image" (its details may not be read yet).
pub fn title(image: Option<&Image>) -> String {
    image.map_or_else(|| "New image".to_owned(), Image::label)
}

/// Describes a job at `now` (the page's clock, which ticks while jobs run).
pub fn describe(job: &Job, image: Option<&Image>, now: DateTime<Utc>) -> CardText {
    let start = job.started_at.unwrap_or(job.created_at);
    let end = job.finished_at.unwrap_or(now);
    CardText {
        label: title(image),
        stage: stage_label(job),
        elapsed: duration((end - start).num_seconds()),
        attempt: (job.attempt > 0)
            .then(|| format!("Attempt {} of {}", job.attempt, job.max_attempts)),
        model: (!job.model.is_empty()).then(|| format!("{} · {}", job.provider.label(), job.model)),
        retry: job
            .next_attempt_at
            .filter(|_| job.status == ImageStatus::Pending)
            .map(|at| {
                format!(
                    "Next attempt in {}",
                    duration((at - now).num_seconds().max(0))
                )
            }),
        failure: job
            .error
            .clone()
            .filter(|_| job.status == ImageStatus::Error),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use model::ProviderId;

    use super::*;

    fn job(status: ImageStatus) -> Job {
        Job {
            id: "j1".to_owned(),
            image_id: "i1".to_owned(),
            character_id: None,
            set_avatar: false,
            status,
            seq: 1,
            attempt: 1,
            max_attempts: 4,
            provider: ProviderId::Gemini,
            model: "gemini-2.5-flash-image".to_owned(),
            error: None,
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            started_at: None,
            finished_at: None,
            next_attempt_at: None,
            batch_id: None,
            cost: None,
        }
    }

    #[test]
    fn a_running_job_counts_from_its_start_to_now() {
        let mut j = job(ImageStatus::Generating);
        j.started_at = Some(j.created_at + Duration::seconds(10));
        let now = j.created_at + Duration::seconds(85);
        let text = describe(&j, None, now);
        assert_eq!(text.label, "New image");
        assert_eq!(text.stage, "Generating");
        assert_eq!(text.elapsed, "1 min 15 s");
        assert_eq!(text.attempt.as_deref(), Some("Attempt 1 of 4"));
        assert_eq!(
            text.model.as_deref(),
            Some("Google Gemini · gemini-2.5-flash-image")
        );
        assert_eq!((text.retry, text.failure), (None, None));
    }

    #[test]
    fn a_finished_job_stops_the_clock() {
        let mut j = job(ImageStatus::Completed);
        j.finished_at = Some(j.created_at + Duration::seconds(42));
        let text = describe(&j, None, j.created_at + Duration::hours(3));
        assert_eq!(text.elapsed, "42 s");
        assert_eq!(text.stage, "Done");
    }

    #[test]
    fn a_waiting_retry_says_when_and_a_failure_says_why() {
        let mut j = job(ImageStatus::Pending);
        let now = j.created_at + Duration::seconds(30);
        j.attempt = 2;
        j.next_attempt_at = Some(now + Duration::seconds(20));
        let text = describe(&j, None, now);
        assert_eq!(text.stage, "Waiting to retry");
        assert_eq!(text.retry.as_deref(), Some("Next attempt in 20 s"));
        // Overdue: never a negative wait.
        let late = describe(&j, None, now + Duration::minutes(1));
        assert_eq!(late.retry.as_deref(), Some("Next attempt in 0 s"));

        let failure = ImageFailure {
            code: "invalid_key".to_owned(),
            message: "Gemini refused the API key.".to_owned(),
        };
        let mut failed = job(ImageStatus::Error);
        failed.error = Some(failure.clone());
        failed.next_attempt_at = Some(now);
        let text = describe(&failed, None, now);
        assert_eq!(text.failure, Some(failure));
        assert_eq!(text.retry, None);
        // A job not yet tried has no attempt to show, and a job without a model no model.
        let mut fresh = job(ImageStatus::Pending);
        fresh.attempt = 0;
        fresh.model = String::new();
        let text = describe(&fresh, None, now);
        assert_eq!((text.attempt, text.model), (None, None));
    }
}
