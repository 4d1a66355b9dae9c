//! The database layer, on SQLite and on PostgreSQL alike (one test binary; `schema` keeps
//! the two migration sets in step).

mod schema;
mod services;

use backend::{
    db::{self, users, Dialect},
    db_test,
    domain::Email,
};

fn new_user(email: &str) -> users::NewUser {
    users::NewUser {
        email: Email::parse(email).unwrap(),
        display_name: Some("Ann".to_owned()),
        password_hash: None,
        is_admin: false,
    }
}

db_test!(migrations_are_applied_once, |db| {
    assert!(db.known_migrations() >= 1);
    assert_eq!(
        db.applied_migrations().await.unwrap(),
        db.known_migrations()
    );
    // Running them again (a second server start) applies nothing and breaks nothing.
    assert_eq!(db.migrate().await.unwrap(), 0);
    db.ping().await.unwrap();
});

db_test!(a_user_round_trips, |db| {
    let created = users::insert(&db, new_user("Ann.Lee@Example.com"))
        .await
        .unwrap();
    assert_eq!(created.email, "Ann.Lee@Example.com");
    assert_eq!(created.email_normalized, "ann.lee@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Ann"));
    assert!(!created.is_admin);
    assert!(
        created.created_at > 1_700_000_000_000,
        "times are milliseconds"
    );

    let by_id = users::find_by_id(&db, &created.id).await.unwrap().unwrap();
    assert_eq!(by_id, created);
    let by_email = users::find_by_email(&db, &Email::parse("ANN.LEE@example.COM").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, created.id);
    assert!(users::find_by_id(&db, "no-such-id")
        .await
        .unwrap()
        .is_none());

    let public = created.to_model();
    assert_eq!(public.id, created.id);
    assert!(!public.email_verified);
    assert_eq!(public.created_at.timestamp_millis(), created.created_at);
});

db_test!(emails_are_unique_case_insensitively, |db| {
    users::insert(&db, new_user("ann@example.com"))
        .await
        .unwrap();
    let err = users::insert(&db, new_user("ANN@EXAMPLE.COM"))
        .await
        .unwrap_err();
    assert!(matches!(err, users::UserRepoError::EmailTaken), "{err:?}");
    assert_eq!(users::count(&db).await.unwrap(), 1);
});

db_test!(users_are_listed_page_by_page, |db| {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            users::insert(&db, new_user(&format!("u{i}@example.com")))
                .await
                .unwrap()
                .id,
        );
    }
    let first = users::list(&db, None, 2).await.unwrap();
    let second = users::list(&db, Some(&first[1].id), 2).await.unwrap();
    let third = users::list(&db, Some(&second[1].id), 2).await.unwrap();
    let seen: Vec<String> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(
        seen, ids,
        "ids are time-ordered, so pages follow creation order"
    );
    assert_eq!(third.len(), 1);
});

