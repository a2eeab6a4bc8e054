//! `POST /api/v1/session` (sign in, get a bearer token), `DELETE /api/v1/session`, `GET /api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use crate::app::AppState;
use crate::domain::staff::Role;
use crate::domain::staff::account::check_sign_in;
use crate::error::{AppError, AppResult};
use crate::store::staff::{self, SessionKind, StaffUser};
use crate::web::auth::{ClientAddr, Staff};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserDto {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionDto {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserDto,
}

fn user_dto(u: &StaffUser) -> UserDto {
    UserDto {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
    }
}

/// Signs a staff member in and returns a bearer token for API clients.
#[utoipa::path(post, path = "/api/v1/session", tag = "staff", request_body = SignIn,
    responses((status = 201, body = SessionDto), (status = 401, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto),
        (status = 429, description = "Too many failed attempts for the account or the address; `Retry-After` says when to retry", body = crate::web::api::openapi::ErrorDto),
        (status = 503, description = "Too many password checks in flight; `Retry-After`", body = crate::web::api::openapi::ErrorDto)))]
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> AppResult<(StatusCode, Json<SessionDto>)> {
    check_sign_in(&body.username, &body.password).map_err(AppError::invalid_fields)?;
    let user = staff::sign_in(
        &state.db,
        &state.hashing,
        &state.login_locks,
        &body.username,
        &body.password,
        address,
    )
    .await?;
    let hours = i64::from(state.config.session_hours);
    let (token, expires_at) = staff::start_session(
        &state.db,
        user.id,
        SessionKind::Bearer,
        Duration::hours(hours),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionDto {
            token,
            token_type: "Bearer".into(),
            expires_at,
            user: user_dto(&user),
        }),
    ))
}

/// Ends the session of the bearer token (or cookie) sent with the request.
#[utoipa::path(delete, path = "/api/v1/session", tag = "staff", security(("bearer" = [])),
    responses((status = 204), (status = 401)))]
pub async fn delete(
    State(state): State<AppState>,
    _staff: Staff,
    parts: Parts,
) -> AppResult<StatusCode> {
    let token = crate::web::auth::session_token(&parts).ok_or(AppError::Unauthorized)?;
    staff::end_session(&state.db, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in staff member.
#[utoipa::path(get, path = "/api/v1/me", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = UserDto), (status = 401)))]
pub async fn me(staff: Staff) -> Json<UserDto> {
    Json(user_dto(&staff.user))
}
