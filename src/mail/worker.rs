//! The outbox worker: one pass claims one due message, sends it over SMTP, records the result.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{DatabaseConnection, DbErr};

use super::MailStatus;
use crate::config::Config;
use crate::store;
use crate::store::mail::ClaimedMail;

/// How long a claim lasts. A worker that dies mid-send frees its message after this; it is
/// longer than the SMTP timeout, so a live worker always finishes within its lease.
const LEASE: Duration = Duration::from_secs(300);
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// No SMTP server is configured: messages stay in the outbox for the admin page.
    Disabled,
    /// Nothing was due.
    Idle,
    Sent(i32),
    /// The attempt failed; the message waits for its next attempt.
    WillRetry(i32),
    /// The attempt failed and was the last one allowed.
    Failed(i32),
    /// The message was sent but another worker had taken it over (lease ran out).
    LostLease(i32),
}

impl Pass {
    /// Whether the worker should look for more work at once rather than sleep.
    pub fn busy(self) -> bool {
        !matches!(self, Pass::Disabled | Pass::Idle)
    }
}

#[derive(Clone)]
pub struct MailWorker {
    db: DatabaseConnection,
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    max_attempts: u32,
}

impl MailWorker {
    /// A worker for the configured SMTP server (none: a worker that only reports `Disabled`).
    pub fn from_config(db: DatabaseConnection, config: &Config) -> Result<MailWorker, String> {
        MailWorker::new(
            db,
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.mail_max_attempts,
        )
    }

    pub fn new(
        db: DatabaseConnection,
        smtp_url: Option<&str>,
        from: &str,
        max_attempts: u32,
    ) -> Result<MailWorker, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("CHERGA_MAIL_FROM `{from}` is not a mail address: {e}"))?;
        let transport = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("CHERGA_SMTP_URL is not a valid SMTP URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        };
        Ok(MailWorker {
            db,
            transport,
            from,
            max_attempts: max_attempts.max(1),
        })
    }

    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }

    /// Claims one due message and tries to send it.
    pub async fn run_once(&self) -> Result<Pass, DbErr> {
        let Some(transport) = &self.transport else {
            return Ok(Pass::Disabled);
        };
        let now = store::now();
        let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(5));
        let Some(claimed) = store::mail::claim_due(&self.db, now, lease).await? else {
            return Ok(Pass::Idle);
        };
        let id = claimed.id;
        let outcome = match build_message(&self.from, &claimed) {
            // why: a message that cannot be built (a bad address) never will be: give up now.
            Err(e) => Err((e, true)),
            Ok(message) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| (format!("SMTP: {e}"), e.is_permanent())),
        };
        match outcome {
            Ok(()) => {
                let kept = store::mail::mark_sent(&self.db, &claimed, store::now()).await?;
                if kept {
                    tracing::info!(mail = id, "mail sent");
                    Ok(Pass::Sent(id))
                } else {
                    tracing::warn!(mail = id, "mail sent after its lease ran out");
                    Ok(Pass::LostLease(id))
                }
            }
            Err((error, permanent)) => {
                let max = if permanent { 1 } else { self.max_attempts };
                let status =
                    store::mail::mark_failed_attempt(&self.db, &claimed, &error, store::now(), max)
                        .await?;
                tracing::warn!(mail = id, %error, status = status.code(), "mail not sent");
                Ok(match status {
                    MailStatus::Failed => Pass::Failed(id),
                    _ => Pass::WillRetry(id),
                })
            }
        }
    }
}

/// The MIME message of an outbox row: plain text (and HTML when given) plus attachments.
fn build_message(from: &Mailbox, m: &ClaimedMail) -> Result<Message, String> {
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("recipient `{}` is not a mail address: {e}", m.to))?;
    // why: a stable Message-ID lets mail clients drop a copy if a message ever goes out twice
    // (a worker that lost its lease mid-send).
    let domain = from.email.domain().to_string();
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<cherga-mail-{}@{domain}>", m.id)));
    builder = builder.date_now();
    let mut message = if m.attachments.is_empty() {
        match &m.html {
            Some(h) => {
                builder.multipart(MultiPart::alternative_plain_html(m.text.clone(), h.clone()))
            }
            None => builder.singlepart(SinglePart::plain(m.text.clone())),
        }
    } else {
        let mut mixed = match &m.html {
            Some(h) => MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(m.text.clone(), h.clone())),
            None => MultiPart::mixed().singlepart(SinglePart::plain(m.text.clone())),
        };
        for a in &m.attachments {
            let ct = ContentType::parse(&a.content_type)
                .map_err(|e| format!("attachment `{}`: bad content type: {e}", a.filename))?;
            mixed =
                mixed.singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), ct));
        }
        builder.multipart(mixed)
    }
    .map_err(|e| format!("cannot build the message: {e}"))?;
    message.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Content-Language"),
        m.lang.code().to_string(),
    ));
    Ok(message)
}
