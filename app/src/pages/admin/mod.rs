//! The administrator's operations page: jobs by state and provider, the failures of the
//! last day by reason, storage used and the last cleanup runs. Read when the page opens,
//! again every 30 seconds while it is open, and on Refresh. Anyone who is not an
//! administrator gets the 404 page. The accounts with their limits are in `accounts`,
//! the sign-up invitations in `invitations`, the month's spending in `spend`, the models' prices in `prices`.
//!
//! A re-read updates the numbers in place: the page is built once, so the focus, an open
//! form and what is typed in it stay where they are (rebuilding it every 30 seconds lost
//! them).

mod accounts;
mod invitations;
mod prices;
mod spend;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use model::{ImageStatus, Operations, ProviderId};

use crate::{
    api::{admin::GetOperations, client::call},
    components::{handler, PageHeader, Skeleton},
    format::{file_size, when},
    live::use_live,
    pages::NotFound,
    AppError,
};

/// The page reads the numbers again this often while open.
const REFRESH_SECONDS: i64 = 30;

/// The reads of the numbers after the first: whether one is in flight, the numbers of the
/// last one that succeeded, and the error of the last one if it failed.
#[derive(Clone, Copy)]
struct Reread {
    pending: RwSignal<bool>,
    fresh: RwSignal<Option<Operations>>,
    error: RwSignal<Option<AppError>>,
}

