//! Live updates in the browser: one WebSocket per tab (`/ws`), shared by every page through
//! the [`Live`] context.
//!
//! - The connection reconnects with exponential backoff and jitter, and says where it is
//!   ([`Connection`], shown in the header). Going offline closes it; coming back online
//!   reconnects at once.
//! - On every (re)connect, and on `resync`, the active jobs are read afresh before the
//!   events that arrived meanwhile are applied; an event whose `seq` is not newer than what
//!   the page has is ignored ([`JobBook`]), so a late or repeated event never moves a job
//!   backwards.
//! - When the WebSocket cannot be opened at all (a proxy that blocks it), the jobs are
//!   polled instead, and the header says so.
//! - Pages subscribe to changes ([`Live::on_change`]): the gallery to images, the layout to
//!   finished jobs (for notifications), the character page to its avatar.
//!
//! The bookkeeping is plain Rust (tested here); only the connection itself lives in the
//! browser build.
//!
//! Over 500 lines because the tests of the bookkeeping are beside it (about 130 lines).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use model::{Image, ImageEventKind, ImageStatus, Job, JobEvent};

mod toasts;
pub use toasts::{Toast, ToastList};

/// How the tab is connected to the server's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not signed in, or not started yet (the server's render).
    Idle,
    Connecting,
    Live,
    /// Lost; the next attempt is due in this many seconds.
    Reconnecting(u32),
    /// The browser is offline.
    Offline,
    /// WebSockets do not get through: the jobs are polled.
    Polling,
}

impl Connection {
    /// What the header says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "",
            Self::Connecting => "Connecting…",
            Self::Live => "Live",
            Self::Reconnecting(_) => "Reconnecting…",
            Self::Offline => "Offline",
            Self::Polling => "Live updates blocked: checking every few seconds",
        }
    }
}

/// The jobs a page knows of, newest first, and the images they made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobBook {
    pub jobs: Vec<Job>,
    pub images: HashMap<String, Image>,
}

/// What a change did to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Not newer than what the book has: ignored.
    Stale,
    Updated,
    /// Updated, and it reached its final state with this change.
    Finished,
    /// A job the book did not know (made elsewhere): it should be read in full.
    Unknown,
}

/// The most jobs a page keeps.
const KEEP: usize = 100;

impl JobBook {
    /// Keeps `image` unless the book has a newer version of it: with a fast provider the
    /// finished image can arrive before the message that it was created.
    pub fn put_image(&mut self, image: Image) {
        match self.images.get(&image.id) {
            Some(mine) if mine.updated_at > image.updated_at => {}
            _ => {
                self.images.insert(image.id.clone(), image);
            }
        }
    }

    /// Applies an event, unless it is not newer than the job's state here.
    pub fn apply(&mut self, event: &JobEvent, now: DateTime<Utc>) -> Applied {
        if let Some(image) = &event.image {
            self.put_image((**image).clone());
        }
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == event.job_id) else {
            // Shown at once with what the event says; the full job is read next.
            self.jobs.insert(
                0,
                Job {
                    id: event.job_id.clone(),
                    image_id: event.image_id.clone(),
                    character_id: event.character_id.clone(),
                    set_avatar: false,
                    status: event.status,
                    seq: event.seq,
                    attempt: event.attempt,
                    max_attempts: event.attempt.max(1),
                    provider: model::ProviderId::Builtin,
                    model: String::new(),
                    error: event.error.clone(),
                    created_at: now,
                    started_at: None,
                    finished_at: None,
                    next_attempt_at: event.next_attempt_at,
                    batch_id: None,
                    cost: None,
                },
            );
            return Applied::Unknown;
        };
        if event.seq <= job.seq {
            return Applied::Stale;
        }
        let was_final = job.status.is_final();
        job.status = event.status;
        job.seq = event.seq;
        job.attempt = event.attempt;
        job.error = event.error.clone();
        job.next_attempt_at = event.next_attempt_at;
        if job.started_at.is_none() && event.status != ImageStatus::Pending {
            job.started_at = Some(now);
        }
        if event.status.is_final() {
            job.finished_at.get_or_insert(now);
            if !was_final {
                return Applied::Finished;
            }
        }
        Applied::Updated
    }

    /// Takes the server's view of jobs: each replaces what the book has unless the book's
    /// is newer. Answers the jobs that became final through it.
    pub fn merge(&mut self, jobs: Vec<Job>, images: Vec<Image>) -> Vec<Job> {
        let mut finished = Vec::new();
        for image in images {
            self.put_image(image);
        }
        for job in jobs {
            match self.jobs.iter_mut().find(|j| j.id == job.id) {
                // The book's state is newer; what never changes comes from the server (a
                // job first seen through an event has no provider, model or limits yet).
                Some(mine) if mine.seq > job.seq => {
                    mine.provider = job.provider;
                    mine.model = job.model;
                    mine.max_attempts = job.max_attempts;
                    mine.created_at = job.created_at;
                    mine.character_id = job.character_id;
                    mine.set_avatar = job.set_avatar;
                    mine.batch_id = job.batch_id;
                    if mine.started_at.is_none() {
                        mine.started_at = job.started_at;
                    }
                }
                Some(mine) => {
                    if job.status.is_final() && !mine.status.is_final() {
                        finished.push(job.clone());
                    }
                    *mine = job;
                }
                None => self.jobs.push(job),
            }
        }
        self.jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        self.jobs.truncate(KEEP);
        finished
    }

    /// Jobs not yet final.
    pub fn running(&self) -> usize {
        self.jobs.iter().filter(|j| !j.status.is_final()).count()
    }
}

