//! Mail: a persistent outbox and the worker that drains it over SMTP.
//!
//! An action that sends mail calls [`enqueue`] inside its own transaction, so the message
//! exists exactly when the action happened. The [`worker`] claims due messages one at a time
//! (a conditional UPDATE on `locked_until`, so several instances never send one message
//! twice), sends them through lettre, and records the result; failures are retried with a
//! capped exponential backoff until `max_attempts`, then the message is `failed` and shown in
//! `/admin/outbox`. With no SMTP configured the messages stay `queued` and are read there.

pub mod booking;
pub mod worker;

use chrono::{DateTime, Utc};

use crate::domain::lang::Lang;

pub use crate::store::mail::{Enqueued, enqueue, withdraw};

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// One message per key: an event enqueued twice is stored once.
    /// Convention: `<area>:<id>:<event>[:<detail>]`, e.g. `booking:42:booked`.
    pub dedupe_key: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub lang: Lang,
    pub attachments: Vec<AttachedFile>,
    /// Not sent before this instant (a reminder); `None` sends as soon as possible.
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedFile {
    pub filename: String,
    /// A MIME type, parameters allowed: `text/calendar; charset=utf-8; method=REQUEST`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Where a message stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for its `next_attempt_at` (first try or a retry).
    Queued,
    Sent,
    /// Gave up after the last allowed attempt; "retry now" in the admin page queues it again.
    Failed,
    /// Withdrawn before sending (a reminder of a cancelled booking).
    Withdrawn,
}

impl MailStatus {
    pub const ALL: [MailStatus; 4] = [
        MailStatus::Queued,
        MailStatus::Sent,
        MailStatus::Failed,
        MailStatus::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<MailStatus> {
        MailStatus::ALL.into_iter().find(|m| m.code() == s)
    }
}

/// Delay before retry number `attempts + 1` after `attempts` failed tries: 30 s doubled per
/// failure, capped at one hour (30 s, 1 min, 2 min, … 32 min, 1 h, 1 h).
pub fn backoff(attempts: u32) -> chrono::Duration {
    const BASE_SECS: i64 = 30;
    const CAP_SECS: i64 = 3600;
    let exp = attempts.saturating_sub(1).min(20);
    let secs = BASE_SECS.saturating_mul(1_i64 << exp).min(CAP_SECS);
    chrono::Duration::seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(3).num_seconds(), 120);
        assert_eq!(backoff(7).num_seconds(), 1920);
        assert_eq!(backoff(8).num_seconds(), 3600);
        assert_eq!(backoff(1000).num_seconds(), 3600);
        assert_eq!(backoff(0).num_seconds(), 30);
    }

    #[test]
    fn status_codes_round_trip() {
        for s in MailStatus::ALL {
            assert_eq!(MailStatus::parse(s.code()), Some(s));
        }
        assert_eq!(MailStatus::parse("sending"), None);
    }
}
