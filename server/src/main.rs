use std::process::ExitCode;

use backend::Config;
use clap::Parser;
use server::{
    cli::{Cli, Command},
    shutdown, telemetry, Server,
};

/// Exit status for invalid configuration (a variable that must be fixed).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("avatar-studio: cannot read .env: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    // Parsed, then made ready on disk (DATA_DIR, the generated secret): both are reported
    // as configuration errors naming the variable.
    let config = match Config::from_env().and_then(Config::prepare) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("avatar-studio: invalid configuration: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let command_line = !matches!(cli.command, None | Some(Command::Serve));
    if let Err(e) = telemetry::init_logging(&config.log_filter, config.log_format, command_line) {
        eprintln!("avatar-studio: invalid configuration: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("avatar-studio: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::RotateSecret => rotate_secret(config).await,
            Command::ImportUrls => import_urls(config).await,
            Command::Cleanup { dry_run } => cleanup(config, dry_run).await,
            Command::User { action } => user(config, action).await,
            Command::Invite { action } => invite(config, action).await,
            Command::Check => check(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "exiting");
            eprintln!("avatar-studio: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let server = Server::bind(config).await?;
    shutdown::cancel_on_signal(server.state.shutdown.clone());
    server.run().await
}

async fn rotate_secret(config: Config) -> anyhow::Result<()> {
    let new_secret = std::env::var("NEW_ENCRYPTION_SECRET").ok();
    let rotated = server::cli::rotate_secret(&config, new_secret).await?;
    let message = match &rotated.secret_file {
        Some(path) => format!(
            "{} provider key(s) re-encrypted; the new secret is in {}",
            rotated.keys,
            path.display()
        ),
        None => format!(
            "{} provider key(s) re-encrypted; set ENCRYPTION_SECRET to the value of \
             NEW_ENCRYPTION_SECRET before the next start",
            rotated.keys
        ),
    };
    std::io::Write::write_all(&mut std::io::stdout(), format!("{message}\n").as_bytes())?;
    Ok(())
}

async fn import_urls(config: Config) -> anyhow::Result<()> {
    let backend = server::connect(config).await?;
    let report = backend::services::ingest::import_external_avatars(&backend)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    backend.db.close().await;
    let mut out = String::new();
    let mut failed = 0;
    for item in &report {
        match &item.result {
            Ok(image) => out.push_str(&format!(
                "imported  character {}: {} -> image {image}\n",
                item.character_id, item.url
            )),
            Err(reason) => {
                failed += 1;
                out.push_str(&format!(
                    "failed    character {}: {}: {reason}\n",
                    item.character_id, item.url
                ));
            }
        }
    }
    out.push_str(&format!(
        "{} avatar(s) imported, {failed} failed\n",
        report.len() - failed
    ));
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    if failed > 0 {
        anyhow::bail!("{failed} avatar(s) could not be imported (see above)");
    }
    Ok(())
}

async fn cleanup(config: Config, dry_run: bool) -> anyhow::Result<()> {
    let backend = server::connect(config).await?;
    use backend::services::maintenance::{run_exclusive, Trigger};
    let report = run_exclusive(&backend, dry_run, Trigger::Command)
        .await
        .map_err(|e| anyhow::anyhow!("the cleanup failed: {e}"));
    backend.db.close().await;
    match report? {
        Some(report) => {
            std::io::Write::write_all(&mut std::io::stdout(), report.to_string().as_bytes())?;
            Ok(())
        }
        None => anyhow::bail!(
            "another cleanup is running (in a server or another command); try again when it \
             has finished"
        ),
    }
}

async fn user(config: Config, action: server::cli::UserCommand) -> anyhow::Result<()> {
    use backend::services::operators;
    use server::cli::UserCommand;
    let backend = server::connect(config).await?;
    let explain = |e: backend::services::ServiceError| match e {
        backend::services::ServiceError::NotFound => {
            anyhow::anyhow!("there is no account with this email address")
        }
        other => anyhow::anyhow!("{other}"),
    };
    let out = async {
        Ok::<String, anyhow::Error>(match action {
            UserCommand::Create {
                email,
                admin,
                display_name,
                password_stdin,
            } => {
                let password = if password_stdin {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Some(line.trim_end_matches(['\r', '\n']).to_owned())
                } else {
                    None
                };
                let created = operators::create_user(
                    &backend,
                    &email,
                    password.as_deref(),
                    display_name.as_deref(),
                    admin,
                )
                .await
                .map_err(explain)?;
                let u = &created.user;
                let mut line = format!(
                    "created {} ({}){}\n",
                    u.email,
                    u.id,
                    if u.is_admin { ", administrator" } else { "" }
                );
                if let Some(p) = &created.generated_password {
                    line.push_str(&format!(
                        "password: {} (shown once: keep it safe)\n",
                        secrecy::ExposeSecret::expose_secret(p)
                    ));
                }
                line
            }
            UserCommand::List => {
                let users = operators::list_users(&backend).await.map_err(explain)?;
                let mut out = format!(
                    "{:<36}  {:<40}  {:<5}  {:<8}  created\n",
                    "id", "email", "admin", "disabled"
                );
                for operators::Account { user: u, disabled } in &users {
                    out.push_str(&format!(
                        "{:<36}  {:<40}  {:<5}  {:<8}  {}\n",
                        u.id,
                        u.email,
                        if u.is_admin { "yes" } else { "no" },
                        if *disabled { "yes" } else { "no" },
                        u.created_at.to_rfc3339(),
                    ));
                }
                out.push_str(&format!("{} account(s)\n", users.len()));
                out
            }
            UserCommand::Disable { email } => {
                let u = operators::set_disabled(&backend, &email, true)
                    .await
                    .map_err(explain)?;
                format!(
                    "disabled {} ({}): its sessions ended, its tokens no longer work\n",
                    u.email, u.id
                )
            }
            UserCommand::Quota {
                email,
                images_per_day,
                active_jobs,
                storage_bytes,
                default,
            } => {
                use backend::services::quotas;
                let asked = model::QuotaSettings {
                    images_per_day,
                    active_jobs,
                    storage_bytes,
                };
                let usage = if default || asked != model::QuotaSettings::default() {
                    quotas::set_by_email(&backend, &email, asked)
                        .await
                        .map_err(explain)?
                } else {
                    quotas::usage_by_email(&backend, &email)
                        .await
                        .map_err(explain)?
                };
                let limit = |n: u64| {
                    if n == 0 {
                        "no limit".to_owned()
                    } else {
                        n.to_string()
                    }
                };
                let q = usage.quota;
                format!(
                    "{email}{}\nimages in 24 hours  {} of {}\njobs at once        {} of {}\nstorage (bytes)     {} of {}\n",
                    if usage.custom { " (its own limits)" } else { " (the instance's limits)" },
                    usage.images_today,
                    limit(u64::from(q.images_per_day)),
                    usage.active_jobs,
                    limit(u64::from(q.active_jobs)),
                    usage.storage_bytes,
                    limit(q.storage_bytes),
                )
            }
            UserCommand::Enable { email } => {
                let u = operators::set_disabled(&backend, &email, false)
                    .await
                    .map_err(explain)?;
                format!("enabled {} ({})\n", u.email, u.id)
            }
        })
    }
    .await;
    backend.db.close().await;
    std::io::Write::write_all(&mut std::io::stdout(), out?.as_bytes())?;
    Ok(())
}

async fn invite(config: Config, action: server::cli::InviteCommand) -> anyhow::Result<()> {
    use backend::services::invitations;
    use server::cli::InviteCommand;
    let backend = server::connect(config).await?;
    let out = async {
        Ok::<String, anyhow::Error>(match action {
            InviteCommand::Create { days, note } => {
                let request = model::CreateInvitationRequest {
                    note,
                    days: Some(days),
                };
                let made = invitations::create(&backend, None, &request)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                format!(
                    "invitation {} (single use, until {}):\n{}\n",
                    made.id,
                    made.expires_at.to_rfc3339(),
                    made.link.unwrap_or_default()
                )
            }
            InviteCommand::List => {
                let open = invitations::list_for_operator(&backend)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let mut out = format!("{:<36}  {:<25}  note\n", "id", "expires");
                for i in &open {
                    out.push_str(&format!(
                        "{:<36}  {:<25}  {}\n",
                        i.id,
                        i.expires_at.to_rfc3339(),
                        i.note.as_deref().unwrap_or("")
                    ));
                }
                out.push_str(&format!("{} open invitation(s)\n", open.len()));
                out
            }
            InviteCommand::Revoke { id } => {
                invitations::revoke_for_operator(&backend, &id)
                    .await
                    .map_err(|e| match e {
                        backend::services::ServiceError::NotFound => {
                            anyhow::anyhow!("there is no unused invitation with this id")
                        }
                        other => anyhow::anyhow!("{other}"),
                    })?;
                format!("withdrew invitation {id}: its link no longer works\n")
            }
        })
    }
    .await;
    backend.db.close().await;
    std::io::Write::write_all(&mut std::io::stdout(), out?.as_bytes())?;
    Ok(())
}

async fn check(config: Config) -> anyhow::Result<()> {
    use backend::health;
    // (what, "ok" | "warn" | "FAIL", detail)
    let mut lines: Vec<(String, &str, String)> = vec![(
        "configuration".to_owned(),
        "ok",
        format!(
            "DATA_DIR {}, DATABASE_URL {}, STORAGE_URL {}, PUBLIC_URL {}",
            config.data_dir.display(),
            config.database_url,
            config.storage_url,
            config.public_url
        ),
    )];
    match backend::Db::connect(&config.database_url, 2).await {
        Ok(db) => {
            let (known, applied) = (db.known_migrations(), db.applied_migrations().await);
            lines.push(match applied {
                Ok(n) if n == known => ("database".to_owned(), "ok", format!("{}, {n} of {known} migrations applied", db.dialect().as_str())),
                Ok(n) => ("database".to_owned(), "warn", format!("{}, {n} of {known} migrations applied: run `avatar-studio migrate` (or start the server)", db.dialect().as_str())),
                Err(e) => ("database".to_owned(), "FAIL", format!("cannot read the migrations: {e}")),
            });
            db.close().await;
        }
        Err(e) => lines.push(("database".to_owned(), "FAIL", format!("DATABASE_URL: {e}"))),
    }
    match backend::Storage::open(&config.storage_url, &config.s3_options) {
        Ok(storage) => lines.push(match health::storage_round_trip(&storage).await {
            Ok(()) => (
                "storage".to_owned(),
                "ok",
                format!(
                    "{}: written, read back and deleted a probe object",
                    storage.kind().as_str()
                ),
            ),
            Err(e) => ("storage".to_owned(), "FAIL", format!("STORAGE_URL: {e}")),
        }),
        Err(e) => lines.push(("storage".to_owned(), "FAIL", format!("STORAGE_URL: {e}"))),
    }
    for (name, url) in [
        ("openai", &config.openai_base_url),
        ("gemini", &config.gemini_base_url),
    ] {
        lines.push(match health::reachable(url).await {
            Ok(status) => (
                format!("provider {name}"),
                "ok",
                format!("{url} answers (HTTP {status})"),
            ),
            Err(e) => (format!("provider {name}"), "warn", format!("{url}: {e}")),
        });
    }
    lines.push((
        "provider builtin".to_owned(),
        "ok",
        "offline, always available".to_owned(),
    ));
    // Each identity provider's discovery document and signing keys (JWKS).
    match backend::identity::IdentityProviders::new(
        config.identity.clone(),
        config.outbound_timeout,
    ) {
        Ok(identities) => {
            for (name, result) in identities.check().await {
                lines.push(match result {
                    Ok(found) => (format!("identity {name}"), "ok", found),
                    Err(e) => (format!("identity {name}"), "FAIL", e.to_string()),
                });
            }
        }
        Err(e) => lines.push(("identity".to_owned(), "FAIL", e.to_string())),
    }
    let mut out = String::new();
    for (what, state, detail) in &lines {
        out.push_str(&format!("{what:<18} {state:<5} {detail}\n"));
    }
    let failed: Vec<&str> = lines
        .iter()
        .filter(|(_, s, _)| *s == "FAIL")
        .map(|(what, _, _)| what.as_str())
        .collect();
    let warned = lines.iter().filter(|(_, s, _)| *s == "warn").count();
    out.push_str(&format!("{} failed, {warned} warning(s)\n", failed.len()));
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    if !failed.is_empty() {
        anyhow::bail!("the {} check failed (see above)", failed.join(" and the "));
    }
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let db = backend::Db::connect(&config.database_url, 1)
        .await
        .context("DATABASE_URL")?;
    let applied = db.migrate().await.context("DATABASE_URL")?;
    let total = db.applied_migrations().await?;
    db.close().await;
    tracing::info!(applied, total, database = %config.database_url, "migrations applied");
    let message = format!(
        "{applied} migration(s) applied; {total} in total on {}",
        config.database_url
    );
    std::io::Write::write_all(&mut std::io::stdout(), format!("{message}\n").as_bytes())?;
    Ok(())
}
