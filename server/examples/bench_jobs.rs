//! The job queue end to end: N generations through the real server (HTTP API, database
//! queue, workers, the OpenAI client, image checks, object storage) against a zero-delay
//! fake OpenAI, on SQLite and on PostgreSQL. Reports jobs per second from the first
//! request to the last completion, and the enqueue-to-start latency of the jobs (from the
//! job's `created_at` to its `started_at`).
//!
//!     scripts/bench-jobs.sh [N]      (default 500; PostgreSQL at TEST_POSTGRES_URL)

// A benchmark reports its figures on standard output.
#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use backend::{db::Dialect, testing::TestDb, Config};
use fakes::Fake;
use serde_json::json;

const CLIENTS: usize = 8;
const IDLE_JOBS: usize = 50;

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn run(dialect: Dialect, n: usize) -> anyhow::Result<()> {
    let fake = Fake::openai().await;
    let db = TestDb::new(dialect).await;
    let data = tempfile::tempdir()?;
    let vars = [
        ("DATABASE_URL", db.url.expose().to_owned()),
        ("DATA_DIR", data.path().display().to_string()),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_owned()),
        ("OPENAI_BASE_URL", fake.openai_base()),
        ("WORKER_CONCURRENCY", "8".to_owned()),
        ("WORKER_PER_USER", "8".to_owned()),
        ("PROVIDER_CONCURRENCY", "8".to_owned()),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "100000".to_owned()),
        // A benchmark queues far more than one person may.
        ("QUOTA_ACTIVE_JOBS", "0".to_owned()),
        ("QUOTA_IMAGES_PER_DAY", "0".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let config =
        Config::load(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?.prepare()?;
    let server = server::Server::bind(config).await?;
    let base = format!("http://{}", server.local_addr());
    let shutdown = server.state.shutdown.clone();
    let backend = server.state.backend.clone();
    let handle = tokio::spawn(server.run());

    let http = reqwest::Client::new();
    let token = common::bench_token(&http, &base).await?;
    http.put(format!("{base}/api/v1/provider-keys/openai"))
        .bearer_auth(&token)
        .json(&json!({"api_key": "sk-bench-0123456789abcdef"}))
        .send()
        .await?
        .error_for_status()?;

    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        clients.push(tokio::spawn(async move {
            for i in (c..n).step_by(CLIENTS) {
                let resp = http
                    .post(format!("{base}/api/v1/generations"))
                    .bearer_auth(&token)
                    .json(&json!({"prompt": format!("bench {i}"), "provider": "openai"}))
                    .send()
                    .await?;
                anyhow::ensure!(resp.status() == 202, "enqueue answered {}", resp.status());
            }
            anyhow::Ok(())
        }));
    }
    for c in clients {
        c.await??;
    }
    let enqueued = started.elapsed();
    let total = i64::try_from(n)?;
    loop {
        let counts = backend::db::jobs::count_by_status(&backend.db).await?;
        let finished: i64 = counts
            .iter()
            .filter(|(_, s, _)| matches!(s.as_str(), "completed" | "error" | "canceled"))
            .map(|(_, _, c)| c)
            .sum();
        if finished >= total {
            let failed: i64 = counts
                .iter()
                .filter(|(_, s, _)| *s != model::ImageStatus::Completed)
                .map(|(_, _, c)| c)
                .sum();
            anyhow::ensure!(failed == 0, "{failed} jobs did not complete: {counts:?}");
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "too slow: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    let mut waits: Vec<i64> =
        backend::with_pool!(&backend.db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT started_at - created_at FROM jobs WHERE started_at IS NOT NULL"
        )
        .fetch_all(pool)
        .await)?;
    waits.sort_unstable();

    // On an idle queue: one job at a time, each waited for.
    let mut idle = Vec::new();
    for i in 0..IDLE_JOBS {
        let resp: model::GenerationResponse = http
            .post(format!("{base}/api/v1/generations?wait=true"))
            .bearer_auth(&token)
            .json(&json!({"prompt": format!("idle {i}"), "provider": "openai"}))
            .send()
            .await?
            .json()
            .await?;
        let job = resp.jobs.first().ok_or_else(|| anyhow::anyhow!("no job"))?;
        let started = job
            .started_at
            .ok_or_else(|| anyhow::anyhow!("not started"))?;
        idle.push((started - job.created_at).num_milliseconds());
    }
    idle.sort_unstable();
    println!(
        "| {:<10} | {n:>5} | {:>8.1} | {:>9.1} | {:>7} | {:>7} | {:>7} | {:>5} | {:>5} |",
        dialect.as_str(),
        enqueued.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&waits, 50.0),
        percentile(&waits, 95.0),
        percentile(&waits, 99.0),
        percentile(&idle, 50.0),
        percentile(&idle, 99.0),
    );
    shutdown.cancel();
    handle.await??;
    db.destroy().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    println!(
        "{} jobs, {CLIENTS} clients enqueueing, WORKER_CONCURRENCY=8, zero-delay fake OpenAI\n",
        n
    );
    println!(
        "Start latency under load includes the wait behind the backlog; the idle figures are \
         for {IDLE_JOBS} jobs sent one at a time to an empty queue.\n"
    );
    println!(
        "| database | jobs | enqueue s | jobs/s end to end | start p50 ms | p95 ms | p99 ms | \
         idle start p50 ms | idle p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        run(dialect, n).await?;
    }
    Ok(())
}
