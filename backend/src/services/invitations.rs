//! Who may create an account (`SIGNUP`), and the invitations of `SIGNUP=invite`:
//! single-use, expiring links that administrators make on the operations page, through
//! the API or with `avatar-studio invite create`. Anyone else is told the list does not
//! exist, like every administrator-only resource.

use model::{CreateInvitationRequest, Invitation, SignupMode};
use secrecy::ExposeSecret;

use super::{auth::Principal, parse_id, ServiceError};
use crate::{
    crypto,
    db::{invitations, invitations::InvitationRecord, DbError},
    domain::parse_label,
    now_ms, to_time, Backend,
};

/// How long an invitation works when nobody says otherwise.
pub const DEFAULT_DAYS: u32 = 7;
/// The longest an invitation may work.
pub const MAX_DAYS: u32 = 90;
/// At most this many open invitations are listed.
const LISTED: i64 = 200;

/// An invitation claimed for a sign-up in progress: recorded as used by the new account,
/// or given back when the sign-up fails.
#[derive(Debug)]
pub struct Claimed(Option<String>);

impl Claimed {
    /// The new account took it.
    pub async fn used_by(self, backend: &Backend, user_id: &str) -> Result<(), DbError> {
        match self.0 {
            Some(id) => invitations::mark_used_by(&backend.db, &id, user_id).await,
            None => Ok(()),
        }
    }

    /// The sign-up failed: the link works again.
    pub async fn give_back(self, backend: &Backend) -> Result<(), DbError> {
        match self.0 {
            Some(id) => invitations::release(&backend.db, &id).await,
            None => Ok(()),
        }
    }
}

/// Whether a sign-up may go ahead under `SIGNUP`: always when sign-up is open; with an
/// unused, unexpired invitation (claimed here, so nobody else can use it) when it is by
/// invitation; never when it is closed.
pub async fn admit(backend: &Backend, invitation: Option<&str>) -> Result<Claimed, ServiceError> {
    match backend.config.signup {
        SignupMode::Open => Ok(Claimed(None)),
        SignupMode::Closed => Err(ServiceError::Forbidden {
            code: "signup_closed",
            message: "This instance does not take new accounts. Ask its administrator to \
                      make one for you."
                .to_owned(),
        }),
        SignupMode::Invite => {
            let token = invitation.map(str::trim).filter(|t| !t.is_empty());
            let Some(token) = token else {
                return Err(ServiceError::Forbidden {
                    code: "invitation_required",
                    message: "New accounts here need an invitation: open the link an \
                              administrator gave you."
                        .to_owned(),
                });
            };
            match invitations::claim(&backend.db, &crypto::token_hash(token)).await? {
                Some(id) => Ok(Claimed(Some(id))),
                None => Err(ServiceError::Forbidden {
                    code: "invitation_invalid",
                    message: "This invitation link has been used, has expired or was \
                              withdrawn. Ask the administrator for a new one."
                        .to_owned(),
                }),
            }
        }
    }
}

fn to_model(record: InvitationRecord, link: Option<String>) -> Invitation {
    Invitation {
        id: record.id,
        note: record.note,
        created_at: to_time(record.created_at),
        expires_at: to_time(record.expires_at),
        link,
    }
}

/// Makes an invitation; the answer carries its link, shown this once. `by` is the
/// administrator, or `None` for the operator's command line.
pub async fn create(
    backend: &Backend,
    by: Option<&Principal>,
    request: &CreateInvitationRequest,
) -> Result<Invitation, ServiceError> {
    if let Some(principal) = by {
        principal.require_admin()?;
    }
    let days = request.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(crate::domain::FieldError::new(
            "days",
            format!("An invitation works for 1 to {MAX_DAYS} days."),
        )
        .into());
    }
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| parse_label("note", n, 200))
        .transpose()?;
    let token = crypto::random_token("");
    let record = invitations::insert(
        &backend.db,
        &crypto::token_hash(token.expose_secret()),
        by.map(|p| p.caller.id.as_str()),
        note.as_deref(),
        now_ms() + i64::from(days) * 86_400_000,
    )
    .await?;
    let mut link = backend.config.public_url.clone();
    link.set_path("/signup");
    link.set_query(Some(&format!("invite={}", token.expose_secret())));
    tracing::info!(invitation_id = %record.id, days, "invitation created");
    Ok(to_model(record, Some(link.to_string())))
}

/// The invitations that still work, newest first.
pub async fn list(
    backend: &Backend,
    principal: &Principal,
) -> Result<Vec<Invitation>, ServiceError> {
    principal.require_admin()?;
    list_for_operator(backend).await
}

/// [`list`], for the operator's command line.
pub async fn list_for_operator(backend: &Backend) -> Result<Vec<Invitation>, ServiceError> {
    Ok(invitations::list_open(&backend.db, LISTED)
        .await?
        .into_iter()
        .map(|r| to_model(r, None))
        .collect())
}

/// Withdraws an unused invitation: its link stops working.
pub async fn revoke(
    backend: &Backend,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    principal.require_admin()?;
    revoke_for_operator(backend, id).await
}

/// [`revoke`], for the operator's command line.
pub async fn revoke_for_operator(backend: &Backend, id: &str) -> Result<(), ServiceError> {
    let id = parse_id(id)?;
    if invitations::revoke(&backend.db, id.as_str()).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}
