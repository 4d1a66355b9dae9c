//! Server-side rendering throughput (issue 17 §5): the gallery page of a signed-in person
//! with 100 images, rendered by the real server (Leptos SSR: the page, its shell and the
//! data it hands to hydration), against a hand-written axum handler that reads the same
//! 100 rows through the same service and formats the same tiles into a `String`. Both sit
//! behind the same session and authentication layers over the same SQLite database, each
//! on one core (`taskset -c 0`), loaded from another core by this program (`taskset -c 1`
//! in scripts/bench-ssr.sh) over keep-alive connections. The two are loaded in turns
//! ([`ROUNDS`] rounds, each a fifth of the time asked for), so that a slow spell of the
//! machine falls on both rather than on one.
//!
//!     scripts/bench-ssr.sh [SECONDS] [CONNECTIONS]      (default 10 s, 16 connections)
//!
//!     scripts/bench-ssr.sh --instructions [REQUESTS]    (default 100; see `instructions`)
//!
//! `bench_ssr serve` is the hand-written server itself (started by the benchmark). With
//! `BENCH_SSR_PROFILE=DIR`, each server runs under `perf record -g` (Debian's linux-perf),
//! its profile written to `DIR/ours.perf.data` and `DIR/handwritten.perf.data`.
//! With `BENCH_SSR_SAVE=DIR`, the two pages as measured are written to `DIR/ours.html`
//! and `DIR/handwritten.html`.

// A benchmark reports its figures on standard output.
#![allow(clippy::print_stdout)]

#[path = "../common/mod.rs"]
mod common;
mod instructions;

use std::{
    fmt::Write as _,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{extract::State, response::Html, routing::get, Router};
use backend::{services::images, Config};
use model::{Image, ImageFilter};
use serde_json::{json, Value};
use server::{auth::Authenticated, state::AppState};

const IMAGES: usize = 100;
/// Before a server's first round; its later rounds warm their new connections up for
/// [`ROUND_WARM_UP`].
const WARM_UP: Duration = Duration::from_secs(2);
const ROUND_WARM_UP: Duration = Duration::from_millis(300);
/// How many turns each server gets.
const ROUNDS: u32 = 5;

/// The environment both servers run with (besides `DATA_DIR`).
const ENV: &[(&str, &str)] = &[
    ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
    ("LOG_FORMAT", "json"),
    ("RUST_LOG", "warn,server=info"),
    (
        "ENCRYPTION_SECRET",
        "bench-secret-bench-secret-bench-secret-0123",
    ),
    ("AUTH_RATE_LIMIT_PER_MINUTE", "100000"),
    ("QUOTA_IMAGES_PER_DAY", "0"),
    ("QUOTA_ACTIVE_JOBS", "0"),
    ("BUILTIN_DELAY_MS", "0"),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        return tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve_handwritten());
    }
    if args.get(1).map(String::as_str) == Some("instructions") {
        let requests: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(instructions::run(requests));
    }
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    // The load generator: one thread, on the core the script gave it.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(drive(Duration::from_secs(seconds), connections))
}

/// A server process on core 0, on the benchmark's data; killed when dropped.
struct Pinned {
    child: Child,
    base: String,
}

impl Pinned {
    /// The CPU time the server has used so far (every thread's), in user space and in the
    /// kernel, from `/proc/PID/stat`; `None` under a profiler (the child is then `perf`).
    /// Unlike the requests per second, the CPU time a request costs does not change when
    /// the machine has a slow spell (time the core was taken away is not counted).
    fn cpu(&self) -> Option<Cpu> {
        if std::env::var_os("BENCH_SSR_PROFILE").is_some() {
            return None;
        }
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // After the command's name (in parentheses, which may hold spaces): utime and
        // stime are the 12th and 13th fields, in clock ticks (USER_HZ, 100 on Linux).
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .map(|t| Duration::from_millis(t * 10))
        };
        Some(Cpu {
            user: ticks(11)?,
            system: ticks(12)?,
        })
    }
}

/// CPU time, in user space and in the kernel.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    user: Duration,
    system: Duration,
}