impl Reread {
    fn new() -> Self {
        Self {
            pending: RwSignal::new(false),
            fresh: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    /// Reads again, unless a read is already on its way.
    fn start(self) {
        if self.pending.get_untracked() {
            return;
        }
        self.pending.set(true);
        spawn_local(async move {
            match call(GetOperations {}).await {
                Ok(o) => {
                    self.fresh.set(Some(o));
                    self.error.set(None);
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.pending.set(false);
        });
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let live = use_live();
    // The first read decides the page (the numbers, or a 404 for a member); later reads
    // only update the numbers.
    let first = crate::server_resource::server_resource(|| (), |()| GetOperations {});
    let reread = Reread::new();
    // Browser only (the clock ticks there): read again every REFRESH_SECONDS.
    let last = StoredValue::new(live.now.get_untracked());
    Effect::new(move |_| {
        let now = live.now.get();
        if (now - last.get_value()).num_seconds() >= REFRESH_SECONDS {
            last.set_value(now);
            reread.start();
        }
    });
    view! {
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || Suspend::new(async move {
                match first.await {
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Operations" />
                        <PageHeader title="Operations" />
                        <p class="notice notice--error" role="alert">{e.to_string()}</p>
                    }.into_any(),
                    Ok(first) => {
                        // The last numbers read; a failed re-read keeps them.
                        let ops = Memo::new(move |_| reread.fresh.get().unwrap_or_else(|| first.clone()));
                        view! { <Overview ops=ops reread=reread /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component(transparent)]
fn Overview(ops: Memo<Operations>, reread: Reread) -> impl IntoView {
    let generated_at = move || ops.with(|o| o.generated_at);
    let failed = move || {
        reread.error.get().map(|e| view! {
            <p class="notice notice--error" role="alert">{format!("Could not read the numbers again: {e}")}</p>
        })
    };
    view! {
        <Title text="Operations" />
        <PageHeader title="Operations" lead="The state of this instance: its queue, what failed lately, the storage it uses and its cleanup." />
        <div class="toolbar ops-toolbar">
            // Never disabled while reading: a focused button that is disabled loses the focus.
            <button
                type="button"
                class="button"
                aria-busy=move || reread.pending.get().to_string()
                on:click=handler(move |_| reread.start())
            >
                "Refresh"
            </button>
            <p class="muted" aria-live="polite">
                "Read " <time datetime=move || generated_at().to_rfc3339()>{move || when(generated_at())}</time>
                {format!("; read again every {REFRESH_SECONDS} seconds while this page is open.")}
            </p>
        </div>
        {failed}
        <Queue ops=ops />
        <Failures ops=ops />
        <StorageUsed ops=ops />
        <CleanupRuns ops=ops />
        <accounts::Accounts />
        <spend::Spending />
        <prices::Prices />
        <invitations::Invitations />
    }
}

/// The columns of the jobs table, in the order a job goes through them.
const STATES: [(ImageStatus, &str); 7] = [
    (ImageStatus::Pending, "Waiting"),
    (ImageStatus::Generating, "Generating"),
    (ImageStatus::Downloading, "Downloading"),
    (ImageStatus::Uploading, "Storing"),
    (ImageStatus::Completed, "Completed"),
    (ImageStatus::Error, "Failed"),
    (ImageStatus::Canceled, "Canceled"),
];

#[component(transparent)]
fn Queue(ops: Memo<Operations>) -> impl IntoView {
    // Each part is rebuilt only when its numbers change.
    let jobs = Memo::new(move |_| ops.with(|o| o.jobs.clone()));
    let count = move |provider: ProviderId, status: ImageStatus| {
        jobs.with(|jobs| {
            jobs.iter()
                .filter(|j| j.provider == provider && j.status == status)
                .map(|j| j.count)
                .sum::<u64>()
        })
    };
    let waiting = move || {
        ProviderId::ALL
            .iter()
            .map(|p| count(*p, ImageStatus::Pending))
            .sum::<u64>()
    };
    let running = move || {
        ProviderId::ALL
            .iter()
            .flat_map(|p| {
                [
                    ImageStatus::Generating,
                    ImageStatus::Downloading,
                    ImageStatus::Uploading,
                ]
                .map(|s| count(*p, s))
            })
            .sum::<u64>()
    };
    let rows = ProviderId::ALL
        .iter()
        .map(|p| {
            let cells = STATES
                .iter()
                .map(|(s, _)| view! { <td>{move || count(*p, *s)}</td> })
                .collect_view();
            view! { <tr><th scope="row">{p.label()}</th>{cells}</tr> }
        })
        .collect_view();
    let accounts = move || ops.with(|o| o.accounts);
    let disabled = move || ops.with(|o| o.disabled_accounts);
    view! {
        <section class="card ops-section" aria-labelledby="ops-queue">
            <h2 id="ops-queue">"Queue"</h2>
            <dl class="dashboard__numbers">
                <div><dt>"Waiting"</dt><dd data-testid="queue-waiting">{waiting}</dd></div>
                <div><dt>"Running"</dt><dd data-testid="queue-running">{running}</dd></div>
                <div><dt>"Accounts"</dt><dd>{accounts}</dd></div>
            </dl>
            <OpsTable
                label="Jobs by provider and state"
                headers=std::iter::once("Provider").chain(STATES.iter().map(|(_, l)| *l)).collect()
            >
                {rows}
            </OpsTable>
            {move || (disabled() > 0).then(|| view! {
                <p class="muted">{format!("{} of the accounts are disabled.", disabled())}</p>
            })}
        </section>
    }
}

/// A table that scrolls sideways inside its own region (reachable by keyboard) when the
/// screen is narrower than it.
#[component]
fn OpsTable(label: &'static str, headers: Vec<&'static str>, children: Children) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label=label tabindex="0">
            <table class="ops-table">
                <caption class="visually-hidden">{label}</caption>
                <thead>
                    <tr>
                        {headers.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

#[component(transparent)]
fn Failures(ops: Memo<Operations>) -> impl IntoView {
    let heading = move || {
        format!(
            "Failures in the last {} hours",
            ops.with(|o| o.failure_window_hours)
        )
    };
    let failures = Memo::new(move |_| ops.with(|o| o.failures.clone()));
    let body = move || {
        let failures = failures.get();
        if failures.is_empty() {
            return view! { <p class="muted">"No job failed for good in this time."</p> }
                .into_any();
        }
        let rows = failures
            .into_iter()
            .map(|f| {
                let provider = f.provider.label();
                view! {
                    <tr>
                        <th scope="row"><code>{f.reason}</code></th>
                        <td>{provider}</td>
                        <td>{f.count}</td>
                        <td><time datetime=f.last_at.to_rfc3339()>{when(f.last_at)}</time></td>
                        <td class="ops-table__message">{f.last_message}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <OpsTable
                label="Failures by reason"
                headers=vec!["Reason", "Provider", "Jobs", "Last", "Last message"]
            >
                {rows}
            </OpsTable>
        }
        .into_any()
    };
    view! {
        <section class="card ops-section" aria-labelledby="ops-failures">
            <h2 id="ops-failures">{heading}</h2>
            {body}
        </section>
    }
}

#[component(transparent)]
fn StorageUsed(ops: Memo<Operations>) -> impl IntoView {
    let storage = Memo::new(move |_| ops.with(|o| o.storage.clone()));
    view! {
        <section class="card ops-section" aria-labelledby="ops-storage">
            <h2 id="ops-storage">"Storage"</h2>
            {move || storage_numbers(&storage.get())}
            <p class="muted">"As the database records it; the cleanup reconciles it with the storage."</p>
        </section>
    }
}

fn storage_numbers(s: &model::StorageUsage) -> impl IntoView {
    let images = |n: u64| match n {
        1 => "1 image".to_owned(),
        n => format!("{n} images"),
    };
    let percent = s
        .variant_bytes
        .saturating_mul(100)
        .checked_div(s.variant_limit_bytes)
        .unwrap_or(0)
        .min(100);
    view! {
        <dl class="dashboard__numbers">
            <div>
                <dt>"Libraries"</dt>
                <dd data-testid="storage-images">{file_size(s.image_bytes)}</dd>
                <dd class="ops-sub">{images(s.images)}</dd>
            </div>
            <div>
                <dt>"Trash"</dt>
                <dd>{file_size(s.trash_bytes)}</dd>
                <dd class="ops-sub">{images(s.trash)}</dd>
            </div>
            <div>
                <dt>"Resized copies"</dt>
                <dd>{file_size(s.variant_bytes)}</dd>
                <dd class="ops-sub">{format!("{} of {} ({percent}%)", s.variants, file_size(s.variant_limit_bytes))}</dd>
            </div>
            <div>
                <dt>"Missing objects"</dt>
                <dd data-testid="storage-missing">{s.missing}</dd>
            </div>
        </dl>
        {(s.missing > 0).then(|| view! {
            <p class="notice notice--error">
                {format!("{} image(s) have lost their file in storage. Restore it from a backup, or delete the images from their owners' galleries.", s.missing)}
            </p>
        })}
    }
}

#[component(transparent)]
fn CleanupRuns(ops: Memo<Operations>) -> impl IntoView {
    let schedule = move || schedule(ops.with(|o| o.cleanup_interval_seconds));
    let runs = Memo::new(move |_| ops.with(|o| o.cleanup_runs.clone()));
    view! {
        <section class="card ops-section" aria-labelledby="ops-cleanup">
            <h2 id="ops-cleanup">"Cleanup runs"</h2>
            <p class="muted">{schedule}</p>
            {move || cleanup_runs(runs.get())}
        </section>
    }
}

fn schedule(interval_seconds: Option<u64>) -> String {
    match interval_seconds {
        Some(s) if s % 3600 == 0 => {
            format!("The server runs the cleanup every {} hour(s).", s / 3600)
        }
        Some(s) if s % 60 == 0 => {
            format!("The server runs the cleanup every {} minute(s).", s / 60)
        }
        Some(s) => format!("The server runs the cleanup every {s} seconds."),
        None => "The server's cleanup schedule is off (CLEANUP_INTERVAL_SECONDS=0).".to_owned(),
    }
}

fn cleanup_runs(runs: Vec<model::CleanupRun>) -> AnyView {
    if runs.is_empty() {
        return view! { <p class="muted">"No cleanup has run yet. Run one now with " <code>"avatar-studio cleanup"</code> "."</p> }.into_any();
    }
    let runs = runs
        .into_iter()
            .map(|r| {
                let seconds = (r.finished_at - r.started_at).num_milliseconds() as f64 / 1000.0;
                let who = match (r.trigger.as_str(), r.dry_run) {
                    ("server", _) => "The schedule",
                    (_, true) => "A dry run from the command line",
                    _ => "The command line",
                };
                let (class, outcome) = match &r.error {
                    Some(e) => ("item-list__row ops-run ops-run--failed", format!("Failed: {e}")),
                    None => ("item-list__row ops-run", r.summary.clone()),
                };
                view! {
                    <li class=class>
                        <p>
                            <strong><time datetime=r.started_at.to_rfc3339()>{when(r.started_at)}</time></strong>
                            {format!(" · {who} · {seconds:.1} s")}
                        </p>
                        <p class="ops-run__summary">{outcome}</p>
                    </li>
                }
            })
            .collect_view();
    view! { <ul class="item-list" aria-label="Cleanup runs, newest first">{runs}</ul> }.into_any()
}