#[tokio::test]
async fn sqlite_is_configured_for_concurrent_use() {
    let test_db = backend::testing::TestDb::sqlite().await;
    let db::Db::Sqlite(pool) = &test_db.db else {
        panic!("sqlite expected")
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(timeout >= 5000, "busy timeout {timeout} ms");
    assert_eq!(test_db.db.dialect(), Dialect::Sqlite);
    test_db.destroy().await;
}

#[tokio::test]
async fn a_missing_postgres_database_is_created_on_connect() {
    if backend::testing::skip_postgres() {
        return;
    }
    let name = backend::testing::unique_database_name();
    let url = backend::config::DatabaseUrl::parse(&backend::testing::postgres_url(&name)).unwrap();
    let db = db::Db::connect_and_migrate(&url, 2).await.unwrap();
    assert_eq!(db.dialect(), Dialect::Postgres);
    assert_eq!(users::count(&db).await.unwrap(), 0);
    db.close().await;
    backend::testing::drop_postgres_database(&name).await;
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let url =
        backend::config::DatabaseUrl::parse("postgres://postgres:pw@127.0.0.1:1/nothing").unwrap();
    let err = db::Db::connect(&url, 1).await.unwrap_err().to_string();
    assert!(
        err.contains(
            "cannot connect to the database at postgres://postgres:***@127.0.0.1:1/nothing"
        ),
        "{err}"
    );
    assert!(
        !err.contains("pw@"),
        "the password must not be shown: {err}"
    );
}

mod accounts {
    use backend::{
        crypto::Cipher,
        db::{api_tokens, email_tokens, provider_keys, sessions, users},
        db_test, now_ms,
        services::provider_keys::{reencrypt_all, RotateError},
    };
    use secrecy::{ExposeSecret, SecretString};

    async fn user(db: &backend::Db, email: &str) -> String {
        users::insert(db, super::new_user(email)).await.unwrap().id
    }

    db_test!(sessions_are_found_while_live_and_never_resurrected, |db| {
        let ann = user(&db, "ann@example.com").await;
        let new = |hash: &'static str, expires_at| sessions::NewSession {
            token_hash: hash,
            user_id: "",
            data: "{}",
            user_agent: Some("Firefox"),
            ip: Some("192.0.2.1"),
            expires_at,
        };
        let future = now_ms() + 60_000;
        for hash in ["h1", "h2", "h3"] {
            let s = sessions::NewSession {
                user_id: &ann,
                ..new(hash, future)
            };
            assert!(sessions::insert(&db, s).await.unwrap());
        }
        let dup = sessions::NewSession {
            user_id: &ann,
            ..new("h1", future)
        };
        assert!(
            !sessions::insert(&db, dup).await.unwrap(),
            "a taken hash is reported"
        );
        let expired = sessions::NewSession {
            user_id: &ann,
            ..new("old", now_ms() - 1)
        };
        assert!(sessions::insert(&db, expired).await.unwrap());
        assert!(sessions::find_live(&db, "old").await.unwrap().is_none());
        assert_eq!(sessions::list_for_user(&db, &ann).await.unwrap().len(), 3);

        sessions::delete_by_hash(&db, "h2").await.unwrap();
        sessions::touch(&db, "h2", "{\"x\":1}", future)
            .await
            .unwrap();
        assert!(
            sessions::find_live(&db, "h2").await.unwrap().is_none(),
            "stays revoked"
        );
        sessions::touch(&db, "h1", "{\"x\":1}", future + 5)
            .await
            .unwrap();
        let h1 = sessions::find_live(&db, "h1").await.unwrap().unwrap();
        assert_eq!((h1.data.as_str(), h1.expires_at), ("{\"x\":1}", future + 5));

        assert_eq!(
            sessions::delete_all_for_user(&db, &ann, Some("h1"))
                .await
                .unwrap(),
            2
        );
        assert!(sessions::find_live(&db, "h1").await.unwrap().is_some());
        assert_eq!(sessions::delete_expired(&db).await.unwrap(), 0);
    });

    db_test!(email_tokens_are_single_use_and_expire, |db| {
        let ann = user(&db, "ann@example.com").await;
        let purpose = email_tokens::Purpose::ResetPassword;
        email_tokens::insert(&db, &ann, purpose, "t1", now_ms() + 60_000)
            .await
            .unwrap();
        // The wrong purpose does not use it.
        let other = email_tokens::Purpose::VerifyEmail;
        assert_eq!(email_tokens::consume(&db, other, "t1").await.unwrap(), None);
        assert_eq!(
            email_tokens::consume(&db, purpose, "t1").await.unwrap(),
            Some(ann.clone())
        );
        assert_eq!(
            email_tokens::consume(&db, purpose, "t1").await.unwrap(),
            None
        );
        assert!(email_tokens::find(&db, purpose, "t1")
            .await
            .unwrap()
            .unwrap()
            .used_at
            .is_some());

        email_tokens::insert(&db, &ann, purpose, "t2", now_ms() + 60_000)
            .await
            .unwrap();
        email_tokens::expire_unused(&db, &ann, purpose)
            .await
            .unwrap();
        assert_eq!(
            email_tokens::consume(&db, purpose, "t2").await.unwrap(),
            None
        );
    });

    db_test!(access_tokens_expire_and_belong_to_their_owner, |db| {
        let ann = user(&db, "ann@example.com").await;
        let bob = user(&db, "bob@example.com").await;
        let t = api_tokens::insert(
            &db,
            &ann,
            "ci",
            "avs_abcd1234",
            "hash-a",
            None,
            "read write",
        )
        .await
        .unwrap();
        api_tokens::insert(
            &db,
            &ann,
            "old",
            "avs_old",
            "hash-old",
            Some(now_ms() - 1),
            "read",
        )
        .await
        .unwrap();
        assert!(api_tokens::find_live(&db, "hash-a")
            .await
            .unwrap()
            .is_some());
        assert!(api_tokens::find_live(&db, "hash-old")
            .await
            .unwrap()
            .is_none());
        api_tokens::touch(&db, &t.id).await.unwrap();
        let listed = api_tokens::list_for_user(&db, &ann).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed
            .iter()
            .find(|r| r.id == t.id)
            .unwrap()
            .last_used_at
            .is_some());
        assert!(!api_tokens::delete_for_user(&db, &bob, &t.id).await.unwrap());
        assert!(api_tokens::delete_for_user(&db, &ann, &t.id).await.unwrap());
        assert_eq!(api_tokens::count_for_user(&db, &ann).await.unwrap(), 1);
    });

    db_test!(
        provider_keys_are_replaced_and_rotated_all_or_nothing,
        |db| {
            let ann = user(&db, "ann@example.com").await;
            let bob = user(&db, "bob@example.com").await;
            let old = Cipher::new(&SecretString::from(
                "old-secret-long-enough-for-the-test-000",
            ));
            let new = Cipher::new(&SecretString::from(
                "new-secret-long-enough-for-the-test-111",
            ));
            let ctx = |u: &str| format!("provider-key:{u}:openai");
            provider_keys::upsert(
                &db,
                &ann,
                "openai",
                &old.encrypt("sk-ann-1", &ctx(&ann)),
                "nn-1",
            )
            .await
            .unwrap();
            let replaced = provider_keys::upsert(
                &db,
                &ann,
                "openai",
                &old.encrypt("sk-ann-2", &ctx(&ann)),
                "nn-2",
            )
            .await
            .unwrap();
            assert_eq!(replaced.last4, "nn-2");
            provider_keys::upsert(
                &db,
                &bob,
                "openai",
                &old.encrypt("sk-bob", &ctx(&bob)),
                "-bob",
            )
            .await
            .unwrap();
            assert_eq!(
                provider_keys::list_for_user(&db, &ann).await.unwrap().len(),
                1
            );

            // A key the old secret cannot read stops the rotation, and nothing changes.
            let other = Cipher::new(&SecretString::from(
                "a-third-secret-long-enough-for-tests-2",
            ));
            let err = reencrypt_all(&db, &other, &new).await.unwrap_err();
            assert!(matches!(err, RotateError::Undecryptable { .. }), "{err}");
            let row = provider_keys::find(&db, &ann, "openai")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                old.decrypt(&row.ciphertext, &ctx(&ann))
                    .unwrap()
                    .expose_secret(),
                "sk-ann-2"
            );

            assert_eq!(reencrypt_all(&db, &old, &new).await.unwrap(), 2);
            let row = provider_keys::find(&db, &bob, "openai")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                new.decrypt(&row.ciphertext, &ctx(&bob))
                    .unwrap()
                    .expose_secret(),
                "sk-bob"
            );
            assert!(old.decrypt(&row.ciphertext, &ctx(&bob)).is_err());
            assert!(provider_keys::delete(&db, &bob, "openai").await.unwrap());
            assert!(!provider_keys::delete(&db, &bob, "openai").await.unwrap());
        }
    );
}

