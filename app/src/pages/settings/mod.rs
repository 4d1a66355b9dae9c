//! Settings: profile, sign-in methods (password and identity providers), usage of the account's limits, provider keys, spending, access
//! tokens, sessions, and deleting the account. Every form posts to a server function (it works before hydration); the
//! lists reload after each change.

mod sign_in_methods;
mod spending;

use leptos::prelude::*;
use leptos_meta::Title;
use model::{KeyProvider, ProviderKeyInfo, SessionInfo, TokenInfo, TokenScope};

use crate::{
    api::account::{
        CreateToken, CurrentUser, DeleteAccount, DeleteProviderKey, ListProviderKeys, ListSessions,
        ListTokens, MyUsage, ResendVerification, RevokeOtherSessions, RevokeSession, RevokeToken,
        SaveProviderKey, TakeNewToken, TestProviderKey, UpdateProfile,
    },
    components::{
        field_error, form_error, show_when, succeeded, Field, FormAction, FormError, Notice,
        NoticeLine, PageHeader, PostForm, Skeleton, UsageMeters,
    },
    format::when,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <PageHeader title="Settings" lead="Your account, your provider keys, access for scripts and where you are signed in." />
        <nav class="settings-nav" aria-label="Settings sections">
            <a href="#profile">"Profile"</a>
            <a href="#sign-in-methods">"Sign-in methods"</a>
            <a href="#usage">"Usage"</a>
            <a href="#keys">"Provider keys"</a>
            <a href="#spending">"Spending"</a>
            <a href="#tokens">"Access tokens"</a>
            <a href="#sessions">"Sessions"</a>
            <a href="#danger">"Delete account"</a>
        </nav>
        <ProfileSection />
        <sign_in_methods::SignInMethodsSection />
        <UsageSection />
        <ProviderKeysSection />
        <spending::SpendingSection />
        <TokensSection />
        <SessionsSection />
        <DeleteAccountSection />
    }
}

