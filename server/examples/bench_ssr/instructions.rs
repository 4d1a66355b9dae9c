//! The same comparison counted in instructions (`bench_ssr instructions [REQUESTS]`, run by
//! `scripts/bench-ssr.sh --instructions`). Requests per second on this machine move by a
//! fifth from one run to the next, more than most changes to the page's code would; a
//! count of the instructions each server executes for a request does not move with what
//! else the machine is doing. Each server runs under valgrind's callgrind, which counts
//! every instruction of every thread of it (the runtime's, SQLite's worker's), and is asked
//! for the page `REQUESTS` times, one request after another over one keep-alive connection,
//! after a warm-up. What the count leaves out, the timed run keeps: the kernel's work
//! (system calls, the hand-offs between the runtime's threads and SQLite's) and the time
//! lost to memory. So this is the figure to compare two builds of the page by, and the
//! timed run the one that says how fast the server is.
//!
//! The images are made before, by the server running natively (the built-in generator
//! under valgrind would take many minutes); both servers under valgrind then read the same
//! database. What a server does with no request at all (its timers, the job queue's
//! polling) is counted over a quiet spell as long as the measured one and taken off.

use std::{
    collections::HashSet,
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::Context as _;

use super::{gallery_page, seed, spawn, Pinned, IMAGES};

/// Requests before the count starts: connections, caches and the allocator settle.
const WARM_UP_REQUESTS: usize = 20;
/// A server under valgrind starts tens of times more slowly than natively.
const START_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// One server's count.
struct Count {
    /// Instructions while answering the requests, and in the quiet spell after them.
    busy: u64,
    idle: u64,
    /// How long the requests took under valgrind (the quiet spell is as long).
    seconds: f64,
}

impl Count {
    fn per_request(&self, requests: usize) -> f64 {
        self.busy.saturating_sub(self.idle) as f64 / requests.max(1) as f64
    }
}

pub async fn run(requests: usize) -> anyhow::Result<()> {
    let server_bin = std::env::var_os("AVATAR_STUDIO_BIN")
        .context("AVATAR_STUDIO_BIN: the server binary to measure")?;
    let server_bin = Path::new(&server_bin);
    which("valgrind")?;
    which("callgrind_control")?;
    let data = tempfile::tempdir()?;
    // callgrind's files: kept in BENCH_SSR_PROFILE when it is set (for callgrind_annotate).
    let scratch = tempfile::tempdir()?;
    let dumps =
        std::env::var_os("BENCH_SSR_PROFILE").map_or_else(|| scratch.path().to_owned(), Into::into);
    std::fs::create_dir_all(&dumps)?;
    let cookie = {
        let mut pinned = Command::new("taskset");
        pinned.args(["-c", "0"]);
        let native = spawn(pinned, server_bin, &[], data.path(), START_LIMIT)?;
        seed(&reqwest::Client::new(), &native.base).await?
        // Dropped here: the native server stops before the counted ones start.
    };

    let me = std::env::current_exe()?;
    let mut counts = Vec::new();
    for (name, program, args, path) in [
        (
            "ours",
            server_bin,
            &[][..],
            format!("/gallery?limit={IMAGES}"),
        ),
        (
            "handwritten",
            me.as_path(),
            &["serve"][..],
            "/gallery".to_owned(),
        ),
    ] {
        // One file per dump, named after the process: a kept directory may hold older ones.
        let out = dumps.join(format!("{name}.%p"));
        let mut launcher = Command::new("taskset");
        launcher
            // Names written out in every file: each dump is read on its own.
            .args(["-c", "0", "valgrind", "--tool=callgrind", "--quiet"])
            .arg("--compress-strings=no")
            .arg(format!("--callgrind-out-file={}", out.display()));
        let server = spawn(launcher, program, args, data.path(), START_LIMIT)?;
        let url = format!("{}{path}", server.base);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        fetch(&http, &url, &cookie, WARM_UP_REQUESTS).await?;

        control(&server, "--zero")?;
        let started = Instant::now();
        fetch(&http, &url, &cookie, requests).await?;
        let spell = started.elapsed();
        let busy = dump(&server, &dumps)?;
        control(&server, "--zero")?;
        tokio::time::sleep(spell).await;
        let idle = dump(&server, &dumps)?;
        counts.push((
            name,
            Count {
                busy,
                idle,
                seconds: spell.as_secs_f64(),
            },
        ));
    }

    println!(
        "Gallery page, {IMAGES} images, signed in; each server under valgrind's callgrind, \
         {requests} requests one after another after {WARM_UP_REQUESTS} of warm-up; the \
         instructions of a quiet spell as long taken off.\n"
    );
    println!("| server | instructions per request | quiet spell (instructions) | spell s |");
    println!("|---|---|---|---|");
    for (name, c) in &counts {
        println!(
            "| {name} | {:.2} M | {:.1} M | {:.1} |",
            c.per_request(requests) / 1e6,
            c.idle as f64 / 1e6,
            c.seconds
        );
    }
    if let [(_, ours), (_, hand)] = &counts[..] {
        println!(
            "\nratio by instructions per request (hand-written / ours): {:.3}",
            hand.per_request(requests) / ours.per_request(requests)
        );
    }
    Ok(())
}

fn which(program: &str) -> anyhow::Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()?
        .status
        .success();
    anyhow::ensure!(found, "{program} is needed (Debian's valgrind package)");
    Ok(())
}

/// Asks for the page `n` times, one after another; every answer must be the whole gallery.
async fn fetch(http: &reqwest::Client, url: &str, cookie: &str, n: usize) -> anyhow::Result<()> {
    for _ in 0..n {
        gallery_page(http, url, cookie).await?;
    }
    Ok(())
}

/// `callgrind_control OPTION PID`: it reaches the server through valgrind's gdbserver,
/// even while the server waits in a system call.
fn control(server: &Pinned, option: &str) -> anyhow::Result<()> {
    let status = Command::new("callgrind_control")
        .arg(option)
        .arg(server.child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "callgrind_control {option} failed");
    Ok(())
}

/// Dumps the counts since the last zeroing and answers the instructions in the new file.
fn dump(server: &Pinned, dir: &Path) -> anyhow::Result<u64> {
    let before: HashSet<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    control(server, "--dump")?;
    let new = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| !before.contains(p))
        .context("callgrind wrote no file")?;
    let text = std::fs::read_to_string(&new)?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no total in {}", new.display()))
}
