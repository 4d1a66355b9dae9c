//! The administrator's operations page: jobs by state and provider, the failures of the
//! last day by reason, storage used and the last cleanup runs. Read when the page opens,
//! again every 30 seconds while it is open, and on Refresh. Anyone who is not an
//! administrator gets the 404 page. The accounts with their limits are in `accounts`,
//! the sign-up invitations in `invitations`.

mod accounts;
mod invitations;

use leptos::prelude::*;
use leptos_meta::Title;
use model::{ImageStatus, Operations, ProviderId};

use crate::{
    api::admin::get_operations,
    components::PageHeader,
    format::{file_size, when},
    live::use_live,
    pages::NotFound,
    AppError,
};

/// The page reads the numbers again this often while open.
const REFRESH_SECONDS: i64 = 30;

#[component]
pub fn AdminPage() -> impl IntoView {
    let live = use_live();
    let refresh = RwSignal::new(0u32);
    let ops = Resource::new(move || refresh.get(), |_| get_operations());
    // Browser only (the clock ticks there): read again every REFRESH_SECONDS.
    let last = StoredValue::new(live.now.get_untracked());
    Effect::new(move |_| {
        let now = live.now.get();
        if (now - last.get_value()).num_seconds() >= REFRESH_SECONDS {
            last.set_value(now);
            refresh.update(|n| *n += 1);
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ops.await {
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Operations" />
                        <PageHeader title="Operations" />
                        <p class="notice notice--error" role="alert">{e.to_string()}</p>
                    }.into_any(),
                    Ok(o) => view! { <Overview ops=o refresh=refresh /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(ops: Operations, refresh: RwSignal<u32>) -> impl IntoView {
    let updated = when(ops.generated_at);
    view! {
        <Title text="Operations" />
        <PageHeader title="Operations" lead="The state of this instance: its queue, what failed lately, the storage it uses and its cleanup." />
        <div class="toolbar ops-toolbar">
            <button type="button" class="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            <p class="muted" aria-live="polite">
                "Read " <time datetime=ops.generated_at.to_rfc3339()>{updated}</time>
                {format!("; read again every {REFRESH_SECONDS} seconds while this page is open.")}
            </p>
        </div>
        <Queue ops=ops.clone() />
        <Failures ops=ops.clone() />
        <StorageUsed ops=ops.clone() />
        <CleanupRuns ops=ops />
        <accounts::Accounts />
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

#[component]
fn Queue(ops: Operations) -> impl IntoView {
    let count = |provider: ProviderId, status: ImageStatus| {
        ops.jobs
            .iter()
            .filter(|j| j.provider == provider && j.status == status)
            .map(|j| j.count)
            .sum::<u64>()
    };
    let waiting: u64 = ProviderId::ALL
        .iter()
        .map(|p| count(*p, ImageStatus::Pending))
        .sum();
    let running: u64 = ProviderId::ALL
        .iter()
        .flat_map(|p| {
            [
                ImageStatus::Generating,
                ImageStatus::Downloading,
                ImageStatus::Uploading,
            ]
            .map(|s| count(*p, s))
        })
        .sum();
    let rows = ProviderId::ALL
        .iter()
        .map(|p| {
            let cells = STATES
                .iter()
                .map(|(s, _)| view! { <td>{count(*p, *s)}</td> })
                .collect_view();
            view! { <tr><th scope="row">{p.label()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <section class="card ops-section" aria-labelledby="ops-queue">
            <h2 id="ops-queue">"Queue"</h2>
            <dl class="dashboard__numbers">
                <div><dt>"Waiting"</dt><dd data-testid="queue-waiting">{waiting}</dd></div>
                <div><dt>"Running"</dt><dd data-testid="queue-running">{running}</dd></div>
                <div><dt>"Accounts"</dt><dd>{ops.accounts}</dd></div>
            </dl>
            <OpsTable
                label="Jobs by provider and state"
                headers=std::iter::once("Provider").chain(STATES.iter().map(|(_, l)| *l)).collect()
            >
                {rows}
            </OpsTable>
            {(ops.disabled_accounts > 0).then(|| view! {
                <p class="muted">{format!("{} of the accounts are disabled.", ops.disabled_accounts)}</p>
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

#[component]
fn Failures(ops: Operations) -> impl IntoView {
    let heading = format!("Failures in the last {} hours", ops.failure_window_hours);
    let body = if ops.failures.is_empty() {
        view! { <p class="muted">"No job failed for good in this time."</p> }.into_any()
    } else {
        let rows = ops
            .failures
            .iter()
            .map(|f| {
                let provider = f.provider.label();
                view! {
                    <tr>
                        <th scope="row"><code>{f.reason.clone()}</code></th>
                        <td>{provider}</td>
                        <td>{f.count}</td>
                        <td><time datetime=f.last_at.to_rfc3339()>{when(f.last_at)}</time></td>
                        <td class="ops-table__message">{f.last_message.clone()}</td>
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

#[component]
fn StorageUsed(ops: Operations) -> impl IntoView {
    let s = ops.storage;
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
        <section class="card ops-section" aria-labelledby="ops-storage">
            <h2 id="ops-storage">"Storage"</h2>
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
            <p class="muted">"As the database records it; the cleanup reconciles it with the storage."</p>
        </section>
    }
}

#[component]
fn CleanupRuns(ops: Operations) -> impl IntoView {
    let schedule = match ops.cleanup_interval_seconds {
        Some(s) if s % 3600 == 0 => {
            format!("The server runs the cleanup every {} hour(s).", s / 3600)
        }
        Some(s) if s % 60 == 0 => {
            format!("The server runs the cleanup every {} minute(s).", s / 60)
        }
        Some(s) => format!("The server runs the cleanup every {s} seconds."),
        None => "The server's cleanup schedule is off (CLEANUP_INTERVAL_SECONDS=0).".to_owned(),
    };
    let body = if ops.cleanup_runs.is_empty() {
        view! { <p class="muted">"No cleanup has run yet. Run one now with " <code>"avatar-studio cleanup"</code> "."</p> }.into_any()
    } else {
        let runs = ops
            .cleanup_runs
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
        view! { <ul class="item-list" aria-label="Cleanup runs, newest first">{runs}</ul> }
            .into_any()
    };
    view! {
        <section class="card ops-section" aria-labelledby="ops-cleanup">
            <h2 id="ops-cleanup">"Cleanup runs"</h2>
            <p class="muted">{schedule}</p>
            {body}
        </section>
    }
}