/// A change that pages may react to.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Image(ImageEventKind, Box<Image>),
    /// A job reached its final state (the image is in the book when it completed).
    Finished(Box<Job>),
    /// Events may have been missed: re-read what the page shows.
    Reread,
}

/// The live state of the tab, provided to every page.
#[derive(Clone, Copy)]
pub struct Live {
    pub connection: RwSignal<Connection>,
    pub book: RwSignal<JobBook>,
    /// The time, ticking each second in the browser (for elapsed times).
    pub now: RwSignal<DateTime<Utc>>,
    pub toasts: RwSignal<ToastList>,
    /// What a screen reader is told when a job on the page being read finishes (toasts
    /// speak for themselves elsewhere; the ticking job list is never announced).
    pub announcement: RwSignal<String>,
    listeners: StoredValue<Vec<(u64, Callback<Change>)>>,
    next_id: StoredValue<u64>,
    /// The connection task's controls (browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    control: StoredValue<Option<futures::channel::mpsc::UnboundedSender<Control>>>,
}

/// What the page tells the connection task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Online,
    Offline,
    Stop,
}

impl Live {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            connection: RwSignal::new(Connection::Idle),
            book: RwSignal::new(JobBook::default()),
            now: RwSignal::new(now),
            toasts: RwSignal::new(ToastList::default()),
            announcement: RwSignal::new(String::new()),
            listeners: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(1),
            control: StoredValue::new(None),
        }
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Calls `f` with every change until the calling component is gone.
    pub fn on_change(&self, f: impl Fn(Change) + Send + Sync + 'static) {
        let id = self.next_id();
        self.listeners
            .update_value(|l| l.push((id, Callback::new(f))));
        let listeners = self.listeners;
        on_cleanup(move || listeners.update_value(|l| l.retain(|(i, _)| *i != id)));
    }

    /// Tells the listeners, once the effects of the change that caused it have run (a
    /// listener may rebuild part of a page, and the effects already queued for the old part
    /// must not find it gone).
    pub(crate) fn emit(&self, change: &Change) {
        let (listeners, change) = (self.listeners, change.clone());
        browser::defer(move || {
            // A page may have gone meanwhile, its listener with it.
            for (_, listener) in listeners.try_get_value().unwrap_or_default() {
                let _ = listener.try_run(change.clone());
            }
        });
    }

    /// Jobs not yet final.
    pub fn running(&self) -> usize {
        self.book.with(JobBook::running)
    }

    /// Takes jobs the server answered (a started generation, a fresh read).
    pub fn merge(&self, jobs: Vec<Job>, images: Vec<Image>) {
        let mut finished = Vec::new();
        self.book.update(|b| finished = b.merge(jobs, images));
        for job in finished {
            self.emit(&Change::Finished(Box::new(job)));
        }
    }

    /// Applies one event; answers whether the job must be read in full.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(crate) fn apply_job(&self, event: &JobEvent) -> bool {
        let now = self.now.get_untracked();
        let mut applied = Applied::Stale;
        self.book.update(|b| applied = b.apply(event, now));
        match applied {
            Applied::Finished => {
                let job = self
                    .book
                    .with_untracked(|b| b.jobs.iter().find(|j| j.id == event.job_id).cloned());
                if let Some(job) = job {
                    self.emit(&Change::Finished(Box::new(job)));
                }
                false
            }
            Applied::Unknown => true,
            Applied::Stale | Applied::Updated => false,
        }
    }

    pub(crate) fn apply_image(&self, event: ImageEventKind, image: Image) {
        self.book.update(|b| {
            if event == ImageEventKind::Deleted && image.deleted_at.is_none() {
                b.images.remove(&image.id);
            } else {
                b.put_image(image.clone());
            }
        });
        self.emit(&Change::Image(event, Box::new(image)));
    }

    /// Shows a notification for a few seconds.
    /// Says `text` through the polite live region (cleared first, so the same words
    /// twice are announced twice).
    pub fn announce(&self, text: String) {
        self.announcement.set(String::new());
        let announcement = self.announcement;
        browser::later(100, move || announcement.set(text));
    }

    pub fn toast(&self, ok: bool, text: String, link: Option<(String, String)>) {
        let id = self.next_id();
        self.toasts.update(|t| t.add(id, ok, text, link));
        browser::later(8_000, {
            let toasts = self.toasts;
            move || toasts.update(|t| t.hide(id))
        });
    }

    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|t| t.hide(id));
    }

    /// Opens the connection (browser only; a no-op in the server's render).
    pub fn start(&self) {
        browser::start(*self);
    }

    /// Closes it (signed out).
    pub fn stop(&self) {
        self.control.with_value(|c| {
            if let Some(c) = c {
                let _ = c.unbounded_send(Control::Stop);
            }
        });
        self.control.set_value(None);
        self.connection.set(Connection::Idle);
        self.book.set(JobBook::default());
    }
}

