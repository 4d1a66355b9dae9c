//! The operations page's invitations (`SIGNUP=invite`): make a single-use link (shown
//! once, to hand to the person), see the ones that still work, withdraw one. The forms
//! work before hydration.

use leptos::prelude::*;
use model::{Invitation, SignupMode};

use crate::{
    api::admin::{CreateInvitation, ListInvitations, RevokeInvitation},
    components::{field_error, form_error, Field, FormAction, FormError, PostForm, Skeleton},
    format::when,
};

/// What the current `SIGNUP` means for invitations, in words.
pub fn signup_words(mode: SignupMode) -> &'static str {
    match mode {
        SignupMode::Open => {
            "Sign-up is open (SIGNUP=open): anyone can create an account, with or without an invitation."
        }
        SignupMode::Invite => {
            "Sign-up is by invitation (SIGNUP=invite): only someone with a link made here can create an account."
        }
        SignupMode::Closed => {
            "Sign-up is closed (SIGNUP=closed): accounts are made with `avatar-studio user create`; invitations are not accepted."
        }
    }
}

#[component]
pub fn Invitations() -> impl IntoView {
    let create = FormAction::<CreateInvitation>::new();
    let revoke = FormAction::<RevokeInvitation>::new();
    let signup = crate::instance::use_instance().map(|i| i.signup);
    let open = crate::server_resource::server_resource(
        move || (create.version().get(), revoke.version().get()),
        |_| ListInvitations {},
    );
    let made = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="card" aria-labelledby="invitations-heading">
            <h2 id="invitations-heading">"Invitations"</h2>
            {signup.map(|mode| view! { <p class="muted">{signup_words(mode)}</p> })}
            <FormError error=form_error(create) />
            <PostForm action=create class="form form--inline">
                <Field label="For whom (optional)" name="note" maxlength=200 error=field_error(create, "note") />
                <Field label="Works for (days)" name="days" kind="number" required=true value="7" error=field_error(create, "days") />
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>"Make an invitation link"</button>
            </PostForm>
            {move || made().map(|i| view! { <MadeLink invitation=i /> })}
            <Transition fallback=|| view! { <Skeleton /> }>
                {move || Suspend::new(async move {
                    match open.await {
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No invitation is waiting to be used."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="item-list" aria-label="Invitations waiting to be used">
                                {list.into_iter().map(|i| view! { <Row invitation=i revoke=revoke /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The link just made, to copy: it is not stored, so it is shown this once.
#[component(transparent)]
fn MadeLink(invitation: Invitation) -> impl IntoView {
    let link = invitation.link.unwrap_or_default();
    view! {
        <div class="notice notice--ok" role="status">
            <label for="invitation-link">
                {format!("Invitation link, single use, until {}. Copy it now: it is not shown again.", when(invitation.expires_at))}
            </label>
            <input id="invitation-link" class="new-token__value" type="text" readonly value=link />
        </div>
    }
}

#[component(transparent)]
fn Row(invitation: Invitation, revoke: FormAction<RevokeInvitation>) -> impl IntoView {
    let note = invitation
        .note
        .clone()
        .unwrap_or_else(|| "(no note)".to_owned());
    view! {
        <li class="item-list__row">
            <div>
                <strong>{note}</strong>
                <p class="muted">{format!("Made {} · works until {}", when(invitation.created_at), when(invitation.expires_at))}</p>
            </div>
            <PostForm action=revoke class="form form--inline">
                <input type="hidden" name="id" value=invitation.id.clone() />
                <button type="submit" class="button button--danger">"Withdraw"</button>
            </PostForm>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signup_mode_is_said_plainly() {
        assert!(signup_words(SignupMode::Open).contains("anyone"));
        assert!(signup_words(SignupMode::Invite).contains("only someone with a link"));
        assert!(signup_words(SignupMode::Closed).contains("user create"));
    }
}
