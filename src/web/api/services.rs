//! `GET /api/v1/services`, `GET /api/v1/services/{code}`, `PATCH /api/v1/services/{code}` (admin),
//! `POST /api/v1/catalog/import` (admin).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use crate::app::AppState;
use crate::domain::catalog::{self, Channel, validate_change};
use crate::domain::lang::Text;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::catalog::{ImportReport, ServiceEdit, ServiceRecord};
use crate::web::auth::Admin;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DurationDto {
    /// Lower bound in minutes.
    pub min: u32,
    /// Upper bound in minutes; null when open-ended ("від 10 хв").
    pub max: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceDto {
    pub code: String,
    /// The category's code.
    pub category: String,
    /// Title in Ukrainian, exactly as published.
    pub title: String,
    pub title_en: String,
    pub duration: DurationDto,
    /// `contact_center`, `visit`, `website`, in the published order.
    #[schema(value_type = Vec<String>)]
    pub channels: Vec<Channel>,
    /// Planned booking length in minutes.
    pub planned_minutes: u32,
    pub active: bool,
}

fn to_dto(s: ServiceRecord, state: &AppState) -> ServiceDto {
    ServiceDto {
        planned_minutes: s
            .planned_minutes(state.config.slot_minutes, state.config.open_ended_factor),
        code: s.code,
        category: s.category.code,
        title: s.title.uk,
        title_en: s.title.en,
        duration: DurationDto {
            min: s.duration.min,
            max: s.duration.max,
        },
        channels: s.channels,
        active: s.active,
    }
}

fn unknown_service(code: &str) -> AppError {
    AppError::NotFound(Text::new(
        format!("Послугу з кодом «{code}» не знайдено."),
        format!("No service has the code \"{code}\"."),
    ))
}

/// The active services of the catalog, in catalog order.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalog",
    responses((status = 200, body = [ServiceDto])))]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Vec<ServiceDto>>> {
    let services = store::catalog::list_services(&state.db, false).await?;
    Ok(Json(
        services.into_iter().map(|s| to_dto(s, &state)).collect(),
    ))
}

/// One service by its code.
#[utoipa::path(get, path = "/api/v1/services/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Service code, e.g. `payment-search`")),
    responses((status = 200, body = ServiceDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn get(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> AppResult<Json<ServiceDto>> {
    let s = store::catalog::find_service(&state.db, &code)
        .await?
        .ok_or_else(|| unknown_service(&code))?;
    Ok(Json(to_dto(s, &state)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    pub title: Option<String>,
    pub title_en: Option<String>,
    /// Minutes; null clears the override.
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<u32>)]
    pub planned_minutes: Option<Option<u32>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub channels: Option<Vec<Channel>>,
    pub active: Option<bool>,
}

/// Changes a service (admin only). Fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/services/{code}", tag = "catalog",
    params(("code" = String, Path)),
    request_body = ServicePatch,
    security(("bearer" = [])),
    responses((status = 200, body = ServiceDto), (status = 401), (status = 403), (status = 404), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn patch(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
    ApiJson(p): ApiJson<ServicePatch>,
) -> AppResult<Json<ServiceDto>> {
    let current = store::catalog::find_service(&state.db, &code)
        .await?
        .ok_or_else(|| unknown_service(&code))?;
    let planned = match p.planned_minutes {
        Some(Some(m)) => m.to_string(),
        Some(None) => String::new(),
        None => current
            .planned_override
            .map(|m| m.to_string())
            .unwrap_or_default(),
    };
    let change = validate_change(
        p.title.as_deref().unwrap_or(&current.title.uk),
        p.title_en.as_deref().unwrap_or(&current.title.en),
        &planned,
        p.channels.unwrap_or_else(|| current.channels.clone()),
        p.active.unwrap_or(current.active),
    )
    .map_err(AppError::invalid_fields)?;
    let updated = store::catalog::update_service(&state.db, &code, ServiceEdit::from(change))
        .await?
        .ok_or_else(|| unknown_service(&code))?;
    Ok(Json(to_dto(updated, &state)))
}

/// Re-imports the catalog from a TOML document (admin only). Services are matched by code.
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog",
    request_body(content = String, content_type = "application/toml"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn import(
    State(state): State<AppState>,
    _admin: Admin,
    body: String,
) -> AppResult<Json<ImportReport>> {
    let parsed = catalog::parse_catalog(&body).map_err(|e| AppError::invalid(e.text()))?;
    Ok(Json(store::catalog::import(&state.db, &parsed).await?))
}