/// The tab's live state; every page is under the layout that provides it.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Called once the page is hydrated: the live connection, asked for earlier, opens now.
pub fn hydrated() {
    browser::hydrated();
}

/// Runs `f` after `ms` milliseconds (browser only: the server's render has no timers).
pub fn later(ms: u32, f: impl FnOnce() + 'static) {
    browser::later(ms, f);
}

/// Runs `f` once the current task (and the effects it queued) is done.
pub fn defer(f: impl FnOnce() + 'static) {
    browser::defer(f);
}

/// The time now (the browser's clock in the browser).
pub fn now() -> DateTime<Utc> {
    browser::now()
}

/// How far ahead of UTC the viewer's clock is, in minutes (the server's render: UTC).
pub fn utc_offset_minutes() -> i64 {
    browser::utc_offset_minutes()
}

/// The stage of a job, in words.
pub fn stage_label(job: &Job) -> &'static str {
    match job.status {
        ImageStatus::Pending if job.next_attempt_at.is_some() => "Waiting to retry",
        ImageStatus::Pending => "Queued",
        ImageStatus::Generating => "Generating",
        ImageStatus::Downloading => "Downloading",
        ImageStatus::Uploading => "Saving",
        ImageStatus::Completed => "Done",
        ImageStatus::Error => "Failed",
        ImageStatus::Canceled => "Canceled",
    }
}

/// How far along a job is, 0 to 100, by its stage.
pub fn progress(status: ImageStatus) -> u8 {
    match status {
        ImageStatus::Pending => 5,
        ImageStatus::Generating => 35,
        ImageStatus::Downloading => 65,
        ImageStatus::Uploading => 85,
        ImageStatus::Completed | ImageStatus::Error | ImageStatus::Canceled => 100,
    }
}

/// `42 s`, `3 min 05 s`
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// What a person can do about a failure: a link and its words.
pub fn remedy(code: &str) -> Option<(&'static str, &'static str)> {
    match code {
        "invalid_key" | "quota_exhausted" | "provider_key_missing" | "missing_key" => {
            Some(("/settings#keys", "Check your key in Settings"))
        }
        "spending_cap_reached" => Some(("/settings#spending", "See your spending cap")),
        _ => None,
    }
}

#[cfg(feature = "hydrate")]
mod browser;
#[cfg(any(feature = "hydrate", test))]
mod message;

