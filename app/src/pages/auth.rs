//! Signing up and in, and the pages that mail links open: verify the email address,
//! forgot and reset the password. Every form posts to its server function, so it works
//! before the page is hydrated; errors appear next to the field they are about.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use model::SignupMode;

use crate::{
    api::account::{ForgotPassword, ResetPassword, SignIn, SignUp, VerifyEmail},
    components::{
        field_error, form_error, pending_link_text, problem_notice, show_when,
        use_identity_providers, Field, FormAction, FormError, Notice, NoticeLine, PostForm,
        ProviderButtons,
    },
    urlencode,
};

fn query(name: &'static str) -> Memo<Option<String>> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(name))
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <section class="auth card" aria-labelledby="auth-title">
            <h1 id="auth-title">{title}</h1>
            {children()}
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = FormAction::<SignIn>::new();
    let next = query("next");
    let reset = query("reset");
    let problem = query("error");
    let link = query("link");
    let providers = use_identity_providers();
    let pending = {
        let providers = providers.clone();
        move || link.get().and_then(|p| pending_link_text(&p, &providers))
    };
    view! {
        <AuthCard title="Sign in">
            <NoticeLine notice=Signal::derive(move || {
                problem_notice(problem.get().as_deref()).or_else(|| {
                    reset.get().map(|_| Notice::done("Your password was changed. Sign in with the new one."))
                })
            }) />
            {move || pending().map(|text| view! { <p class="notice" data-testid="pending-link">{text}</p> })}
            <ProviderButtons verb="Sign in" providers next=next />
            <FormError error=form_error(action) />
            <PostForm action=action class="form">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <Field label="Email address" name="email" kind="email" autocomplete="email" required=true error=field_error(action, "email") />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=field_error(action, "password") />
                <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </PostForm>
            <p class="auth__links">
                <a href="/forgot-password">"Forgot your password?"</a>
            </p>
            <p class="auth__links">
                "New here? "
                <a href=move || match next.get() {
                    Some(n) => format!("/signup?next={}", urlencode(&n)),
                    None => "/signup".to_owned(),
                }>"Create an account"</a>
            </p>
        </AuthCard>
    }
}

/// What the sign-up page says about who may sign up, if anything.
pub fn signup_notice(mode: SignupMode, invited: bool) -> Option<&'static str> {
    match (mode, invited) {
        (SignupMode::Open, _) => None,
        (SignupMode::Invite, true) => Some("You were invited: choose your address and password."),
        (SignupMode::Invite, false) => {
            Some("New accounts here need an invitation: open the link an administrator gave you.")
        }
        (SignupMode::Closed, _) => Some(
            "This instance does not take new accounts. Ask its administrator to make one for you.",
        ),
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = FormAction::<SignUp>::new();
    let next = query("next");
    let invite = query("invite");
    let check = query("check");
    let mode = crate::instance::use_instance()
        .map(|i| i.signup)
        .unwrap_or_default();
    let providers = use_identity_providers();
    view! {
        <AuthCard title="Create an account">
            {show_when(move || check.get().is_some(), move || view! {
                <p class="notice notice--ok" role="status">
                    "Check your inbox: we sent a message to that address with what to do next. Confirm the address before you sign in."
                </p>
            })}
            {move || signup_notice(mode, invite.get().is_some()).map(|text| view! {
                <p class="notice" class:notice--error=mode == SignupMode::Closed data-testid="signup-mode">{text}</p>
            })}
            <ProviderButtons verb="Sign up" providers next=next />
            <FormError error=form_error(action) />
            <PostForm action=action class="form">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <input type="hidden" name="invitation" value=move || invite.get().unwrap_or_default() />
                <Field label="Email address" name="email" kind="email" autocomplete="email" required=true error=field_error(action, "email") />
                <Field label="Display name (optional)" name="display_name" autocomplete="nickname" maxlength=80 error=field_error(action, "display_name") />
                <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true minlength=10 hint="At least 10 characters." error=field_error(action, "password") />
                <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </PostForm>
            <p class="auth__links">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = FormAction::<ForgotPassword>::new();
    let sent = query("sent");
    view! {
        <AuthCard title="Forgot your password?">
            <Show
                when=move || sent.get().is_none()
                fallback=|| view! {
                    <p class="notice notice--ok" role="status">
                        "If an account exists for that address, a link to choose a new password is on its way. It works for one hour."
                    </p>
                    <p class="auth__links"><a href="/login">"Back to sign in"</a></p>
                }
            >
                <p>"Enter the address you signed up with and we will send you a link to choose a new password."</p>
                <FormError error=form_error(action) />
                <PostForm action=action class="form">
                    <Field label="Email address" name="email" kind="email" autocomplete="email" required=true error=field_error(action, "email") />
                    <button type="submit" class="button button--primary" disabled=move || action.pending().get()>"Send the link"</button>
                </PostForm>
                <p class="auth__links"><a href="/login">"Back to sign in"</a></p>
            </Show>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = FormAction::<ResetPassword>::new();
    let token = query("token");
    view! {
        <AuthCard title="Choose a new password">
            <FormError error=form_error(action) />
            <p class="notice notice--error" role="alert">{move || field_error(action, "token").get()}</p>
            <PostForm action=action class="form">
                <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                <Field label="New password" name="password" kind="password" autocomplete="new-password" required=true minlength=10 hint="At least 10 characters. You will be signed out everywhere else, and your access tokens will stop working." error=field_error(action, "password") />
                <button type="submit" class="button button--primary" disabled=move || action.pending().get()>"Save the new password"</button>
            </PostForm>
            <p class="auth__links"><a href="/forgot-password">"Ask for a new link"</a></p>
        </AuthCard>
    }
}

/// Opening the link does not verify by itself (mail scanners open links too): the person
/// confirms with a button.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = FormAction::<VerifyEmail>::new();
    let token = query("token");
    let done = query("done");
    view! {
        <AuthCard title="Confirm your email address">
            <Show
                when=move || done.get().is_none()
                fallback=|| view! {
                    <p class="notice notice--ok" role="status">"Thank you: your email address is confirmed."</p>
                    <p class="auth__links"><a href="/studio">"Go to the Studio"</a></p>
                }
            >
                <FormError error=form_error(action) />
                <p class="notice notice--error" role="alert">{move || field_error(action, "token").get()}</p>
                <PostForm action=action class="form">
                    <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                    <button type="submit" class="button button--primary" disabled=move || action.pending().get()>"Confirm my email address"</button>
                </PostForm>
            </Show>
        </AuthCard>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_up_page_says_who_may_sign_up() {
        assert_eq!(signup_notice(SignupMode::Open, false), None);
        assert!(signup_notice(SignupMode::Invite, false)
            .unwrap()
            .contains("need an invitation"));
        assert!(signup_notice(SignupMode::Invite, true)
            .unwrap()
            .contains("You were invited"));
        assert!(signup_notice(SignupMode::Closed, true)
            .unwrap()
            .contains("does not take new accounts"));
    }
}
