import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { createServer } from "node:net";

/// A port of the loopback interface that is free now (the identity provider must know the
/// app's callback address before the app starts).
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

/// panva's oidc-provider (end2end/oidc/provider.mjs), with the app's callback registered;
/// answers its issuer once it listens.
async function startIdentityProvider(root: string, callback: string) {
  const child = spawn(process.execPath, [join(root, "end2end/oidc/provider.mjs"), "--redirect", callback], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const issuer = await new Promise<string>((resolveIssuer, reject) => {
    const timer = setTimeout(() => reject(new Error("the identity provider did not start within 30 s")), 30_000);
    child.on("exit", (code) => reject(new Error(`the identity provider exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolveIssuer(JSON.parse(line).issuer);
    });
  });
  return { child, issuer };
}

/// The fake OpenAI and Gemini (the `fake-providers` program of the `fakes` crate, the
/// providers' wire formats on loopback); answers their base URLs once they listen.
async function startFakeProviders(bin: string) {
  const child = spawn(bin, [], { stdio: ["ignore", "pipe", "inherit"] });
  const bases = await new Promise<{ openai: string; gemini: string }>((resolveBases, reject) => {
    const timer = setTimeout(() => reject(new Error("the fake providers did not start within 30 s")), 30_000);
    child.on("exit", (code) => reject(new Error(`the fake providers exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolveBases(JSON.parse(line));
    });
  });
  return { child, ...bases };
}

// Starts the real built server on a free port with a fresh DATA_DIR, and stops it after
// the suite.
export default async function globalSetup() {
  const root = resolve(__dirname, "..");
  const bin =
    process.env.E2E_SERVER_BIN ??
    join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "", ".cache/avatar-studio/target"), "release/avatar-studio");
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run 'cargo leptos build --release' (or set E2E_SERVER_BIN)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "avatar-e2e-"));
  // The instance's administrator, made by the operator command before anyone signs up.
  const adminEmail = "admin@e2e.example.com";
  const adminPassword = "operations for the e2e suite";
  const created = spawnSync(bin, ["user", "create", adminEmail, "--admin", "--password-stdin"], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir },
    input: `${adminPassword}\n`,
    encoding: "utf8",
  });
  if (created.status !== 0) {
    throw new Error(`cannot create the administrator: ${created.stderr}`);
  }
  process.env.E2E_ADMIN_EMAIL = adminEmail;
  process.env.E2E_ADMIN_PASSWORD = adminPassword;
  process.env.E2E_SERVER_BIN = bin;
  // Checked before anything starts: a helper left running would keep the suite's output
  // open after the failure.
  const fakesBin = process.env.E2E_FAKES_BIN ?? join(dirname(bin), "fake-providers");
  if (!existsSync(fakesBin)) {
    throw new Error(`no fake providers at ${fakesBin}: run 'cargo build -p fakes --bin fake-providers'`);
  }
  const port = await freePort();
  const idp = await startIdentityProvider(root, `http://127.0.0.1:${port}/auth/corp/callback`);
  const fakes = await startFakeProviders(fakesBin).catch((e) => {
    idp.child.kill("SIGTERM");
    throw e;
  });
  const server = spawn(bin, [], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? join(root, "target/site"),
      LEPTOS_ENV: "PROD",
      LOG_FORMAT: "json",
      RUST_LOG: "warn,server=info",
      // A panic on the server (answered 500) prints where it happened.
      RUST_BACKTRACE: "1",
      // Long enough that a job is visibly under way (the Studio tests watch its stages),
      // and still under way after a reload, hydration and the live connection's first
      // read (studio.spec.ts): 4 s was not, once, on a slow run of CI's two cores.
      BUILTIN_DELAY_MS: "8000",
      // The built-in generator priced at a cent an image, so that spend and caps show
      // offline (spend.spec.ts).
      PRICING_FILE: join(root, "end2end/prices.json"),
      // The AI providers, faked (compare.spec.ts: people who save a key reach them).
      OPENAI_BASE_URL: fakes.openai,
      GEMINI_BASE_URL: fakes.gemini,
      // Not the default (5 MiB), so that the upload panel's "Up to 6.0 MB" shows the
      // limit comes from the server (characters.spec.ts).
      MAX_UPLOAD_BYTES: String(6 * 1024 * 1024),
      // Every test signs up from 127.0.0.1; the limit has its own server test.
      AUTH_RATE_LIMIT_PER_MINUTE: "10000",
      // Sign-in through an identity provider (identity.spec.ts).
      OIDC_PROVIDERS: "corp",
      OIDC_CORP_ISSUER: idp.issuer,
      OIDC_CORP_CLIENT_ID: "avatar-studio",
      OIDC_CORP_CLIENT_SECRET: "avatar-studio-test-secret",
      OIDC_CORP_DISPLAY_NAME: "Corp SSO",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The server's stderr (where Rust prints a panic, with its backtrace) goes to the
  // suite's output and to test-results/server-stderr.log; a panic anywhere in the server
  // during the run fails the suite at teardown, even when no test noticed it (a render of
  // a page whose client had left, answering nobody, did: README, "Tests").
  const panics: string[] = [];
  const logDir = join(root, "end2end", "test-results");
  mkdirSync(logDir, { recursive: true });
  const errLog = createWriteStream(join(logDir, "server-stderr.log"));
  let panicLine: string | undefined;
  createInterface({ input: server.stderr! }).on("line", (line) => {
    errLog.write(`${line}\n`);
    process.stderr.write(`server: ${line}\n`);
    if (panicLine !== undefined) {
      // The line after "panicked at" is the panic's message.
      panics.push(`${panicLine} ${line}`);
      panicLine = undefined;
    } else if (/ panicked at /.test(line)) {
      panicLine = line;
    }
  });

  const started = new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start within 60 s")), 60_000);
    server.on("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    // Every line of the server's log goes to test-results/server.log; warnings and errors
    // also to the suite's output, so that a failure on the server side is seen.
    const log = createWriteStream(join(logDir, "server.log"));
    createInterface({ input: server.stdout! }).on("line", (line) => {
      log.write(`${line}\n`);
      try {
        const entry = JSON.parse(line);
        if (entry.level === "ERROR" || entry.level === "WARN") {
          process.stderr.write(`server: ${line}\n`);
        }
        if (typeof entry.message === "string" && entry.message.startsWith("listening on") && entry.addr) {
          clearTimeout(timer);
          resolveUrl(`http://${entry.addr}`);
        }
      } catch {
        // not a log line
      }
    });
  });
  const baseUrl = await started.catch((e) => {
    for (const child of [server, idp.child, fakes.child]) child.kill("SIGTERM");
    throw e;
  });
  process.env.E2E_BASE_URL = baseUrl;
  // Mail goes to $DATA_DIR/outbox (no SMTP_URL): the tests read the links from there.
  process.env.E2E_DATA_DIR = dataDir;

  return async () => {
    server.kill("SIGTERM");
    await new Promise((done) => server.once("exit", done));
    idp.child.kill("SIGTERM");
    fakes.child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    if (panicLine !== undefined) panics.push(panicLine);
    if (panics.length > 0) {
      throw new Error(`the server panicked ${panics.length} time(s) during the run (test-results/server-stderr.log):\n${panics.join("\n")}`);
    }
  };
}
