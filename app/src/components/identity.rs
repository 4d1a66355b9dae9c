//! Signing in through identity providers, on the sign-in and sign-up pages: one plain link
//! per configured provider (it works without JavaScript: the server answers with a
//! redirect to the provider), and the sentence for a sign-in that came back without one.

use leptos::prelude::*;
use model::{IdentityProvider, SignInProblem};

use super::Notice;

/// Where a provider's button goes: the server's start of the sign-in, with where to go
/// afterwards (a local path; the server checks it again).
pub fn start_href(provider: &str, next: Option<&str>) -> String {
    let mut href = format!("/auth/{provider}/start");
    if let Some(next) = next.filter(|n| !n.is_empty()) {
        href.push_str("?next=");
        href.push_str(&crate::urlencode(next));
    }
    href
}

/// What the sign-in page says for `?error=…`: only our own sentences, whatever the
/// address says (an unknown word says nothing).
pub fn problem_notice(code: Option<&str>) -> Option<Notice> {
    let problem: SignInProblem = code?.parse().ok()?;
    Some(Notice {
        ok: problem == SignInProblem::CheckMail,
        text: problem.message().to_owned(),
    })
}

/// The configured providers, from the instance's details (`crate::instance`: written into
/// every page, no request of its own).
pub fn use_identity_providers() -> Vec<IdentityProvider> {
    crate::instance::use_instance()
        .map(|i| i.identity_providers)
        .unwrap_or_default()
}

/// The sentence of the sign-in page after a provider's sign-in found an account with the
/// identity's verified address (`?link=<provider>`).
pub fn pending_link_text(provider: &str, providers: &[IdentityProvider]) -> Option<String> {
    let display = &providers.iter().find(|p| p.name == provider)?.display_name;
    Some(format!(
        "An account with your {display} address already exists. Sign in to it with your \
         password to link {display}; from then on you can sign in with either."
    ))
}

/// The buttons of the configured providers (nothing when there are none), with a rule
/// between them and the password form.
#[component]
pub fn ProviderButtons(
    /// "Sign in" or "Sign up".
    verb: &'static str,
    providers: Vec<IdentityProvider>,
    #[prop(into)] next: Signal<Option<String>>,
) -> impl IntoView {
    (!providers.is_empty()).then(|| {
        view! {
            <div class="identity-providers">
                {providers
                    .into_iter()
                    .map(|p| {
                        let name = p.name.clone();
                        view! {
                            // rel=external: a page of the server, not of the router.
                            <a class="button identity-providers__button" rel="external"
                                href=move || start_href(&name, next.get().as_deref())
                                data-provider=p.name>
                                {format!("{verb} with {}", p.display_name)}
                            </a>
                        }
                    })
                    .collect_view()}
                <p class="identity-providers__or"><span>"or with your email address"</span></p>
            </div>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_carries_where_to_go_next() {
        assert_eq!(start_href("corp", None), "/auth/corp/start");
        assert_eq!(start_href("corp", Some("")), "/auth/corp/start");
        assert_eq!(
            start_href("github", Some("/characters/1?tab=images")),
            "/auth/github/start?next=/characters/1%3Ftab%3Dimages"
        );
    }

    #[test]
    fn the_pending_link_names_a_configured_provider_only() {
        let providers = [IdentityProvider {
            name: "corp".to_owned(),
            display_name: "Corp SSO".to_owned(),
        }];
        let text = pending_link_text("corp", &providers).unwrap();
        assert!(
            text.contains("Sign in to it with your password to link Corp SSO"),
            "{text}"
        );
        assert_eq!(pending_link_text("<b>evil</b>", &providers), None);
    }

    #[test]
    fn only_known_problems_are_said() {
        let denied = problem_notice(Some("denied")).unwrap();
        assert!(!denied.ok);
        assert!(denied.text.contains("cancelled"));
        assert!(problem_notice(Some("check_mail")).unwrap().ok);
        assert_eq!(problem_notice(Some("You have been hacked, call …")), None);
        assert_eq!(problem_notice(None), None);
    }
}
