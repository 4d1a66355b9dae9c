//! Quotas: how much one account may use — images generated in any 24 hours, jobs queued
//! or running at once, bytes stored — as the instance's defaults (`QUOTA_*`) or an
//! administrator's settings for that account. Checked before anything is queued or
//! stored: a request over a limit changes nothing and says which limit and what to do.
//!
//! (Checked, then done: two requests of one person racing at the very limit may both
//! pass. The overshoot is bounded by how many requests one person has in flight, which
//! the rate limits and the active-jobs quota keep small.)

use model::{AccountUsage, Page, Quota, QuotaSettings, Usage};

use super::{auth::Principal, parse_id, ServiceError};
use crate::{
    db::{quotas, quotas::QuotaRow, users},
    Backend,
};

/// "Per day" is any 24 hours.
const DAY_MS: i64 = 86_400_000;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The limits that apply to an account: its own where set, else the instance's.
fn effective(defaults: Quota, own: Option<QuotaRow>) -> Quota {
    let own = own.unwrap_or_default();
    let small = |v: Option<i64>, d: u32| v.map_or(d, |v| u32::try_from(v).unwrap_or(u32::MAX));
    Quota {
        images_per_day: small(own.images_per_day, defaults.images_per_day),
        active_jobs: small(own.active_jobs, defaults.active_jobs),
        storage_bytes: own.storage_bytes.map_or(defaults.storage_bytes, to_u64),
    }
}

fn settings(own: Option<QuotaRow>) -> QuotaSettings {
    let own = own.unwrap_or_default();
    QuotaSettings {
        images_per_day: own.images_per_day.and_then(|v| u32::try_from(v).ok()),
        active_jobs: own.active_jobs.and_then(|v| u32::try_from(v).ok()),
        storage_bytes: own.storage_bytes.map(to_u64),
    }
}

/// What an account uses, and its limits.
pub async fn usage_of(backend: &Backend, user_id: &str) -> Result<Usage, ServiceError> {
    let (used, own) = tokio::try_join!(
        quotas::usage(&backend.db, user_id, DAY_MS),
        quotas::get(&backend.db, user_id)
    )?;
    Ok(Usage {
        images_today: to_u64(used.images_today),
        active_jobs: to_u64(used.active_jobs),
        storage_bytes: to_u64(used.storage_bytes),
        quota: effective(backend.config.quota, own),
        custom: own.is_some(),
    })
}

/// The caller's usage (Settings, the dashboard, `GET /api/v1/me/usage`).
pub async fn usage(backend: &Backend, principal: &Principal) -> Result<Usage, ServiceError> {
    usage_of(backend, principal.user_id()).await
}

/// Whether `n` more images may be generated now: refused (429 `quota_exceeded`, or 413
/// when storage is full) before anything is queued.
pub async fn check_generation(backend: &Backend, user_id: &str, n: u8) -> Result<(), ServiceError> {
    let usage = usage_of(backend, user_id).await?;
    generation_allowed(&usage, u64::from(n))
}

/// The rules of [`check_generation`], on a known usage.
pub fn generation_allowed(usage: &Usage, n: u64) -> Result<(), ServiceError> {
    let q = usage.quota;
    if q.active_jobs > 0 && usage.active_jobs + n > u64::from(q.active_jobs) {
        return Err(ServiceError::OverQuota {
            code: "quota_exceeded",
            message: format!(
                "You have {} jobs queued or running, and this account may have {} at once. \
                 Wait for some to finish, or cancel some, then try again.",
                usage.active_jobs, q.active_jobs
            ),
        });
    }
    if q.images_per_day > 0 && usage.images_today + n > u64::from(q.images_per_day) {
        let left = u64::from(q.images_per_day).saturating_sub(usage.images_today);
        return Err(ServiceError::OverQuota {
            code: "quota_exceeded",
            message: format!(
                "This account may generate {} images in 24 hours and has {left} left. \
                 Ask for fewer, or try again later.",
                q.images_per_day
            ),
        });
    }
    if q.storage_bytes > 0 && usage.storage_bytes >= q.storage_bytes {
        return Err(storage_full(q.storage_bytes));
    }
    Ok(())
}

fn storage_full(limit: u64) -> ServiceError {
    ServiceError::StorageFull(format!(
        "Your storage is full (this account may keep {} MB of images). Empty the trash or \
         delete images you no longer need, then try again.",
        limit / 1_000_000
    ))
}

/// Whether `bytes` more may be stored (an upload or an import): 413 when they would not
/// fit.
pub async fn check_storage(
    backend: &Backend,
    user_id: &str,
    bytes: u64,
) -> Result<(), ServiceError> {
    let usage = usage_of(backend, user_id).await?;
    let limit = usage.quota.storage_bytes;
    if limit > 0 && usage.storage_bytes.saturating_add(bytes) > limit {
        return Err(storage_full(limit));
    }
    Ok(())
}

