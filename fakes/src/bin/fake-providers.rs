//! The fake OpenAI and Gemini as a program, for the browser tests: starts both on free
//! loopback ports, prints `{"openai": "<OPENAI_BASE_URL>", "gemini": "<GEMINI_BASE_URL>"}`
//! as its first line, and serves until it is killed. The fakes speak the providers' wire
//! formats (shared/reference), as in the server's tests.

use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let openai = fakes::Fake::openai().await;
    let gemini = fakes::Fake::gemini().await;
    let bases = serde_json::json!({"openai": openai.openai_base(), "gemini": gemini.base()});
    // The one line the browser tests read; stdout is theirs.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{bases}").expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    std::future::pending::<()>().await;
}
