//! Sign-ins on their way through an identity provider: the flow from
//! `/auth/{provider}/start` to its callback (found by the hash of its `state`, used once),
//! and the offer to link an identity that waits for its account's password. Both are
//! bound to the browser that started them by the hash of a cookie, and expire in minutes.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{now_ms, with_pool};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FlowRecord {
    pub state_hash: String,
    pub browser_hash: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: Option<String>,
    pub link_user_id: Option<String>,
    pub expires_at: i64,
}

pub async fn insert_flow(db: &Db, flow: &FlowRecord) -> Result<(), DbError> {
    with_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO identity_flows \
         (state_hash, browser_hash, provider, nonce, pkce_verifier, next, link_user_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&flow.state_hash)
    .bind(&flow.browser_hash)
    .bind(&flow.provider)
    .bind(&flow.nonce)
    .bind(&flow.pkce_verifier)
    .bind(&flow.next)
    .bind(&flow.link_user_id)
    .bind(flow.expires_at)
    .execute(pool)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// Takes the flow out, whatever its state (the caller checks the browser and the
/// expiry): a callback is used once, and two at once cannot both have it.
pub async fn take_flow(db: &Db, state_hash: &str) -> Result<Option<FlowRecord>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, FlowRecord>(
        "DELETE FROM identity_flows WHERE state_hash = $1 \
         RETURNING state_hash, browser_hash, provider, nonce, pkce_verifier, next, \
                   link_user_id, expires_at"
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct OfferRecord {
    pub browser_hash: String,
    pub user_id: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub next: Option<String>,
    pub expires_at: i64,
}

/// Remembers the offer for this browser (one at a time: a newer one replaces it).
pub async fn put_offer(db: &Db, offer: &OfferRecord) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO identity_offers \
         (browser_hash, user_id, provider, subject, email, next, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (browser_hash) DO UPDATE SET user_id = excluded.user_id, \
           provider = excluded.provider, subject = excluded.subject, email = excluded.email, \
           next = excluded.next, expires_at = excluded.expires_at"
    )
    .bind(&offer.browser_hash)
    .bind(&offer.user_id)
    .bind(&offer.provider)
    .bind(&offer.subject)
    .bind(&offer.email)
    .bind(&offer.next)
    .bind(offer.expires_at)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The browser's unexpired offer, if any.
pub async fn offer(db: &Db, browser_hash: &str) -> Result<Option<OfferRecord>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, OfferRecord>(
        "SELECT browser_hash, user_id, provider, subject, email, next, expires_at \
         FROM identity_offers WHERE browser_hash = $1 AND expires_at > $2"
    )
    .bind(browser_hash)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

/// Takes the browser's unexpired offer if it is for `user_id`: the account the browser
/// just proved it holds. Anything else stays where it is.
pub async fn take_offer_for(
    db: &Db,
    browser_hash: &str,
    user_id: &str,
) -> Result<Option<OfferRecord>, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, OfferRecord>(
        "DELETE FROM identity_offers \
         WHERE browser_hash = $1 AND user_id = $2 AND expires_at > $3 \
         RETURNING browser_hash, user_id, provider, subject, email, next, expires_at"
    )
    .bind(browser_hash)
    .bind(user_id)
    .bind(now_ms())
    .fetch_optional(pool)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{db::users, db_test, domain::Email};

    fn flow(state: &str) -> FlowRecord {
        FlowRecord {
            state_hash: state.to_owned(),
            browser_hash: "browser".to_owned(),
            provider: "corp".to_owned(),
            nonce: "n".to_owned(),
            pkce_verifier: "v".to_owned(),
            next: Some("/studio".to_owned()),
            link_user_id: None,
            expires_at: 4_000_000_000_000,
        }
    }

    db_test!(a_flow_is_taken_once, |db| {
        insert_flow(&db, &flow("s1")).await.unwrap();
        assert_eq!(take_flow(&db, "s1").await.unwrap(), Some(flow("s1")));
        assert_eq!(take_flow(&db, "s1").await.unwrap(), None);
        assert_eq!(take_flow(&db, "other").await.unwrap(), None);
    });

    db_test!(an_offer_goes_only_to_its_account, |db| {
        let user = users::insert(
            &db,
            users::NewUser {
                email: Email::parse("a@example.com").unwrap(),
                display_name: None,
                password_hash: Some("hash".to_owned()),
                is_admin: false,
            },
        )
        .await
        .unwrap();
        let offer = OfferRecord {
            browser_hash: "browser".to_owned(),
            user_id: user.id.clone(),
            provider: "corp".to_owned(),
            subject: "s".to_owned(),
            email: Some("a@example.com".to_owned()),
            next: None,
            expires_at: now_ms() + 60_000,
        };
        put_offer(&db, &offer).await.unwrap();
        assert_eq!(
            take_offer_for(&db, "browser", "someone-else")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            take_offer_for(&db, "another-browser", &user.id)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            self::offer(&db, "browser").await.unwrap(),
            Some(offer.clone())
        );
        assert_eq!(
            take_offer_for(&db, "browser", &user.id).await.unwrap(),
            Some(offer)
        );
        assert_eq!(self::offer(&db, "browser").await.unwrap(), None);
    });
}