/// Every account with its use and limits, a page at a time (administrators only).
pub async fn accounts(
    backend: &Backend,
    principal: &Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<AccountUsage>, ServiceError> {
    principal.require_admin()?;
    let limit = super::page_limit(limit)?;
    let after = super::page_cursor(cursor)?;
    let rows = quotas::accounts(&backend.db, DAY_MS, after.as_deref(), limit + 1).await?;
    let defaults = backend.config.quota;
    Ok(super::into_page(
        rows,
        limit,
        |r| r.id.clone(),
        |r| {
            let own = (r.quota != QuotaRow::default()).then_some(r.quota);
            AccountUsage {
                id: r.id.clone(),
                email: r.email.clone(),
                is_admin: r.is_admin,
                usage: Usage {
                    images_today: to_u64(r.usage.images_today),
                    active_jobs: to_u64(r.usage.active_jobs),
                    storage_bytes: to_u64(r.usage.storage_bytes),
                    quota: effective(defaults, own),
                    custom: own.is_some(),
                },
                settings: settings(own),
            }
        },
    ))
}

/// Sets an account's own limits (administrators only); all empty follows the instance's
/// defaults again. Answers the account's usage under the new limits.
pub async fn set(
    backend: &Backend,
    principal: &Principal,
    user_id: &str,
    new: QuotaSettings,
) -> Result<Usage, ServiceError> {
    principal.require_admin()?;
    let id = parse_id(user_id)?;
    set_for(backend, id.as_str(), new).await
}

/// [`set`], for the operator's command line (by email address).
pub async fn set_by_email(
    backend: &Backend,
    email: &str,
    new: QuotaSettings,
) -> Result<Usage, ServiceError> {
    let user = super::operators::account_by_email(backend, email).await?;
    set_for(backend, &user.id, new).await
}

/// An account's usage, for the operator's command line (by email address).
pub async fn usage_by_email(backend: &Backend, email: &str) -> Result<Usage, ServiceError> {
    let user = super::operators::account_by_email(backend, email).await?;
    usage_of(backend, &user.id).await
}

async fn set_for(
    backend: &Backend,
    user_id: &str,
    new: QuotaSettings,
) -> Result<Usage, ServiceError> {
    if users::find_by_id(&backend.db, user_id).await?.is_none() {
        return Err(ServiceError::NotFound);
    }
    let row = QuotaRow {
        images_per_day: new.images_per_day.map(i64::from),
        active_jobs: new.active_jobs.map(i64::from),
        storage_bytes: new.storage_bytes.map(to_i64),
    };
    quotas::set(&backend.db, user_id, row).await?;
    tracing::info!(%user_id, ?new, "account quota set");
    usage_of(backend, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(images_today: u64, active_jobs: u64, storage_bytes: u64) -> Usage {
        Usage {
            images_today,
            active_jobs,
            storage_bytes,
            quota: Quota {
                images_per_day: 10,
                active_jobs: 3,
                storage_bytes: 1_000,
            },
            custom: false,
        }
    }

    #[test]
    fn each_limit_refuses_with_its_own_words() {
        assert!(generation_allowed(&usage(0, 0, 0), 3).is_ok());
        let busy = generation_allowed(&usage(0, 2, 0), 2).unwrap_err();
        assert_eq!(busy.code(), "quota_exceeded");
        assert!(
            busy.to_string().contains("2 jobs queued or running"),
            "{busy}"
        );
        let daily = generation_allowed(&usage(9, 0, 0), 2).unwrap_err();
        assert!(daily.to_string().contains("has 1 left"), "{daily}");
        let full = generation_allowed(&usage(0, 0, 1_000), 1).unwrap_err();
        assert_eq!(full.code(), "storage_quota_exceeded");
        // 0 is no limit.
        let mut unlimited = usage(1_000_000, 1_000, u64::MAX / 4);
        unlimited.quota = Quota::default();
        assert!(generation_allowed(&unlimited, 4).is_ok());
    }

    #[test]
    fn an_accounts_own_limits_win_field_by_field() {
        let defaults = Quota {
            images_per_day: 500,
            active_jobs: 50,
            storage_bytes: 10_000,
        };
        assert_eq!(effective(defaults, None), defaults);
        let own = QuotaRow {
            images_per_day: Some(5),
            active_jobs: None,
            storage_bytes: Some(0),
        };
        assert_eq!(
            effective(defaults, Some(own)),
            Quota {
                images_per_day: 5,
                active_jobs: 50,
                storage_bytes: 0,
            }
        );
        assert_eq!(settings(Some(own)).active_jobs, None);
        assert_eq!(settings(Some(own)).images_per_day, Some(5));
    }
}