impl Cpu {
    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(before.user),
            system: self.system.saturating_sub(before.system),
        }
    }

    fn plus(self, other: Cpu) -> Cpu {
        Cpu {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }

    /// Milliseconds per request: (user + kernel, user, kernel).
    fn per_request_ms(self, requests: usize) -> (f64, f64, f64) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / requests.max(1) as f64;
        (ms(self.user + self.system), ms(self.user), ms(self.system))
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // Asked to stop first, so that a profiler around the server writes its data.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args` under `taskset -c 0` (and `perf record` when profiling) and waits
/// for its "listening on" log line.
fn start_pinned(name: &str, program: &Path, args: &[&str], data: &Path) -> anyhow::Result<Pinned> {
    let mut command = Command::new("taskset");
    command.arg("-c").arg("0");
    if let Some(dir) = std::env::var_os("BENCH_SSR_PROFILE") {
        std::fs::create_dir_all(&dir)?;
        let out = Path::new(&dir).join(format!("{name}.perf.data"));
        command
            .args([
                "perf",
                "record",
                "-F",
                "499",
                "--call-graph",
                "dwarf,16384",
                "-o",
            ])
            .arg(out)
            .arg("--");
    }
    spawn(command, program, args, data, Duration::from_secs(60))
}

/// Runs `program args` through `launcher` (whose own arguments are already given) with the
/// benchmark's environment, and waits `limit` at most for its "listening on" log line.
fn spawn(
    mut launcher: Command,
    program: &Path,
    args: &[&str],
    data: &Path,
    limit: Duration,
) -> anyhow::Result<Pinned> {
    launcher
        .arg(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data)
        .envs(ENV.iter().copied());
    if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
        launcher.env("LEPTOS_SITE_ROOT", root);
    }
    let mut child = launcher
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let base = common::wait_listening_within(&mut child, limit)?;
    Ok(Pinned { child, base })
}

