//! The mail outbox: enqueue inside the caller's transaction, claim, mark sent or retry, and
//! the reads of the admin page.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult,
};

use crate::domain::lang::Lang;
use crate::mail::{AttachedFile, MailStatus, OutgoingMail, backoff};
use crate::store::entities::{mail_attachment, mail_outbox};

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored as a new message with this id.
    New(i32),
    /// A message with the same `dedupe_key` was already there; nothing was written.
    Duplicate,
}

/// Puts a message in the outbox. Runs on the caller's connection or transaction, so the mail
/// exists if and only if the caller's action commits.
///
/// why: `ON CONFLICT DO NOTHING` rather than catching the unique violation, because on
/// PostgreSQL a failed statement aborts the caller's whole transaction.
pub async fn enqueue(conn: &impl ConnectionTrait, mail: OutgoingMail) -> Result<Enqueued, DbErr> {
    let now = super::now();
    let row = mail_outbox::ActiveModel {
        dedupe_key: Set(mail.dedupe_key),
        recipient: Set(mail.to),
        subject: Set(mail.subject),
        body_text: Set(mail.text),
        body_html: Set(mail.html),
        lang: Set(mail.lang.code().to_string()),
        status: Set(MailStatus::Queued.code().to_string()),
        attempts: Set(0),
        next_attempt_at: Set(mail.not_before.map(truncate).unwrap_or(now)),
        locked_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    let id = match mail_outbox::Entity::insert(row)
        .on_conflict_do_nothing_on([mail_outbox::Column::DedupeKey])
        .exec(conn)
        .await?
    {
        TryInsertResult::Inserted(r) => r.last_insert_id,
        TryInsertResult::Conflicted | TryInsertResult::Empty => return Ok(Enqueued::Duplicate),
    };
    if !mail.attachments.is_empty() {
        mail_attachment::Entity::insert_many(mail.attachments.into_iter().map(|a| {
            mail_attachment::ActiveModel {
                outbox_id: Set(id),
                filename: Set(a.filename),
                content_type: Set(a.content_type),
                content: Set(a.content),
                ..Default::default()
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(Enqueued::New(id))
}

/// Withdraws a message that has not been sent yet (the reminder of a cancelled or moved
/// booking). Returns whether one was withdrawn. The withdrawn row keeps its history but gives
/// up its key (renamed `<key>#withdrawn-<id>`), so the same event can be enqueued again later
/// (a booking moved away and back to the same time gets its reminder).
pub async fn withdraw(conn: &impl ConnectionTrait, dedupe_key: &str) -> Result<bool, DbErr> {
    let queued: Vec<i32> = mail_outbox::Entity::find()
        .select_only()
        .column(mail_outbox::Column::Id)
        .filter(mail_outbox::Column::DedupeKey.eq(dedupe_key))
        .filter(mail_outbox::Column::Status.eq(MailStatus::Queued.code()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut withdrawn = false;
    for id in queued {
        let r = mail_outbox::Entity::update_many()
            .col_expr(
                mail_outbox::Column::Status,
                Expr::value(MailStatus::Withdrawn.code()),
            )
            .col_expr(
                mail_outbox::Column::DedupeKey,
                Expr::value(format!("{dedupe_key}#withdrawn-{id}")),
            )
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::Status.eq(MailStatus::Queued.code()))
            .exec(conn)
            .await?;
        withdrawn |= r.rows_affected > 0;
    }
    Ok(withdrawn)
}

/// A message claimed by one worker until `lease`.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: i32,
    /// The `locked_until` this worker wrote; finishing checks it is still ours.
    pub lease: DateTime<Utc>,
    pub attempts: u32,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub lang: Lang,
    pub attachments: Vec<AttachedFile>,
}

fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

fn unlocked(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(mail_outbox::Column::LockedUntil.is_null())
        .add(mail_outbox::Column::LockedUntil.lt(now))
}

/// Claims one due message for `lease_for`: a conditional UPDATE that only one worker can win,
/// on SQLite and PostgreSQL alike (no `SKIP LOCKED` needed).
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_for: Duration,
) -> Result<Option<ClaimedMail>, DbErr> {
    let now = truncate(now);
    let candidates: Vec<i32> = mail_outbox::Entity::find()
        .select_only()
        .column(mail_outbox::Column::Id)
        .filter(mail_outbox::Column::Status.eq(MailStatus::Queued.code()))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .filter(unlocked(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .order_by_asc(mail_outbox::Column::Id)
        .limit(8)
        .into_tuple()
        .all(conn)
        .await?;
    let lease = truncate(now + lease_for);
    for id in candidates {
        let won = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::LockedUntil, Expr::value(lease))
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::Status.eq(MailStatus::Queued.code()))
            .filter(unlocked(now))
            .exec(conn)
            .await?
            .rows_affected
            == 1;
        if !won {
            continue;
        }
        let Some(m) = mail_outbox::Entity::find_by_id(id).one(conn).await? else {
            continue;
        };
        let attachments = mail_attachment::Entity::find()
            .filter(mail_attachment::Column::OutboxId.eq(id))
            .order_by_asc(mail_attachment::Column::Id)
            .all(conn)
            .await?
            .into_iter()
            .map(|a| AttachedFile {
                filename: a.filename,
                content_type: a.content_type,
                content: a.content,
            })
            .collect();
        return Ok(Some(ClaimedMail {
            id,
            lease,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            to: m.recipient,
            subject: m.subject,
            text: m.body_text,
            html: m.body_html,
            lang: Lang::parse(&m.lang).unwrap_or_default(),
            attachments,
        }));
    }
    Ok(None)
}

/// Records a delivery. Returns false when the lease had been lost (the message was claimed
/// again after the lease ran out), which the worker logs.
pub async fn mark_sent(
    conn: &impl ConnectionTrait,
    claimed: &ClaimedMail,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::Status,
            Expr::value(MailStatus::Sent.code()),
        )
        .col_expr(
            mail_outbox::Column::Attempts,
            Expr::value(claimed.attempts as i32 + 1),
        )
        .col_expr(mail_outbox::Column::SentAt, Expr::value(truncate(now)))
        .col_expr(
            mail_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            mail_outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(mail_outbox::Column::Id.eq(claimed.id))
        .filter(mail_outbox::Column::LockedUntil.eq(claimed.lease))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Records a failed attempt: the message is retried after [`backoff`], or becomes `failed`
/// once `max_attempts` tries were made. Returns the new status.
pub async fn mark_failed_attempt(
    conn: &impl ConnectionTrait,
    claimed: &ClaimedMail,
    error: &str,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<MailStatus, DbErr> {
    let attempts = claimed.attempts + 1;
    let status = if attempts >= max_attempts {
        MailStatus::Failed
    } else {
        MailStatus::Queued
    };
    let error: String = error.chars().take(2000).collect();
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::Status, Expr::value(status.code()))
        .col_expr(mail_outbox::Column::Attempts, Expr::value(attempts as i32))
        .col_expr(
            mail_outbox::Column::NextAttemptAt,
            Expr::value(truncate(now + backoff(attempts))),
        )
        .col_expr(
            mail_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(mail_outbox::Column::LastError, Expr::value(Some(error)))
        .filter(mail_outbox::Column::Id.eq(claimed.id))
        .filter(mail_outbox::Column::LockedUntil.eq(claimed.lease))
        .exec(conn)
        .await?;
    Ok(status)
}

/// Queues a failed or waiting message to be tried at once (the admin page's "retry now").
/// A message a worker holds right now is left alone. Returns whether it was queued.
pub async fn retry_now(conn: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    let now = super::now();
    let r = mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::Status,
            Expr::value(MailStatus::Queued.code()),
        )
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(
            mail_outbox::Column::Status
                .is_in([MailStatus::Queued.code(), MailStatus::Failed.code()]),
        )
        .filter(unlocked(now))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// One row of the outbox list.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub id: i32,
    pub dedupe_key: String,
    pub to: String,
    pub subject: String,
    pub lang: Lang,
    pub status: MailStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<mail_outbox::Model> for OutboxRecord {
    fn from(m: mail_outbox::Model) -> Self {
        OutboxRecord {
            id: m.id,
            dedupe_key: m.dedupe_key,
            to: m.recipient,
            subject: m.subject,
            lang: Lang::parse(&m.lang).unwrap_or_default(),
            status: MailStatus::parse(&m.status).unwrap_or(MailStatus::Queued),
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            last_error: m.last_error,
            created_at: m.created_at,
        }
    }
}

/// Messages newest first, at most `limit`, optionally of one status.
pub async fn list_outbox(
    conn: &impl ConnectionTrait,
    status: Option<MailStatus>,
    limit: u64,
) -> Result<Vec<OutboxRecord>, DbErr> {
    let mut q = mail_outbox::Entity::find();
    if let Some(s) = status {
        q = q.filter(mail_outbox::Column::Status.eq(s.code()));
    }
    Ok(q.order_by_desc(mail_outbox::Column::CreatedAt)
        .order_by_desc(mail_outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(OutboxRecord::from)
        .collect())
}

/// One message with its text and attachments, for reading in the admin page.
#[derive(Debug, Clone)]
pub struct OutboxMessageRecord {
    pub record: OutboxRecord,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<AttachedFile>,
}

pub async fn find_message(
    conn: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<OutboxMessageRecord>, DbErr> {
    let Some(m) = mail_outbox::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let attachments = mail_attachment::Entity::find()
        .filter(mail_attachment::Column::OutboxId.eq(id))
        .order_by_asc(mail_attachment::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| AttachedFile {
            filename: a.filename,
            content_type: a.content_type,
            content: a.content,
        })
        .collect();
    let text = m.body_text.clone();
    let html = m.body_html.clone();
    Ok(Some(OutboxMessageRecord {
        record: m.into(),
        text,
        html,
        attachments,
    }))
}
