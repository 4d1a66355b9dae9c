//! The realtime channel under many idle connections: starts the real server binary
//! (release, SQLite), opens N WebSockets for one account, and reports
//! - the server's resident memory per connection (its `VmRSS` with N idle connections,
//!   less the figure with a handful, divided by the difference), and
//! - the delivery latency of an event fanned out to all N: an image is renamed through
//!   the API, and each connection's arrival time of that `image` event is measured from
//!   the moment the request was sent (p50, p99, max over every connection and round).
//!
//!     scripts/bench-ws.sh [N ...]      (default 1000 10000)

// A benchmark reports its figures on standard output.
#![allow(clippy::print_stdout)]

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{
    client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig, Message,
};

const ROUNDS: usize = 20;
const WARM_CONNECTIONS: usize = 16;
const OPEN_AT_ONCE: usize = 64;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Opens one connection and reads it on its own task: each `image` event's title and the
/// moment it arrived go to `arrivals`.
async fn open(
    url: &str,
    token: &str,
    arrivals: mpsc::UnboundedSender<(String, Instant)>,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    // Small client buffers too: the bench process holds as many sockets as the server.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    // The hello.
    socket.next().await.context("no hello")??;
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                    if v["type"] == "image" {
                        let title = v["image"]["title"].as_str().unwrap_or_default().to_owned();
                        if arrivals.send((title, at)).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    });
    Ok(())
}

async fn measure(bin: &str, n: usize) -> anyhow::Result<()> {
    // A server started by hand (under a profiler, say): BENCH_WS_URL and BENCH_WS_PID.
    let (_server, base, pid) = match std::env::var("BENCH_WS_URL") {
        Ok(url) => (None, url, std::env::var("BENCH_WS_PID")?.parse()?),
        Err(_) => {
            let server =
                common::start_server(bin, &[("REALTIME_MAX_CONNECTIONS_PER_USER", "1000000")])?;
            let (base, pid) = (server.base.clone(), server.child.id());
            (Some(server), base, pid)
        }
    };
    let http = reqwest::Client::new();
    let token = Arc::new(common::bench_token(&http, &base).await?);
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbaImage::from_pixel(32, 32, image::Rgba([90, 80, 200, 255]))
            .write_to(&mut out, image::ImageFormat::Png)?;
        out.into_inner()
    };
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png).file_name("bench.png"),
    );
    let uploaded: Value = http
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token.as_str())
        .multipart(form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let image_id = uploaded["items"][0]["id"]
        .as_str()
        .context("no image id")?
        .to_owned();

    let url = Arc::new(format!("{}/ws", base.replacen("http://", "ws://", 1)));
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel();
    // A few connections first, so that the baseline includes what any connection costs
    // once (runtime, buffers, the user's channel).
    for _ in 0..WARM_CONNECTIONS {
        open(&url, &token, arrivals_tx.clone()).await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = common::rss_kib(pid)?;
    let started = Instant::now();
    let rest = n.saturating_sub(WARM_CONNECTIONS);
    futures::stream::iter(0..rest)
        .map(|_| {
            let (url, token, tx) = (url.clone(), token.clone(), arrivals_tx.clone());
            async move { open(&url, &token, tx).await }
        })
        .buffer_unordered(OPEN_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = common::rss_kib(pid)?;
    let per_connection = (loaded.saturating_sub(baseline)) as f64 * 1024.0 / rest.max(1) as f64;

    let mut latencies = Vec::with_capacity(n * ROUNDS);
    for round in 0..ROUNDS {
        let title = format!("round {round}");
        let sent = Instant::now();
        http.patch(format!("{base}/api/v1/images/{image_id}"))
            .bearer_auth(token.as_str())
            .json(&json!({"title": title}))
            .send()
            .await?
            .error_for_status()?;
        let mut got = 0;
        while got < n {
            let (t, at) = tokio::time::timeout(Duration::from_secs(60), arrivals.recv())
                .await
                .context("an event did not reach every connection within 60 s")?
                .context("the readers stopped")?;
            if t == title {
                got += 1;
                latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "N = {n:>6}: server RSS {:.1} MiB idle-with-N (baseline {:.1} MiB), {:.1} KiB per connection; \
         opened in {:.1} s; fan-out latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({ROUNDS} events × {n})",
        loaded as f64 / 1024.0,
        baseline as f64 / 1024.0,
        per_connection / 1024.0,
        opened_in.as_secs_f64(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or_default(),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bin = std::env::var("AVATAR_STUDIO_BIN")
        .context("set AVATAR_STUDIO_BIN to the release server binary (scripts/bench-ws.sh does)")?;
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("usage: bench_ws [N ...]")?;
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    for n in sizes {
        measure(&bin, n).await?;
    }
    Ok(())
}
