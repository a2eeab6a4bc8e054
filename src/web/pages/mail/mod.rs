//! Admin pages of the mail outbox: the messages newest first, one message's text (a center
//! without SMTP reads and forwards them from here), its attachments, and "retry now".

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::mail::MailStatus;
use crate::store;
use crate::store::mail::OutboxRecord;
use crate::web::auth::Admin;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

/// How many messages the list shows.
const LIST_LIMIT: u64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(list))
        .route("/admin/outbox/{id}", get(show))
        .route("/admin/outbox/{id}/retry", post(retry))
        .route("/admin/outbox/{id}/attachments/{n}", get(attachment))
}

pub struct MessageView {
    pub id: i32,
    pub created: String,
    pub to: String,
    pub subject: String,
    pub lang: &'static str,
    pub status: &'static str,
    pub status_label: String,
    pub attempts: u32,
    pub next_attempt: String,
    pub sent: String,
    pub last_error: String,
    pub retryable: bool,
}

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

impl MessageView {
    fn new(t: Tr, r: OutboxRecord) -> MessageView {
        MessageView {
            id: r.id,
            created: instant(r.created_at),
            to: r.to,
            subject: r.subject,
            lang: r.lang.code(),
            status: r.status.code(),
            status_label: t.get(&format!("mail.status.{}", r.status.code())),
            attempts: r.attempts,
            next_attempt: if r.status == MailStatus::Queued {
                instant(r.next_attempt_at)
            } else {
                String::new()
            },
            sent: r.sent_at.map(instant).unwrap_or_default(),
            last_error: r.last_error.unwrap_or_default(),
            retryable: matches!(r.status, MailStatus::Failed | MailStatus::Queued),
        }
    }
}

#[derive(Template)]
#[template(path = "mail/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    smtp_configured: bool,
    /// (code, label, selected)
    filters: Vec<(&'static str, String, bool)>,
    messages: Vec<MessageView>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let status = q.status.as_deref().and_then(MailStatus::parse);
    let messages = store::mail::list_outbox(&state.db, status, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|r| MessageView::new(t, r))
        .collect();
    let mut filters = vec![("", t.get("mail.outbox.filter_all"), status.is_none())];
    filters.extend(MailStatus::ALL.into_iter().map(|s| {
        (
            s.code(),
            t.get(&format!("mail.status.{}", s.code())),
            status == Some(s),
        )
    }));
    render(&OutboxPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        smtp_configured: state
            .config
            .smtp_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty()),
        filters,
        messages,
    })
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct MessagePage {
    chrome: Chrome,
    message: MessageView,
    dedupe_key: String,
    text: String,
    /// (index, filename, content type, size in bytes)
    attachments: Vec<(usize, String, String, usize)>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let m = store::mail::find_message(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let notice = match q.notice.as_deref() {
        Some("retried") => Some(t.get("mail.outbox.retried")),
        Some("not_retried") => Some(t.get("mail.outbox.not_retried")),
        _ => None,
    };
    render(&MessagePage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        dedupe_key: m.record.dedupe_key.clone(),
        message: MessageView::new(t, m.record),
        text: m.text,
        attachments: m
            .attachments
            .into_iter()
            .enumerate()
            .map(|(i, a)| (i, a.filename, a.content_type, a.content.len()))
            .collect(),
        notice,
    })
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Queues a failed (or waiting) message for an attempt now; back to the message (PRG).
pub async fn retry(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(_staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    store::mail::find_message(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let notice = if store::mail::retry_now(&state.db, id).await? {
        "retried"
    } else {
        "not_retried"
    };
    Ok(Redirect::to(&format!("/admin/outbox/{id}?notice={notice}")).into_response())
}

/// Downloads one attachment (the ICS, to forward it by hand).
pub async fn attachment(
    State(state): State<AppState>,
    Admin(_staff): Admin,
    Path((id, n)): Path<(i32, usize)>,
) -> AppResult<Response> {
    let m = store::mail::find_message(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let a = m
        .attachments
        .into_iter()
        .nth(n)
        .ok_or_else(AppError::not_found)?;
    // why: the filename is ours (invite.ics), but keep the header safe whatever it holds.
    let filename: String = a
        .filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        a.content,
    )
        .into_response())
}
