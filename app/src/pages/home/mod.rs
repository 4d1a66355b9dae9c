use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::handler;

mod dashboard;

#[cfg(feature = "hydrate")]
pub(crate) use dashboard::load_dashboard;
use dashboard::Dashboard;

/// The longest prompt the generators accept.
pub const MAX_PROMPT_CHARS: usize = 4000;

/// Example prompts for "Surprise me".
const EXAMPLE_PROMPTS: [&str; 6] = [
    "A friendly lighthouse keeper with a grey beard, warm oil-painting style, soft evening light",
    "A cyberpunk courier with neon-blue hair and a reflective visor, rain in the background",
    "A watercolour portrait of a curious red fox wearing a tiny explorer's hat",
    "An elderly astronomer with round glasses, surrounded by brass instruments, studio lighting",
    "A cheerful robot barista with copper plating, flat vector illustration, pastel palette",
    "A stoic knight in moss-covered armour, cinematic lighting, shallow depth of field",
];

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>{model::PRODUCT_NAME}</h1>
            <p class="lead">
                "Create characters, generate their avatars with AI and keep every image you make — on your own server."
            </p>
            <p class="actions">
                <a href="/studio" class="button button--primary">"Open the Studio"</a>
                <a href="/gallery" class="button">"Browse the gallery"</a>
            </p>
        </section>

        <Dashboard />

        <PromptPlayground />

        <section class="features" aria-labelledby="features-title">
            <h2 id="features-title">"What it does"</h2>
            <ul class="feature-grid">
                <li class="card">
                    <h3>"Characters"</h3>
                    <p>
                        "Give each character a description, a prompt and reference images; its avatar and every earlier attempt stay together."
                    </p>
                </li>
                <li class="card">
                    <h3>"Three generators"</h3>
                    <p>
                        "OpenAI and Google Gemini with your own API keys (encrypted at rest), or the built-in generator that works offline."
                    </p>
                </li>
                <li class="card">
                    <h3>"Live progress"</h3>
                    <p>
                        "Every job shows its stage as it happens — generating, downloading, storing — and the result appears without a reload."
                    </p>
                </li>
                <li class="card">
                    <h3>"A real library"</h3>
                    <p>
                        "Collections, a searchable gallery, favourites, trash, resized variants, imports from URLs and ZIP exports."
                    </p>
                </li>
                <li class="card">
                    <h3>"Yours to run"</h3>
                    <p>
                        "One machine with SQLite and local files and no configuration; PostgreSQL and S3 when you outgrow it."
                    </p>
                </li>
                <li class="card">
                    <h3>"Made to last"</h3>
                    <p>
                        "A durable job queue with retries, scheduled cleanup of orphaned files, and an API for your own scripts."
                    </p>
                </li>
            </ul>
        </section>

        <InstanceStatus />
    }
}

/// A prompt box with a live character count and a "Surprise me" button. It needs the
/// page to be hydrated: the button stays disabled in the server-rendered HTML.
#[component(transparent)]
fn PromptPlayground() -> impl IntoView {
    let prompt = RwSignal::new(String::new());
    let next_example = RwSignal::new(0usize);
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));

    let count = move || prompt.with(|p| p.chars().count());
    let surprise = move |_| {
        let i = next_example.get_untracked();
        prompt.set(EXAMPLE_PROMPTS[i % EXAMPLE_PROMPTS.len()].to_owned());
        next_example.set(i + 1);
    };
    let studio_href = move || {
        let p = prompt.get();
        if p.trim().is_empty() {
            "/studio".to_owned()
        } else {
            format!("/studio?prompt={}", js_encode(p.trim()))
        }
    };

    view! {
        <section class="card playground" aria-labelledby="playground-title">
            <h2 id="playground-title">"Describe an avatar"</h2>
            <label for="playground-prompt" class="label">
                "Prompt"
            </label>
            <textarea
                id="playground-prompt"
                name="prompt"
                rows="3"
                maxlength=MAX_PROMPT_CHARS
                placeholder="A friendly lighthouse keeper, warm oil-painting style…"
                prop:value=move || prompt.get()
                on:input=handler(move |ev| prompt.set(event_target_value(&ev)))
            ></textarea>
            <div class="playground__bar">
                <span class="muted" data-testid="prompt-count" aria-live="polite">
                    {count} " / " {MAX_PROMPT_CHARS} " characters"
                </span>
                <span class="actions">
                    <button
                        type="button"
                        class="button"
                        data-testid="surprise-me"
                        disabled=move || !interactive.get()
                        on:click=handler(surprise)
                    >
                        "Surprise me"
                    </button>
                    <a class="button button--primary" href=studio_href>
                        "Generate in the Studio"
                    </a>
                </span>
            </div>
        </section>
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters are kept).
fn js_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The instance's version and ready providers. They are its configuration, so the server
/// writes them into the page (`crate::instance`) instead of the browser asking a server
/// function for them: the home page is most visitors' first, and the request's client code
/// and a `Suspense` were part of what it downloaded (issue 17).
#[component(transparent)]
fn InstanceStatus() -> impl IntoView {
    view! {
        <section class="instance" aria-labelledby="instance-title">
            <h2 id="instance-title">"This instance"</h2>
            {match crate::instance::use_instance() {
                Some(info) => view! {
                    <p data-testid="instance-info">
                        "Version " {info.version} ". Ready to generate with: "
                        {info.ready_providers.join(", ")}
                        ". Add your own OpenAI or Gemini key in Settings to use them."
                    </p>
                }
                .into_any(),
                None => view! { <p class="error">"This instance's details are not available."</p> }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_encoded_for_a_query_string() {
        assert_eq!(js_encode("a fox & hat"), "a%20fox%20%26%20hat");
        assert_eq!(js_encode("é"), "%C3%A9");
    }

    #[test]
    fn example_prompts_fit_the_limit() {
        assert!(EXAMPLE_PROMPTS
            .iter()
            .all(|p| p.chars().count() <= MAX_PROMPT_CHARS));
    }
}
