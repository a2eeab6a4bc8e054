//! Staff sign-in and sign-out pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store::staff::{self, SessionKind};
use crate::web::auth::{SESSION_COOKIE, clear_session_cookie, session_cookie};
use crate::web::context::{RequestContext, check_csrf, cookie_value, safe_next};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    failed: bool,
    next: String,
    username: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn form(ctx: RequestContext, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    render(&LoginPage {
        chrome: Chrome::new(&ctx, None),
        failed: false,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    axum::Form(form): axum::Form<LoginForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let next = safe_next(form.next.as_deref());
    let Some(user) = staff::authenticate(&state.db, &form.username, &form.password).await? else {
        let page = LoginPage {
            chrome: Chrome::new(&ctx, None),
            failed: true,
            next,
            username: form.username,
        };
        let mut resp = render(&page)?;
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(resp);
    };
    let hours = i64::from(state.config.session_hours);
    let (token, _) = staff::start_session(
        &state.db,
        user.id,
        SessionKind::Cookie,
        Duration::hours(hours),
    )
    .await?;
    let cookie = session_cookie(&token, hours * 3600, state.config.secure_cookies);
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, next), (SET_COOKIE, cookie)],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LogoutForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        staff::end_session(&state.db, token)
            .await
            .map_err(AppError::from)?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/".to_string()),
            (SET_COOKIE, clear_session_cookie()),
        ],
    )
        .into_response())
}