/// Signs a person up, makes their 100 images with the built-in generator and answers the
/// session cookie.
async fn seed(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let cookie = common::sign_up(http, base, "gallery@example.com").await?;
    let subjects = [
        "a lighthouse keeper at dusk",
        "a knight with a copper helmet",
        "a botanist among ferns",
        "a pilot with a red scarf",
        "a chess player, thoughtful",
    ];
    for i in 0..IMAGES / 4 {
        let prompt = format!("{}, portrait {i}", subjects[i % subjects.len()]);
        let resp = http
            .post(format!("{base}/api/v1/generations?wait=true"))
            .header("origin", base)
            .header("cookie", &cookie)
            .json(&json!({"prompt": prompt, "provider": "builtin", "n": 4}))
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "generate: {}", resp.status());
    }
    for _ in 0..600 {
        let page: Value = http
            .get(format!("{base}/api/v1/images?limit=200"))
            .header("cookie", &cookie)
            .send()
            .await?
            .json()
            .await?;
        let done = page["items"].as_array().map_or(0, |items| {
            items.iter().filter(|i| i["status"] == "completed").count()
        });
        if done >= IMAGES {
            return Ok(cookie);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the {IMAGES} images were not made in a minute")
}

/// What one server did under load.
struct Figures {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
    /// The server's CPU time per counted request (all, user, kernel), when it could be read.
    cpu_ms: Option<(f64, f64, f64)>,
}

impl Figures {
    /// Over every round: the requests answered in `length` in all.
    fn of(rounds: Vec<Round>, length: Duration) -> Self {
        let bytes = rounds.first().map_or(0, |r| r.bytes);
        let cpu = rounds
            .iter()
            .map(|r| r.cpu)
            .try_fold(Cpu::default(), |all, c| c.map(|c| all.plus(c)));
        let mut latencies: Vec<Duration> = rounds.into_iter().flat_map(|r| r.latencies).collect();
        latencies.sort_unstable();
        Self {
            requests_per_s: latencies.len() as f64 / length.as_secs_f64(),
            p50_ms: percentile(&latencies, 50.0),
            p99_ms: percentile(&latencies, 99.0),
            bytes,
            cpu_ms: cpu.map(|c| c.per_request_ms(latencies.len())),
        }
    }
}

/// One turn of one server: every counted request's latency, and the page's size.
struct Round {
    latencies: Vec<Duration>,
    bytes: usize,
    /// The server's CPU time from the end of the warm-up to the last answer.
    cpu: Option<Cpu>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Loads `url` from `connections` keep-alive connections: `warm_up`, then `length` counted.
async fn load(
    server: &Pinned,
    name: &str,
    url: &str,
    cookie: &str,
    warm_up: Duration,
    length: Duration,
    connections: usize,
) -> anyhow::Result<Round> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    // One request first: the page must be the gallery with every image on it.
    let body = gallery_page(&http, url, cookie).await?;
    if let Some(dir) = std::env::var_os("BENCH_SSR_SAVE") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(Path::new(&dir).join(format!("{name}.html")), &body)?;
    }

    let started = Instant::now();
    let (warm, end) = (started + warm_up, started + warm_up + length);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (http, url, cookie) = (http.clone(), url.to_owned(), cookie.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let resp = http.get(&url).header("cookie", &cookie).send().await?;
                anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
                resp.bytes().await?;
                if sent >= warm {
                    latencies.push(sent.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep_until(warm.into()).await;
    let cpu_before = server.cpu();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let cpu = server
        .cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.since(before));
    Ok(Round {
        latencies,
        bytes: body.len(),
        cpu,
    })
}

/// The page at `url`, which must be the gallery with every image on it.
async fn gallery_page(http: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<String> {
    let body = http
        .get(url)
        .header("cookie", cookie)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let tiles = body.matches("class=\"tile__caption\"").count();
    anyhow::ensure!(tiles == IMAGES, "{url}: {tiles} tiles, not {IMAGES}");
    Ok(body)
}

async fn drive(length: Duration, connections: usize) -> anyhow::Result<()> {
    let server_bin = std::env::var_os("AVATAR_STUDIO_BIN")
        .context("AVATAR_STUDIO_BIN: the server binary to measure")?;
    let data = tempfile::tempdir()?;
    let http = reqwest::Client::new();

    // Both servers run from the start (on the same core, over the same database); the one
    // not being loaded sits idle.
    let ours = start_pinned("ours", Path::new(&server_bin), &[], data.path())?;
    let cookie = seed(&http, &ours.base).await?;
    let me = std::env::current_exe()?;
    let handwritten = start_pinned("handwritten", &me, &["serve"], data.path())?;
    let ours_url = format!("{}/gallery?limit={IMAGES}", ours.base);
    let hand_url = format!("{}/gallery", handwritten.base);

    let turn = length / ROUNDS;
    let (mut leptos, mut hand, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let warm_up = if round == 0 { WARM_UP } else { ROUND_WARM_UP };
        let a = load(
            &ours,
            "ours",
            &ours_url,
            &cookie,
            warm_up,
            turn,
            connections,
        )
        .await?;
        let b = load(
            &handwritten,
            "handwritten",
            &hand_url,
            &cookie,
            warm_up,
            turn,
            connections,
        )
        .await?;
        ratios.push(a.latencies.len() as f64 / b.latencies.len().max(1) as f64);
        leptos.push(a);
        hand.push(b);
    }
    drop(ours);
    drop(handwritten);
    let (leptos, hand) = (
        Figures::of(leptos, turn * ROUNDS),
        Figures::of(hand, turn * ROUNDS),
    );
    ratios.sort_by(f64::total_cmp);

    println!(
        "Gallery page, {IMAGES} images, signed in; each server on one core (taskset -c 0), \
         {connections} keep-alive connections from another core; {ROUNDS} turns of {:.1} s \
         each, in alternation ({} s of warm-up before the first).\n",
        turn.as_secs_f64(),
        WARM_UP.as_secs()
    );
    println!(
        "| server | requests/s | p50 ms | p99 ms | CPU ms per request (user + kernel) | page KiB |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, f) in [
        ("Avatar Studio (Leptos SSR)", &leptos),
        ("hand-written axum", &hand),
    ] {
        let cpu = f.cpu_ms.map_or_else(
            || "—".to_owned(),
            |(all, user, kernel)| format!("{all:.2} ({user:.2} + {kernel:.2})"),
        );
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {cpu} | {:.1} |",
            f.requests_per_s,
            f.p50_ms,
            f.p99_ms,
            f.bytes as f64 / 1024.0
        );
    }
    println!(
        "\nratio (ours / hand-written): {:.2} (its turns: {:.2} to {:.2})",
        leptos.requests_per_s / hand.requests_per_s,
        ratios.first().copied().unwrap_or_default(),
        ratios.last().copied().unwrap_or_default(),
    );
    if let (Some(ours), Some(hand)) = (leptos.cpu_ms, hand.cpu_ms) {
        println!(
            "ratio by CPU time per request (hand-written / ours): {:.2}",
            hand.0 / ours.0
        );
    }
    Ok(())
}

/// The hand-written server: the same state, sessions and authentication as the real one,
/// and one handler.
async fn serve_handwritten() -> anyhow::Result<()> {
    let config = Config::load(|k| std::env::var(k).ok())?.prepare()?;
    let server = server::Server::bind(config).await?;
    let state = server.state.clone();
    let app = Router::new()
        .route("/gallery", get(gallery))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            server::auth::authenticate,
        ))
        .layer(server::routes::session_layer(&state))
        .with_state(state);
    let addr = server.listener.local_addr()?;
    // The line start_pinned waits for, as the real server logs it.
    println!(
        "{}",
        json!({"message": format!("listening on http://{addr}"), "addr": addr.to_string()})
    );
    axum::serve(
        server.listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

const WIDTHS: [u32; 6] = [160, 256, 384, 512, 768, 1024];

/// The gallery's tiles, formatted by hand in the markup the real page has.
async fn gallery(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Html<String>, String> {
    let filter = ImageFilter {
        trashed: Some(false),
        limit: Some(u32::try_from(IMAGES).unwrap_or(100)),
        ..ImageFilter::default()
    };
    // The same read as the real page's (`list_image_cards`), the cards made into images as
    // its grid does.
    let page = images::list_cards(&state.backend, &principal, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let items: Vec<Image> = page.items.into_iter().map(Image::from).collect();
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <link rel=\"stylesheet\" href=\"/pkg/avatar-studio.css\"/>\
         <title>Gallery · Avatar Studio</title></head><body>\
         <header class=\"site-header\"><a class=\"brand\" href=\"/\">Avatar Studio</a>\
         <nav aria-label=\"Main\"><a href=\"/studio\">Studio</a><a href=\"/characters\">Characters</a>\
         <a href=\"/gallery\" aria-current=\"page\">Gallery</a><a href=\"/collections\">Collections</a>\
         <a href=\"/settings\">Settings</a></nav></header><main id=\"main\">\
         <div class=\"page-header\"><h1>Gallery</h1><p class=\"lead\">Every image you generated, \
         uploaded or imported, searchable and filterable.</p></div>\
         <ul class=\"grid\" aria-label=\"Images\">",
    );
    for image in &items {
        let label = image.label();
        let id = &image.id;
        out.push_str(
            "<li class=\"tile\"><button type=\"button\" class=\"tile__open\" aria-label=\"Open ",
        );
        escape(&mut out, &label);
        out.push_str("\"><img src=\"");
        let _ = write!(out, "/media/{id}?w=384&amp;h=384&amp;fit=cover\" srcset=\"");
        for (i, w) in WIDTHS.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}/media/{id}?w={w}&amp;h={w}&amp;fit=cover {w}w");
        }
        out.push_str("\" sizes=\"(min-width: 64rem) 20vw, (min-width: 40rem) 30vw, 48vw\" alt=\"");
        escape(&mut out, &label);
        out.push_str(
            "\" width=\"256\" height=\"256\" loading=\"lazy\" decoding=\"async\"/></button>\
             <label class=\"tile__select\"><input type=\"checkbox\"/>\
             <span class=\"visually-hidden\">Select ",
        );
        escape(&mut out, &label);
        out.push_str("</span></label>");
        if image.favorite {
            out.push_str("<span class=\"tile__favorite\" title=\"Favourite\" aria-label=\"Favourite\">★</span>");
        }
        out.push_str("<span class=\"tile__caption\">");
        escape(&mut out, &label);
        out.push_str("</span></li>");
    }
    out.push_str("</ul></main></body></html>");
    Ok(Html(out))
}