/// What the account uses of its limits.
#[component(transparent)]
fn UsageSection() -> impl IntoView {
    let usage = crate::server_resource::server_resource(|| (), |()| MyUsage {});
    view! {
        <section class="card settings-section" id="usage" aria-labelledby="usage-title">
            <h2 id="usage-title">"Usage"</h2>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(u)) => view! {
                            <UsageMeters usage=u />
                            <p class="muted">{if u.custom { "An administrator set these limits for your account." } else { "These are the limits of this instance." }}</p>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component(transparent)]
fn ProfileSection() -> impl IntoView {
    let update = FormAction::<UpdateProfile>::new();
    let resend = FormAction::<ResendVerification>::new();
    let user =
        crate::server_resource::server_resource(move || update.version().get(), |_| CurrentUser {});
    view! {
        <section class="card settings-section" id="profile" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => {
                            let verified = u.email_verified;
                            view! {
                                <p class="settings-email">
                                    "Signed in as " <strong>{u.email.clone()}</strong> " "
                                    {if verified {
                                        view! { <span class="badge badge--ok">"verified"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge badge--warn">"not verified"</span> }.into_any()
                                    }}
                                </p>
                                {show_when(move || !verified, move || view! {
                                    <PostForm action=resend class="form form--inline">
                                        <button type="submit" class="button">"Send the verification email again"</button>
                                    </PostForm>
                                    <NoticeLine notice=succeeded(resend, "A new verification link is on its way.") />
                                })}
                                <PostForm action=update class="form">
                                    <Field label="Display name" name="display_name" autocomplete="nickname" maxlength=80 value=u.display_name.clone().unwrap_or_default() error=field_error(update, "display_name") />
                                    <button type="submit" class="button">"Save"</button>
                                </PostForm>
                                <NoticeLine notice=succeeded(update, "Saved.") />
                            }
                            .into_any()
                        }
                        Ok(None) => view! { <SignInPrompt /> }.into_any(),
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A token just created: shown once.
#[component]
fn NewToken(token: String) -> impl IntoView {
    view! {
        <div class="notice notice--ok new-token" role="status">
            <p>"Your new token — copy it now, it will not be shown again:"</p>
            <input class="new-token__value" readonly=true value=token aria-label="New access token" />
        </div>
    }
}

#[component(transparent)]
fn SignInPrompt() -> impl IntoView {
    view! {
        <p class="notice">
            "Your session has ended. " <a href="/login?next=/settings">"Sign in again"</a>
        </p>
    }
}

#[component(transparent)]
fn ProviderKeysSection() -> impl IntoView {
    // One save and one test action per provider, made here so that they outlive the
    // reloads of the list (their messages stay visible).
    let openai = (
        FormAction::<SaveProviderKey>::new(),
        FormAction::<TestProviderKey>::new(),
    );
    let gemini = (
        FormAction::<SaveProviderKey>::new(),
        FormAction::<TestProviderKey>::new(),
    );
    let remove = FormAction::<DeleteProviderKey>::new();
    let keys = crate::server_resource::server_resource(
        move || {
            (
                openai.0.version().get(),
                gemini.0.version().get(),
                remove.version().get(),
            )
        },
        |_| ListProviderKeys {},
    );
    view! {
        <section class="card settings-section" id="keys" aria-labelledby="keys-title">
            <h2 id="keys-title">"Provider keys"</h2>
            <p class="muted">
                "Your own API keys for OpenAI and Google Gemini. They are encrypted on this server; only their last four characters are ever shown again."
            </p>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => KeyProvider::ALL
                            .into_iter()
                            .map(|provider| {
                                let stored = list.iter().find(|k| k.provider == provider).cloned();
                                let (save, test) = match provider {
                                    KeyProvider::Openai => openai,
                                    KeyProvider::Gemini => gemini,
                                };
                                view! { <ProviderKeyRow provider stored save test remove /> }
                            })
                            .collect_view()
                            .into_any(),
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component(transparent)]
fn ProviderKeyRow(
    provider: KeyProvider,
    stored: Option<ProviderKeyInfo>,
    save: FormAction<SaveProviderKey>,
    test: FormAction<TestProviderKey>,
    remove: FormAction<DeleteProviderKey>,
) -> impl IntoView {
    let save_error = field_error(save, "api_key");
    let test_result = move || {
        match test.value().get() {
        Some(Ok(())) => Some(view! {
            <p class="notice notice--ok" role="status">{format!("{} accepted the key.", provider.label())}</p>
        }.into_any()),
        Some(Err(e)) => Some(view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    let input_id = format!("key-{}", provider.as_str());
    view! {
        <div class="key-row" data-provider=provider.as_str()>
            <h3>{provider.label()}</h3>
            {match stored.clone() {
                Some(k) => view! {
                    <p class="key-row__status">
                        "Saved key ending in " <code class="key-last4">{k.last4.clone()}</code>
                        <span class="muted">{format!(" · updated {}", when(k.updated_at))}</span>
                    </p>
                    <div class="key-row__actions">
                        <PostForm action=test class="form form--inline">
                            <input type="hidden" name="provider" value=provider.as_str() />
                            <button type="submit" class="button" disabled=move || test.pending().get()>
                                {move || if test.pending().get() { "Testing…" } else { "Test key" }}
                            </button>
                        </PostForm>
                        <PostForm action=remove class="form form--inline">
                            <input type="hidden" name="provider" value=provider.as_str() />
                            <button type="submit" class="button button--danger">"Remove"</button>
                        </PostForm>
                    </div>
                    {test_result}
                }.into_any(),
                None => view! { <p class="key-row__status muted">"No key saved."</p> }.into_any(),
            }}
            <PostForm action=save class="form form--inline">
                <input type="hidden" name="provider" value=provider.as_str() />
                <div class="field" class:field--invalid=move || save_error.get().is_some()>
                    <label for=input_id.clone()>
                        {if stored.is_some() { "Replace the key" } else { "API key" }}
                    </label>
                    <input
                        id=input_id.clone()
                        name="api_key"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        required=true
                        aria-invalid=move || save_error.get().is_some().then_some("true")
                    />
                    <p class="field__error" role="alert">{move || save_error.get()}</p>
                </div>
                <button type="submit" class="button button--primary">"Save key"</button>
            </PostForm>
        </div>
    }
}

#[component(transparent)]
fn TokensSection() -> impl IntoView {
    let create = FormAction::<CreateToken>::new();
    let revoke = FormAction::<RevokeToken>::new();
    let tokens = crate::server_resource::server_resource(
        move || (create.version().get(), revoke.version().get()),
        |_| ListTokens {},
    );
    // A token created by a form posted without JavaScript comes back through the session.
    let posted = crate::server_resource::server_resource(|| (), |_| TakeNewToken {});
    view! {
        <section class="card settings-section" id="tokens" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Access tokens"</h2>
            <p class="muted">
                "For scripts and the HTTP API: send " <code>"Authorization: Bearer <token>"</code> ". A token is shown once, when you create it."
            </p>
            <FormError error=form_error(create) />
            <PostForm action=create class="form form--inline">
                <Field label="Name" name="name" required=true maxlength=100 hint="What the token is for, e.g. “backup script”." error=field_error(create, "name") />
                <div class="field">
                    <label for="field-expires_in_days">"Expires"</label>
                    <select id="field-expires_in_days" name="expires_in_days">
                        <option value="30">"in 30 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="">"never"</option>
                    </select>
                </div>
                <fieldset class="scopes">
                    <legend>"It may"</legend>
                    {SCOPE_CHOICES.into_iter().map(|(name, label, ticked)| view! {
                        <label class="scopes__choice">
                            <input type="checkbox" name=format!("scope_{name}") value="on" checked=ticked />
                            {label}
                        </label>
                    }).collect_view()}
                    <p class="field__error" role="alert">{move || field_error(create, "scopes").get()}</p>
                </fieldset>
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>
                    "Create token"
                </button>
            </PostForm>
            {move || match create.value().get() {
                Some(Ok(token)) => Some(view! { <NewToken token /> }),
                _ => None,
            }}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    posted.await.ok().flatten().map(|token| view! { <NewToken token /> })
                })}
            </Transition>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No access tokens."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="item-list" aria-label="Access tokens">
                                {list.into_iter().map(|t| view! { <TokenRow token=t revoke /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The scopes a new token may get: (form name, words, ticked by default).
const SCOPE_CHOICES: [(&str, &str, bool); 4] = [
    ("read", "read", true),
    ("generate", "generate", true),
    ("write", "change things", true),
    ("admin", "administer (administrators only)", false),
];

/// A token's scopes in words.
pub fn scope_words(scopes: &[TokenScope]) -> String {
    if scopes.is_empty() {
        return "(no scope)".to_owned();
    }
    format!(
        "may {}",
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[component(transparent)]
fn TokenRow(token: TokenInfo, revoke: FormAction<RevokeToken>) -> impl IntoView {
    view! {
        <li class="item-list__row token-row">
            <div>
                <strong>{token.name.clone()}</strong> " " <code>{format!("{}…", token.prefix)}</code>
                " " <span class="muted">{scope_words(&token.scopes)}</span>
                <p class="muted">
                    {format!("Created {}", when(token.created_at))}
                    {match token.last_used_at {
                        Some(t) => format!(" · last used {}", when(t)),
                        None => " · never used".to_owned(),
                    }}
                    {match token.expires_at {
                        Some(t) => format!(" · expires {}", when(t)),
                        None => " · does not expire".to_owned(),
                    }}
                </p>
            </div>
            <PostForm action=revoke class="form form--inline">
                <input type="hidden" name="id" value=token.id.clone() />
                <button type="submit" class="button button--danger" aria-label=format!("Revoke token {}", token.name)>"Revoke"</button>
            </PostForm>
        </li>
    }
}

#[component(transparent)]
fn SessionsSection() -> impl IntoView {
    let revoke = FormAction::<RevokeSession>::new();
    let others = FormAction::<RevokeOtherSessions>::new();
    let sessions = crate::server_resource::server_resource(
        move || (revoke.version().get(), others.version().get()),
        |_| ListSessions {},
    );
    view! {
        <section class="card settings-section" id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <p class="muted">"The browsers signed in to your account. Signing one out takes effect at once."</p>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <ul class="item-list" aria-label="Sessions">
                                {list.into_iter().map(|s| view! { <SessionRow session=s revoke /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <PostForm action=others class="form form--inline">
                <button type="submit" class="button">"Sign out everywhere else"</button>
            </PostForm>
            <NoticeLine notice=Signal::derive(move || match others.value().get() {
                Some(Ok(n)) => Some(Notice::done(format!("Signed out {n} other session(s)."))),
                _ => None,
            }) />
        </section>
    }
}

#[component(transparent)]
fn SessionRow(session: SessionInfo, revoke: FormAction<RevokeSession>) -> impl IntoView {
    let agent = session
        .user_agent
        .clone()
        .unwrap_or_else(|| "Unknown browser".to_owned());
    view! {
        <li class="item-list__row session-row" class:session-row--current=session.current>
            <div>
                <strong class="session-row__agent">{agent}</strong>
                {session.current.then(|| view! { " " <span class="badge badge--ok">"this browser"</span> })}
                <p class="muted">
                    {format!("Signed in {}{} · last active {}", when(session.created_at), session.ip.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default(), when(session.last_seen_at))}
                </p>
            </div>
            {(!session.current).then(|| view! {
                <PostForm action=revoke class="form form--inline">
                    <input type="hidden" name="id" value=session.id.clone() />
                    <button type="submit" class="button button--danger">"Sign out"</button>
                </PostForm>
            })}
        </li>
    }
}

#[component(transparent)]
fn DeleteAccountSection() -> impl IntoView {
    let delete = FormAction::<DeleteAccount>::new();
    view! {
        <section class="card settings-section settings-section--danger" id="danger" aria-labelledby="danger-title">
            <h2 id="danger-title">"Delete account"</h2>
            <p>"This deletes your account, your keys, your characters and every image you made or uploaded. It cannot be undone."</p>
            <FormError error=form_error(delete) />
            <PostForm action=delete class="form">
                <Field label="Your password, to confirm" name="password" kind="password" autocomplete="current-password" required=true error=field_error(delete, "password") />
                <button type="submit" class="button button--danger" disabled=move || delete.pending().get()>"Delete my account"</button>
            </PostForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_scopes_read_as_words() {
        assert_eq!(
            scope_words(&TokenScope::DEFAULT),
            "may read, generate, write"
        );
        assert_eq!(scope_words(&[]), "(no scope)");
        assert!(SCOPE_CHOICES
            .iter()
            .all(|(name, _, _)| name.parse::<TokenScope>().is_ok()));
    }
}
