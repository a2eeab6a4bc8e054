//! Staff sign-in and sign-out pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::staff::account::{USERNAME_MAX, check_sign_in};
use crate::error::{AppError, AppResult};
use crate::store::staff::{self, SessionKind};
use crate::web::auth::{ClientAddr, SESSION_COOKIE, clear_session_cookie, session_cookie};
use crate::web::context::{RequestContext, check_csrf, cookie_value, safe_next};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    failed: bool,
    /// Why the sign-in was refused, when it was not a wrong password (throttled, too long).
    refusal: Option<String>,
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
        refusal: None,
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
    ClientAddr(address): ClientAddr,
    axum::Form(form): axum::Form<LoginForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let next = safe_next(form.next.as_deref());
    let outcome = match check_sign_in(&form.username, &form.password) {
        Err(errors) => Err(AppError::invalid_fields(errors)),
        Ok(()) => {
            staff::sign_in(
                &state.db,
                &state.hashing,
                &state.login_locks,
                &form.username,
                &form.password,
                address,
            )
            .await
        }
    };
    let user = match outcome {
        Ok(user) => user,
        Err(
            e @ (AppError::BadCredentials
            | AppError::Throttled { .. }
            | AppError::Busy { .. }
            | AppError::Invalid { .. }),
        ) => {
            // The form comes back with the reason; the status and `Retry-After` stay.
            let refusal = match &e {
                AppError::BadCredentials => None,
                AppError::Invalid { fields, .. } => Some(
                    fields
                        .iter()
                        .map(|f| f.message.get(ctx.lang).to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                other => Some(other.message().get(ctx.lang).to_string()),
            };
            let username: String = form.username.chars().take(USERNAME_MAX).collect();
            let page = LoginPage {
                chrome: Chrome::new(&ctx, None),
                failed: refusal.is_none(),
                refusal,
                next,
                username,
            };
            let mut resp = render(&page)?;
            *resp.status_mut() = e.status();
            if let Some(v) = e.into_response().headers().get(RETRY_AFTER).cloned() {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
            return Ok(resp);
        }
        Err(other) => return Err(other),
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