db_test!(
    the_shared_rate_limit_is_one_allowance_for_every_process,
    |db| {
        use backend::ratelimit::{Action, LimitError, Limiter};
        // Two limiters over one database: two server processes.
        let one = Limiter::shared(3, db.clone());
        let two = Limiter::shared(3, db.clone());
        let client = Some("192.0.2.1".parse().unwrap());
        let _a = one.take(Action::SignIn, client, Some("ann")).await.unwrap();
        let _b = two.take(Action::SignIn, client, Some("ann")).await.unwrap();
        let c = one.take(Action::SignIn, client, Some("ann")).await.unwrap();
        for limiter in [&one, &two] {
            match limiter.take(Action::SignIn, client, Some("ann")).await {
                Err(LimitError::Limited(wait)) => {
                    assert!(wait.as_secs() >= 1 && wait.as_secs() <= 60, "{wait:?}");
                }
                other => panic!("the fourth attempt must be refused, got {other:?}"),
            }
        }
        // An attempt given back (a successful sign-in) is free again, for both.
        one.give_back(c).await.unwrap();
        let _d = two.take(Action::SignIn, client, Some("ann")).await.unwrap();
        assert!(one.take(Action::SignIn, client, Some("ann")).await.is_err());
        // The client's allowance is spent too: another account from it waits, another
        // client does not.
        assert!(two.take(Action::SignIn, client, Some("bob")).await.is_err());
        let other_client = Some("192.0.2.2".parse().unwrap());
        assert!(two
            .take(Action::SignIn, other_client, Some("bob"))
            .await
            .is_ok());
    }
);

