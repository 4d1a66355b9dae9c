//! Starting the real server on port 0 with a fresh database, in-process or as the binary.

#![allow(dead_code)]

pub mod api;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

use backend::{db::Dialect, testing::TestDb, Config};
use server::Server;
use tokio_util::sync::CancellationToken;

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub data_dir: tempfile::TempDir,
    pub config: Config,
    /// The running server's services, for checks a client cannot make.
    pub backend: backend::Backend,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    db: Option<TestDb>,
}

pub fn base_vars(data_dir: &std::path::Path) -> HashMap<String, String> {
    HashMap::from([
        ("DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("LEPTOS_SITE_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("RUST_LOG".to_owned(), "info".to_owned()),
        // Tests sign in many times from 127.0.0.1; the limit itself has its own test.
        ("AUTH_RATE_LIMIT_PER_MINUTE".to_owned(), "10000".to_owned()),
    ])
}

impl TestServer {
    pub async fn start(dialect: Dialect) -> Self {
        Self::start_with(dialect, &[]).await
    }

    pub async fn start_with(dialect: Dialect, extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new(dialect).await;
        let url = db.url.expose().to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self::launch(&[("DATABASE_URL", url.as_str())], extra, Some(db), client).await
    }

    /// A second server process (in this process) on the same database, with its own data
    /// directory: the shape of a scaled-out deployment.
    pub async fn start_beside(&self, extra: &[(&str, &str)]) -> Self {
        // The same secret: provider keys and signed links are readable by both.
        let secret = secrecy::ExposeSecret::expose_secret(&self.config.encryption_secret);
        let shared = [
            ("DATABASE_URL", self.config.database_url.expose()),
            ("ENCRYPTION_SECRET", secret),
        ];
        Self::launch(&shared, extra, None, self.client.clone()).await
    }

    async fn launch(
        base: &[(&str, &str)],
        extra: &[(&str, &str)],
        db: Option<TestDb>,
        client: reqwest::Client,
    ) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut vars = base_vars(data_dir.path());
        for (k, v) in base.iter().chain(extra) {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::load(|k| vars.get(k).cloned())
            .and_then(Config::prepare)
            .unwrap();
        let server = Server::bind(config.clone()).await.unwrap();
        let addr = server.local_addr();
        let shutdown = server.state.shutdown.clone();
        let backend = server.state.backend.clone();
        let handle = tokio::spawn(server.run());
        Self {
            addr,
            base: format!("http://{addr}"),
            client,
            shutdown,
            data_dir,
            config,
            backend,
            handle,
            db,
        }
    }

    /// The server's database, for checks a client cannot make.
    pub fn db(&self) -> &backend::Db {
        &self.db.as_ref().expect("the server is running").db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The HTML of the page at `path`, as the person signed in with the session `cookie`
    /// sees it.
    pub async fn page(&self, path: &str, cookie: &str) -> String {
        self.client
            .get(self.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Signs a new account up (as a browser would, with its `Origin`) and answers its
    /// session cookie, as `name=value` for a `Cookie` header.
    pub async fn sign_up(&self, email: &str) -> String {
        sign_up(&self.base, &self.client, email).await
    }

    /// Stops the server (gracefully) and drops its database.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        self.handle.await.unwrap().unwrap();
        if let Some(db) = self.db.take() {
            db.destroy().await;
        }
    }
}

/// Runs `test` against a server on SQLite and then on Postgres (unless skipped outside CI).
pub async fn on_both<F, Fut>(test: F)
where
    F: Fn(Dialect) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test(Dialect::Sqlite).await;
    if !backend::testing::skip_postgres() {
        test(Dialect::Postgres).await;
    }
}

/// Signs a new account up at any running server (as a browser would, with its `Origin`)
/// and answers its session cookie, as `name=value` for a `Cookie` header.
pub async fn sign_up(base: &str, client: &reqwest::Client, email: &str) -> String {
    let resp = client
        .post(format!("{base}/api/v1/auth/signup"))
        .header(reqwest::header::ORIGIN, base)
        .json(&serde_json::json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED, "{email}");
    session_cookie(&resp)
}

/// The session cookie a sign-up or sign-in answer sets, as `name=value` for a `Cookie`
/// header.
pub fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The `avatar-studio` binary, run as a person would run it.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_avatar-studio"));
    // Only what the test sets: nothing from the developer's environment or .env. A server
    // it starts listens on a free port: the README's app may hold the default one.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .current_dir(std::env::temp_dir());
    cmd
}

/// Asks a process to stop, as an init system would.
pub fn sigterm(child: &std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
}

/// Waits for a process to exit, failing the test after `timeout`.
pub fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the process did not exit within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running binary whose JSON log lines are read on a thread; what it prints on stderr
/// (a panic, with where it happened) is echoed and kept.
pub struct RunningBinary {
    pub child: Child,
    pub lines: mpsc::Receiver<serde_json::Value>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl RunningBinary {
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.env("LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start avatar-studio");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
                    if tx.send(value).is_err() {
                        break;
                    }
                } else {
                    eprintln!("non-JSON output: {line}");
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().unwrap();
        std::thread::spawn({
            let stderr = Arc::clone(&stderr);
            move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("{line}");
                    stderr.lock().unwrap().push(line);
                }
            }
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    /// The lines the binary printed on stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for a log line whose message is `message`.
    pub fn wait_for(&self, message: &str, timeout: Duration) -> serde_json::Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line)
                    if line["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(message)) =>
                {
                    return line
                }
                Ok(_) => {}
                Err(e) => panic!("no log line '{message}' within {timeout:?}: {e}"),
            }
        }
    }

    /// Waits until the server listens, and returns its address.
    pub fn wait_listening(&self) -> SocketAddr {
        let line = self.wait_for("listening on", Duration::from_secs(60));
        line["addr"].as_str().unwrap().parse().unwrap()
    }

    /// Waits for the log line of an answer to a request for `path` (earlier requests'
    /// lines are skipped).
    pub fn wait_answered(&self, path: &str) -> serde_json::Value {
        loop {
            let line = self.wait_for("answered", Duration::from_secs(10));
            if line["span"]["path"] == path {
                return line;
            }
        }
    }
}

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3-compatible server (moto, installed by `scripts/setup.sh --test`) on a free port
/// of the loopback interface, stopped when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    /// Starts moto and creates `bucket` in it.
    pub async fn start(bucket: &str) -> Self {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}): scripts/setup.sh --test installs it")
            });
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("Running on http://") {
                    let url = line[at + "Running on ".len()..].trim().to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto_server did not start within a minute");
        let server = Self { child, endpoint };
        // moto does not check signatures: a plain PUT creates the bucket.
        let resp = reqwest::Client::new()
            .put(format!("{}/{bucket}", server.endpoint))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "create bucket: {}",
            resp.status()
        );
        server
    }

    /// The variables that point an `s3://` store at this server.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test-key".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A picture with some structure, so that encoders have something to do.
pub fn picture(width: u32, height: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255])
    })
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    {
        let mut out = std::io::Cursor::new(Vec::new());
        picture(width, height)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }
}
