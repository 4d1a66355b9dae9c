//! Settings → Sign-in methods: the password (changed, or set for the first time by an
//! account made through an identity provider) and the linked identities, with a button to
//! link each other configured provider and one to unlink each identity — never the last
//! way in (the server refuses it too).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use model::{LinkedIdentity, SignInMethods};

use crate::{
    api::account::{ChangePassword, ListSignInMethods, UnlinkIdentity},
    components::{
        field_error, form_error, problem_notice, succeeded, Field, FormAction, FormError, Notice,
        NoticeLine, PostForm, Skeleton,
    },
    format::when,
};

/// What the section says after coming back from a provider: linked, or why not.
pub fn return_notice(
    linked: Option<&str>,
    error: Option<&str>,
    methods: &SignInMethods,
) -> Option<Notice> {
    if let Some(notice) = problem_notice(error) {
        return Some(notice);
    }
    let provider = linked?;
    let name = methods
        .identities
        .iter()
        .find(|i| i.provider == provider)?
        .display_name
        .clone();
    Some(Notice::done(format!(
        "{name} is linked: you can sign in with it from now on."
    )))
}

/// Whether this identity is the account's only way to sign in.
pub fn is_last_way_in(methods: &SignInMethods) -> bool {
    !methods.has_password && methods.identities.len() <= 1
}

#[component]
pub fn SignInMethodsSection() -> impl IntoView {
    let password = FormAction::<ChangePassword>::new();
    let unlink = FormAction::<UnlinkIdentity>::new();
    let methods = crate::server_resource::server_resource(
        move || (password.version().get(), unlink.version().get()),
        |_| ListSignInMethods {},
    );
    let query = use_query_map();
    view! {
        <section class="card settings-section" id="sign-in-methods" aria-labelledby="sign-in-methods-title">
            <h2 id="sign-in-methods-title">"Sign-in methods"</h2>
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match methods.await {
                        Ok(m) => {
                            let notice = return_notice(
                                query.read().get("linked").as_deref(),
                                query.read().get("error").as_deref(),
                                &m,
                            );
                            view! {
                                <NoticeLine notice=Signal::derive(move || notice.clone()) />
                                <Identities methods=m.clone() unlink />
                                <PasswordForm has_password=m.has_password password />
                            }.into_any()
                        }
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <FormError error=form_error(unlink) />
        </section>
    }
}

#[component(transparent)]
fn Identities(methods: SignInMethods, unlink: FormAction<UnlinkIdentity>) -> impl IntoView {
    let last = is_last_way_in(&methods);
    let rows = methods
        .identities
        .into_iter()
        .map(|identity| view! { <IdentityRow identity last unlink /> })
        .collect_view();
    let available = methods.available;
    view! {
        <h3>"Identity providers"</h3>
        {if rows.is_empty() {
            view! { <p class="muted">"No identity provider is linked."</p> }.into_any()
        } else {
            view! { <ul class="identity-list">{rows}</ul> }.into_any()
        }}
        {(!available.is_empty()).then(|| view! {
            <div class="form--inline identity-link">
                {available.into_iter().map(|p| view! {
                    // A plain form post: the server answers with the provider's page.
                    <form method="post" action=format!("/auth/{}/link", p.name)>
                        <button type="submit" class="button" data-provider=p.name.clone()>
                            {format!("Link {}", p.display_name)}
                        </button>
                    </form>
                }).collect_view()}
            </div>
        })}
    }
}

#[component(transparent)]
fn IdentityRow(
    identity: LinkedIdentity,
    last: bool,
    unlink: FormAction<UnlinkIdentity>,
) -> impl IntoView {
    let label = format!("Unlink {}", identity.display_name);
    view! {
        <li class="identity-list__item" data-provider=identity.provider.clone()>
            <div>
                <strong>{identity.display_name.clone()}</strong>
                {identity.email.clone().map(|e| view! { " · " <span>{e}</span> })}
                <p class="muted">
                    {format!("Linked {} · last used {}", when(identity.created_at), when(identity.last_used_at))}
                </p>
            </div>
            <PostForm action=unlink class="form form--inline">
                <input type="hidden" name="id" value=identity.id.clone() />
                <button type="submit" class="button button--danger" aria-label=label disabled=last
                    title=last.then_some("This is your only way to sign in: set a password or link another provider first.")>
                    "Unlink"
                </button>
            </PostForm>
        </li>
    }
}

#[component(transparent)]
fn PasswordForm(has_password: bool, password: FormAction<ChangePassword>) -> impl IntoView {
    let (title, button, done) = if has_password {
        (
            "Change password",
            "Change password",
            "Password changed. You were signed out everywhere else, and your access tokens no longer work.",
        )
    } else {
        (
            "Set a password",
            "Set password",
            "Password set: you can also sign in with your email address and this password.",
        )
    };
    view! {
        <h3>{title}</h3>
        {(!has_password).then(|| view! {
            <p class="muted">"Your account was made through an identity provider and has no password yet."</p>
        })}
        <FormError error=form_error(password) />
        <PostForm action=password class="form">
            {if has_password {
                view! { <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=field_error(password, "current_password") /> }.into_any()
            } else {
                view! { <input type="hidden" name="current_password" value="" /> }.into_any()
            }}
            <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true minlength=10 hint="At least 10 characters. Your other sessions end." error=field_error(password, "new_password") />
            <button type="submit" class="button" disabled=move || password.pending().get()>{button}</button>
        </PostForm>
        <NoticeLine notice=succeeded(password, done) />
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn identity(provider: &str, name: &str) -> LinkedIdentity {
        LinkedIdentity {
            id: format!("id-{provider}"),
            provider: provider.to_owned(),
            display_name: name.to_owned(),
            email: None,
            created_at: Utc::now(),
            last_used_at: Utc::now(),
        }
    }

    #[test]
    fn the_only_identity_of_an_account_without_a_password_is_its_last_way_in() {
        let mut m = SignInMethods {
            has_password: false,
            identities: vec![identity("corp", "Corp")],
            available: vec![],
        };
        assert!(is_last_way_in(&m));
        m.identities.push(identity("github", "GitHub"));
        assert!(!is_last_way_in(&m));
        m.identities.truncate(1);
        m.has_password = true;
        assert!(!is_last_way_in(&m));
    }

    #[test]
    fn coming_back_says_what_was_linked_or_why_not() {
        let m = SignInMethods {
            has_password: true,
            identities: vec![identity("corp", "Corp SSO")],
            available: vec![],
        };
        assert_eq!(
            return_notice(Some("corp"), None, &m),
            Some(Notice::done(
                "Corp SSO is linked: you can sign in with it from now on."
            ))
        );
        // Not linked after all (or a made-up name): nothing to say.
        assert_eq!(return_notice(Some("github"), None, &m), None);
        let taken = return_notice(None, Some("identity_taken"), &m).unwrap();
        assert!(!taken.ok);
        assert_eq!(return_notice(None, None, &m), None);
    }
}