/// The server's render has no connection, no timers and no clock of its own.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::Live;

    pub fn start(_live: Live) {}

    pub fn hydrated() {}

    pub fn later(_ms: u32, _f: impl FnOnce() + 'static) {}

    pub fn defer(f: impl FnOnce() + 'static) {
        f();
    }

    pub fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    pub fn utc_offset_minutes() -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, seq: i64, status: ImageStatus, minute: u32) -> Job {
        Job {
            id: id.to_owned(),
            image_id: format!("img-{id}"),
            character_id: None,
            set_avatar: false,
            status,
            seq,
            attempt: 1,
            max_attempts: 4,
            provider: model::ProviderId::Openai,
            model: "dall-e-3".to_owned(),
            error: None,
            created_at: DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0)
                .unwrap(),
            started_at: None,
            finished_at: None,
            next_attempt_at: None,
            batch_id: None,
            cost: None,
        }
    }

    fn event(id: &str, seq: i64, status: ImageStatus) -> JobEvent {
        JobEvent {
            job_id: id.to_owned(),
            image_id: format!("img-{id}"),
            character_id: None,
            status,
            seq,
            attempt: 1,
            error: None,
            next_attempt_at: None,
            image: None,
        }
    }

    #[test]
    fn events_not_newer_than_the_book_are_ignored() {
        let now = Utc::now();
        let mut book = JobBook::default();
        book.merge(vec![job("a", 3, ImageStatus::Generating, 0)], vec![]);
        // A late event from before the fresh read: ignored.
        assert_eq!(
            book.apply(&event("a", 2, ImageStatus::Pending), now),
            Applied::Stale
        );
        assert_eq!(
            book.apply(&event("a", 3, ImageStatus::Generating), now),
            Applied::Stale
        );
        assert_eq!(book.jobs[0].status, ImageStatus::Generating);
        assert_eq!(
            book.apply(&event("a", 4, ImageStatus::Uploading), now),
            Applied::Updated
        );
        assert_eq!(
            book.apply(&event("a", 5, ImageStatus::Completed), now),
            Applied::Finished
        );
        assert_eq!(book.jobs[0].status, ImageStatus::Completed);
        assert_eq!(book.running(), 0);
        // The same final event again finishes nothing twice.
        assert_eq!(
            book.apply(&event("a", 5, ImageStatus::Completed), now),
            Applied::Stale
        );
    }

    #[test]
    fn a_fresh_read_never_moves_a_job_backwards_and_reports_what_finished() {
        let mut book = JobBook::default();
        book.merge(
            vec![
                job("old", 1, ImageStatus::Pending, 0),
                job("new", 1, ImageStatus::Pending, 5),
            ],
            vec![],
        );
        assert_eq!(book.jobs[0].id, "new", "newest first");
        book.apply(&event("new", 4, ImageStatus::Uploading), Utc::now());
        // The read was made before the event: it must not undo it.
        let finished = book.merge(
            vec![
                job("new", 2, ImageStatus::Generating, 5),
                job("old", 6, ImageStatus::Completed, 0),
            ],
            vec![],
        );
        assert_eq!(book.jobs[0].status, ImageStatus::Uploading);
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].id, "old");
        assert_eq!(book.running(), 1);
    }

    #[test]
    fn an_unknown_job_is_shown_at_once_and_asked_for() {
        let mut book = JobBook::default();
        assert_eq!(
            book.apply(&event("x", 2, ImageStatus::Generating), Utc::now()),
            Applied::Unknown
        );
        assert_eq!(book.running(), 1);
        // The full read replaces the stand-in.
        book.merge(vec![job("x", 2, ImageStatus::Generating, 1)], vec![]);
        assert_eq!(book.jobs.len(), 1);
        assert_eq!(book.jobs[0].model, "dall-e-3");
    }

    #[test]
    fn a_job_first_seen_through_events_gets_its_details_from_an_older_read() {
        let mut book = JobBook::default();
        book.apply(&event("x", 3, ImageStatus::Uploading), Utc::now());
        // The answer that started it comes after its events (a fast provider): one of a
        // comparison, the avatar's job.
        let mut answer = job("x", 1, ImageStatus::Pending, 1);
        answer.batch_id = Some("b1".to_owned());
        answer.set_avatar = true;
        book.merge(vec![answer], vec![]);
        let j = &book.jobs[0];
        assert_eq!(j.status, ImageStatus::Uploading, "the newer state stays");
        assert_eq!((j.model.as_str(), j.max_attempts), ("dall-e-3", 4));
        assert_eq!(
            j.batch_id.as_deref(),
            Some("b1"),
            "still one of its comparison"
        );
        assert!(j.set_avatar);
    }

    #[test]
    fn an_older_copy_of_an_image_never_replaces_a_newer_one() {
        let image = |status: &str, minute: u32| -> Image {
            serde_json::from_value(serde_json::json!({
                "id": "i", "kind": "generated", "status": status, "url": "/media/i",
                "created_at": "2026-12-01T10:00:00Z",
                "updated_at": format!("2026-12-01T10:{minute:02}:00Z"),
                "favorite": false,
            }))
            .unwrap()
        };
        let mut book = JobBook::default();
        // The finished image first, then the late message that it was created.
        book.put_image(image("completed", 5));
        book.put_image(image("pending", 1));
        assert_eq!(book.images["i"].status, ImageStatus::Completed);
        book.put_image(image("completed", 6));
        assert_eq!(book.images["i"].updated_at.format("%M").to_string(), "06");
    }

    #[test]
    fn words_for_stages_and_times() {
        let mut j = job("a", 1, ImageStatus::Pending, 0);
        assert_eq!(stage_label(&j), "Queued");
        j.next_attempt_at = Some(Utc::now());
        assert_eq!(stage_label(&j), "Waiting to retry");
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(185), "3 min 05 s");
        assert!(progress(ImageStatus::Generating) < progress(ImageStatus::Uploading));
        assert_eq!(remedy("invalid_key").unwrap().0, "/settings#keys");
    }
}
