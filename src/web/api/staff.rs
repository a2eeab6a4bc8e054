//! Staff accounts (admin), one's own password, and the center's contacts:
//! `/api/v1/staff-users…`, `PUT /api/v1/me/password`, `GET|PUT /api/v1/center`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::ApiJson;
use crate::app::AppState;
use crate::domain::staff::Role;
use crate::domain::staff::account::{
    AccountChange, check_new_password, parse_display_name, parse_role, validate_new_account,
};
use crate::domain::staff::center::{CenterContacts, ContactsInput, validate_contacts};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::staff::StaffAccountRecord;
use crate::web::api::openapi::ErrorDto;
use crate::web::auth::{Admin, Staff, session_token};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff-users", get(list).post(create))
        .route("/staff-users/{id}", get(get_one).patch(update))
        .route("/staff-users/{id}/password", put(reset_password))
        .route("/me/password", put(change_own_password))
        .route("/center", get(center).put(update_center))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get_one,
        update,
        reset_password,
        change_own_password,
        center,
        update_center
    ),
    components(schemas(
        StaffAccountDto,
        LinkedSpecialistDto,
        NewStaffUser,
        StaffUserChange,
        NewPassword,
        PasswordChange,
        CenterDto
    ))
)]
pub struct StaffApi;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkedSpecialistDto {
    pub id: i32,
    pub name: String,
    pub window_label: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffAccountDto {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The specialist this account works as (role `specialist` only).
    pub specialist: Option<LinkedSpecialistDto>,
}

fn to_dto(a: StaffAccountRecord) -> StaffAccountDto {
    StaffAccountDto {
        id: a.id,
        username: a.username,
        display_name: a.display_name,
        role: a.role,
        active: a.active,
        created_at: a.created_at,
        specialist: a.specialist.map(|s| LinkedSpecialistDto {
            id: s.id,
            name: s.name,
            window_label: s.window_label,
        }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStaffUser {
    /// 3–64 characters: Latin letters, digits, `.`, `_`, `-` (stored in lower case).
    pub username: String,
    /// Up to 100 characters.
    pub display_name: String,
    /// `admin`, `supervisor`, `specialist` or `kiosk`.
    pub role: String,
    /// 12–128 characters.
    pub password: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StaffUserChange {
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// `false` ends the account's sessions and tokens at once.
    pub active: Option<bool>,
    /// A specialist's id to link the account to; `null` unlinks; absent leaves it.
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<i32>)]
    pub specialist_id: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPassword {
    /// 12–128 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// 12–128 characters.
    pub new_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CenterDto {
    /// Up to 200 characters each.
    pub name_uk: String,
    pub name_en: String,
    /// Up to 300 characters each.
    pub address_uk: String,
    pub address_en: String,
    /// Digits, spaces, `+ - ( )`; up to 40 characters.
    pub phone: String,
    pub email: String,
    /// Without `https://`; may be empty.
    #[serde(default)]
    pub website: String,
    /// Opening hours as text; up to 500 characters each; may be empty.
    #[serde(default)]
    pub hours_uk: String,
    #[serde(default)]
    pub hours_en: String,
}

fn center_dto(c: &CenterContacts) -> CenterDto {
    CenterDto {
        name_uk: c.name.uk.clone(),
        name_en: c.name.en.clone(),
        address_uk: c.address.uk.clone(),
        address_en: c.address.en.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
        website: c.website.clone(),
        hours_uk: c.hours.uk.clone(),
        hours_en: c.hours.en.clone(),
    }
}

/// Every staff account.
#[utoipa::path(get, path = "/api/v1/staff-users", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = [StaffAccountDto]), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> AppResult<Json<Vec<StaffAccountDto>>> {
    let all = store::staff::list_accounts(&state.db).await?;
    Ok(Json(all.into_iter().map(to_dto).collect()))
}

/// Creates a staff account.
#[utoipa::path(post, path = "/api/v1/staff-users", tag = "staff", security(("bearer" = [])),
    request_body = NewStaffUser,
    responses((status = 201, body = StaffAccountDto), (status = 409, description = "Username taken", body = ErrorDto), (status = 422, body = ErrorDto)))]
pub async fn create(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewStaffUser>,
) -> AppResult<(StatusCode, Json<StaffAccountDto>)> {
    let new = validate_new_account(
        &body.username,
        &body.display_name,
        &body.role,
        &body.password,
    )
    .map_err(AppError::invalid_fields)?;
    let created = store::staff::create_account(&state.db, &state.hashing, new).await?;
    Ok((StatusCode::CREATED, Json(to_dto(created))))
}

/// One staff account.
#[utoipa::path(get, path = "/api/v1/staff-users/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 200, body = StaffAccountDto), (status = 404, body = ErrorDto)))]
pub async fn get_one(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i32>,
) -> AppResult<Json<StaffAccountDto>> {
    let a = store::staff::find_account(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(to_dto(a)))
}

/// Changes an account's name, role, active state or specialist link. The last active
/// administrator cannot be disabled or demoted (409).
#[utoipa::path(patch, path = "/api/v1/staff-users/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = StaffUserChange,
    responses((status = 200, body = StaffAccountDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
pub async fn update(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i32>,
    ApiJson(body): ApiJson<StaffUserChange>,
) -> AppResult<Json<StaffAccountDto>> {
    let mut errors = Vec::new();
    let display_name = body
        .display_name
        .as_deref()
        .map(parse_display_name)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let role = body
        .role
        .as_deref()
        .map(parse_role)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let change = AccountChange {
        display_name,
        role,
        active: body.active,
        specialist_id: body.specialist_id,
    };
    Ok(Json(to_dto(
        store::staff::update_account(&state.db, id, change).await?,
    )))
}

/// Sets a new password for an account; its sessions and tokens end.
#[utoipa::path(put, path = "/api/v1/staff-users/{id}/password", tag = "staff", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = NewPassword,
    responses((status = 204), (status = 404, body = ErrorDto), (status = 422, body = ErrorDto)))]
pub async fn reset_password(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i32>,
    ApiJson(body): ApiJson<NewPassword>,
) -> AppResult<StatusCode> {
    let password = check_new_password("password", &body.password)
        .map_err(|e| AppError::invalid_fields(vec![e]))?;
    store::staff::reset_password(&state.db, &state.hashing, &state.login_locks, id, &password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the signed-in staff member's own password; the current one is required. Other
/// sessions of the account end; this one stays.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "staff", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorDto), (status = 422, description = "Wrong current password or a new one out of bounds", body = ErrorDto)))]
pub async fn change_own_password(
    State(state): State<AppState>,
    staff: Staff,
    parts: Parts,
    ApiJson(body): ApiJson<PasswordChange>,
) -> AppResult<StatusCode> {
    let token = session_token(&parts).ok_or(AppError::Unauthorized)?;
    let new = check_new_password("new_password", &body.new_password)
        .map_err(|e| AppError::invalid_fields(vec![e]))?;
    if body.current_password.chars().count() > crate::domain::staff::account::PASSWORD_MAX {
        return Err(AppError::invalid_fields(vec![
            crate::domain::validation::FieldError::bilingual(
                "current_password",
                "Поточний пароль невірний.",
                "The current password is wrong.",
            ),
        ]));
    }
    store::staff::change_own_password(
        &state.db,
        &state.hashing,
        staff.user.id,
        token,
        &body.current_password,
        &new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The center's public contacts, as the home page shows them.
#[utoipa::path(get, path = "/api/v1/center", tag = "staff",
    responses((status = 200, body = CenterDto)))]
pub async fn center(State(state): State<AppState>) -> AppResult<Json<CenterDto>> {
    Ok(Json(center_dto(
        &*store::center::cached(&state.caches, &state.db).await?,
    )))
}

/// Replaces the center's public contacts.
#[utoipa::path(put, path = "/api/v1/center", tag = "staff", security(("bearer" = [])),
    request_body = CenterDto,
    responses((status = 200, body = CenterDto), (status = 422, body = ErrorDto)))]
pub async fn update_center(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<CenterDto>,
) -> AppResult<Json<CenterDto>> {
    let contacts = validate_contacts(&ContactsInput {
        name_uk: &body.name_uk,
        name_en: &body.name_en,
        address_uk: &body.address_uk,
        address_en: &body.address_en,
        phone: &body.phone,
        email: &body.email,
        website: &body.website,
        hours_uk: &body.hours_uk,
        hours_en: &body.hours_en,
    })
    .map_err(AppError::invalid_fields)?;
    let saved = store::center::save(&state.caches, &state.db, &contacts).await?;
    Ok(Json(center_dto(&saved)))
}