db_test!(
    an_invitation_is_claimed_once_and_never_after_it_expires,
    |db| {
        use backend::db::invitations;
        let future = backend::now_ms() + 60_000;
        invitations::insert(&db, "h-open", None, Some("for Ann"), future)
            .await
            .unwrap();
        invitations::insert(&db, "h-expired", None, None, backend::now_ms() - 1)
            .await
            .unwrap();
        assert!(invitations::claim(&db, "h-expired")
            .await
            .unwrap()
            .is_none());
        assert!(invitations::claim(&db, "h-unknown")
            .await
            .unwrap()
            .is_none());
        // Two sign-ups racing for one link: exactly one has it.
        let (a, b) = tokio::join!(
            invitations::claim(&db, "h-open"),
            invitations::claim(&db, "h-open")
        );
        let winners: Vec<String> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
        assert_eq!(winners.len(), 1);
        assert!(invitations::list_open(&db, 10).await.unwrap().is_empty());
        // Given back (the sign-up failed): it works again, once.
        invitations::release(&db, &winners[0]).await.unwrap();
        assert_eq!(invitations::list_open(&db, 10).await.unwrap().len(), 1);
        assert!(invitations::claim(&db, "h-open").await.unwrap().is_some());
        assert!(invitations::claim(&db, "h-open").await.unwrap().is_none());
    }
);

db_test!(
    a_lease_is_held_by_one_owner_renewed_by_it_and_taken_over_once_it_lapses,
    |db| {
        use backend::db::maintenance::{give_up_lease, live_leases, take_lease};
        let now = backend::now_ms();
        assert!(take_lease(&db, "server:a", "process 1", now, now + 45_000)
            .await
            .unwrap());
        // Another owner cannot take a live lease…
        assert!(!take_lease(&db, "server:a", "process 2", now, now + 45_000)
            .await
            .unwrap());
        // …its holder renews it, and it stays live past its first end.
        assert!(
            take_lease(&db, "server:a", "process 1", now + 30_000, now + 75_000)
                .await
                .unwrap()
        );
        let live = live_leases(&db, "server:", now + 60_000).await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(
            (live[0].owner.as_str(), live[0].expires_at),
            ("process 1", now + 75_000)
        );
        assert!(live_leases(&db, "rotate-secret", now)
            .await
            .unwrap()
            .is_empty());
        // Lapsed, anyone may take it; given up, it is gone.
        assert!(
            take_lease(&db, "server:a", "process 2", now + 80_000, now + 120_000)
                .await
                .unwrap()
        );
        give_up_lease(&db, "server:a", "process 1").await.unwrap();
        assert_eq!(
            live_leases(&db, "server:", now + 90_000)
                .await
                .unwrap()
                .len(),
            1,
            "not the holder's to give up"
        );
        give_up_lease(&db, "server:a", "process 2").await.unwrap();
        assert!(live_leases(&db, "server:", now).await.unwrap().is_empty());
    }
);
