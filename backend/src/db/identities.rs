//! The `identities` aggregate: the identity providers' people linked to our accounts. An
//! identity (provider, subject) belongs to one account; an account may have several.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::{new_id, now_ms, with_pool};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct IdentityRecord {
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

const COLUMNS: &str = "id, user_id, provider, subject, email, created_at, last_used_at";

/// The identity, whoever it is linked to.
pub async fn find(
    db: &Db,
    provider: &str,
    subject: &str,
) -> Result<Option<IdentityRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM identities WHERE provider = $1 AND subject = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, IdentityRecord>(&sql)
            .bind(provider)
            .bind(subject)
            .fetch_optional(pool)
            .await
    })?)
}

/// Links the identity to the account. `false` when the identity is already linked (to
/// this account or another): the caller tells which with [`find`].
pub async fn insert(
    db: &Db,
    user_id: &str,
    provider: &str,
    subject: &str,
    email: Option<&str>,
) -> Result<bool, DbError> {
    let now = now_ms();
    Ok(with_pool!(db, |pool| sqlx::query(
        "INSERT INTO identities (id, user_id, provider, subject, email, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (provider, subject) DO NOTHING"
    )
    .bind(new_id())
    .bind(user_id)
    .bind(provider)
    .bind(subject)
    .bind(email)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))?)
}

/// Records a sign-in with the identity and the address the provider gave this time.
pub async fn touch(db: &Db, id: &str, email: Option<&str>) -> Result<(), DbError> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE identities SET last_used_at = $2, email = COALESCE($3, email) WHERE id = $1"
    )
    .bind(id)
    .bind(now_ms())
    .bind(email)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The account's identities, oldest first.
pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<IdentityRecord>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM identities WHERE user_id = $1 ORDER BY created_at, id");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, IdentityRecord>(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await
    })?)
}

/// Unlinks one of the account's identities, unless it is the account's last way to sign
/// in (no password and no other identity). `false` when nothing was removed. The account's
/// row is locked first (a no-op update, in one transaction), so two unlinks at once take
/// turns and the second counts what the first left: both cannot pass, on PostgreSQL's
/// READ COMMITTED as on SQLite.
pub async fn delete_unless_last(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    Ok(with_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "DELETE FROM identities WHERE id = $1 AND user_id = $2 AND ( \
                 EXISTS (SELECT 1 FROM users WHERE users.id = $2 AND users.password_hash IS NOT NULL) \
                 OR (SELECT COUNT(*) FROM identities other WHERE other.user_id = $2) > 1)",
        )
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(deleted)
    })?)
}

/// Unlinks every identity of the account; how many (the mailbox's owner took the account
/// over from whoever made it).
pub async fn delete_all_for_user(db: &Db, user_id: &str) -> Result<u64, DbError> {
    Ok(with_pool!(db, |pool| sqlx::query(
        "DELETE FROM identities WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{db::users, db_test, domain::Email};

    async fn account(db: &Db, email: &str, password: bool) -> String {
        users::insert(
            db,
            users::NewUser {
                email: Email::parse(email).unwrap(),
                display_name: None,
                password_hash: password.then(|| "hash".to_owned()),
                is_admin: false,
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn ids_of(db: &Db, user_id: &str) -> Vec<String> {
        list_for_user(db, user_id)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect()
    }

    db_test!(an_identity_belongs_to_one_account, |db| {
        let a = account(&db, "a@example.com", true).await;
        let b = account(&db, "b@example.com", true).await;
        assert!(insert(&db, &a, "corp", "s-1", Some("a@example.com"))
            .await
            .unwrap());
        assert!(!insert(&db, &b, "corp", "s-1", None).await.unwrap());
        assert_eq!(find(&db, "corp", "s-1").await.unwrap().unwrap().user_id, a);
        // The same subject at another provider is another identity.
        assert!(insert(&db, &b, "google", "s-1", None).await.unwrap());
        assert_eq!(list_for_user(&db, &b).await.unwrap().len(), 1);
    });

    db_test!(the_last_way_to_sign_in_cannot_be_unlinked, |db| {
        let a = account(&db, "a@example.com", false).await;
        insert(&db, &a, "corp", "s-1", None).await.unwrap();
        insert(&db, &a, "github", "42", None).await.unwrap();
        let ids = ids_of(&db, &a).await;
        assert!(delete_unless_last(&db, &a, &ids[0]).await.unwrap());
        assert!(!delete_unless_last(&db, &a, &ids[1]).await.unwrap());
        // With a password, the last identity may go.
        let b = account(&db, "b@example.com", true).await;
        insert(&db, &b, "corp", "s-2", None).await.unwrap();
        let only = list_for_user(&db, &b).await.unwrap().remove(0).id;
        // Not someone else's.
        assert!(!delete_unless_last(&db, &a, &only).await.unwrap());
        assert!(delete_unless_last(&db, &b, &only).await.unwrap());
    });

    db_test!(two_unlinks_at_once_leave_a_way_in, |db| {
        for round in 0..10 {
            let a = account(&db, &format!("r{round}@example.com"), false).await;
            insert(&db, &a, "corp", &format!("s-{round}"), None)
                .await
                .unwrap();
            insert(&db, &a, "github", &format!("g-{round}"), None)
                .await
                .unwrap();
            let ids = ids_of(&db, &a).await;
            let (first, second) = tokio::join!(
                delete_unless_last(&db, &a, &ids[0]),
                delete_unless_last(&db, &a, &ids[1])
            );
            let removed = usize::from(first.unwrap()) + usize::from(second.unwrap());
            assert_eq!(removed, 1, "round {round}");
            assert_eq!(list_for_user(&db, &a).await.unwrap().len(), 1);
        }
    });
}
