//! Outgoing mail: through SMTP when `SMTP_URL` is set (lettre), otherwise into the log and
//! one `.eml` file per message under `$DATA_DIR/outbox/` — so that a zero-config instance
//! still delivers verification and reset links to whoever runs it.
//!
//! Messages are sent on a background task: the request that caused one answers in the same
//! time whether or not a message goes out (a "forgot password" for an unknown address must
//! not be told apart by its timing).

use std::{path::PathBuf, sync::Arc};

use lettre::{
    message::{header::ContentTransferEncoding, header::ContentType, Body, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;

use crate::{config::Config, new_id, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("MAIL_FROM: '{0}' is not a mailbox (use Name <address@example.com>)")]
    From(String),
    #[error("SMTP_URL: {0}")]
    Smtp(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot write to the outbox {path}: {source}")]
    Outbox {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the SMTP server refused the message: {0}")]
    Send(String),
}

/// One plain-text message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_smtp_a_message_is_written_to_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let vars = std::collections::HashMap::from([(
            "DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )]);
        let config = Config::load(|k| vars.get(k).cloned())
            .and_then(Config::prepare)
            .unwrap();
        let mailer = Mailer::new(&config).unwrap();
        let link = format!(
            "http://127.0.0.1:3000/reset-password?token={}",
            "x".repeat(43)
        );
        mailer
            .send(Mail {
                to: "ann@example.com".to_owned(),
                subject: "Reset".to_owned(),
                text: format!("Open this:\r\n\r\n{link}\r\n"),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(eml.contains("To: ann@example.com"), "{eml}");
        assert!(
            eml.contains("Content-Transfer-Encoding: quoted-printable"),
            "{eml}"
        );
        // Soft line breaks and =3D aside, the link is all there.
        let decoded = eml.replace("=\r\n", "").replace("=3D", "=");
        assert!(decoded.contains(&link), "{eml}");
    }
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Outbox(_) => "outbox",
        };
        write!(f, "Mailer({kind})")
    }
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Self, MailError> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|_| MailError::From(config.mail_from.clone()))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| MailError::Smtp(e.to_string()))?
                    .build(),
            ),
            None => Transport::Outbox(config.data_dir.join("outbox")),
        };
        Ok(Self {
            from,
            transport: Arc::new(transport),
        })
    }

    /// The outbox directory, when mail is not sent through SMTP.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        match &*self.transport {
            Transport::Outbox(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Delivers on a background task; a failure is logged.
    pub fn send_in_background(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            let subject = mail.subject.clone();
            if let Err(e) = mailer.send(mail).await {
                tracing::error!(error = %e, %subject, "could not deliver a message");
            }
        });
    }

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))?;
        // Quoted-printable: links are longer than the 76 characters a mail line may have.
        let body =
            Body::new_with_encoding(mail.text.clone(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| MailError::Build("the text cannot be encoded".to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &*self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
                tracing::info!(subject = %mail.subject, "mail sent");
            }
            Transport::Outbox(dir) => {
                let path = dir.join(format!("{}_{}.eml", now_ms(), new_id()));
                let outbox_err = |source| MailError::Outbox {
                    path: path.clone(),
                    source,
                };
                tokio::fs::create_dir_all(dir).await.map_err(outbox_err)?;
                tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(outbox_err)?;
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    file = %path.display(),
                    text = %mail.text,
                    "mail written to the outbox (SMTP_URL is not set)"
                );
            }
        }
        Ok(())
    }
}
