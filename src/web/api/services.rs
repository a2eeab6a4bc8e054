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
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    Ok(Json(
        catalog
            .active_services()
            .map(|s| to_dto(s.clone(), &state))
            .collect(),
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
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    let s = catalog
        .service(&code)
        .ok_or_else(|| unknown_service(&code))?;
    Ok(Json(to_dto(s.clone(), &state)))
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
    state.caches.catalog.invalidate();
    Ok(Json(to_dto(updated, &state)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// `true`: answer what the import would change (added, changed field by field,
    /// deactivated) and change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Re-imports the catalog from a TOML document (admin only). Services are matched by code.
/// With `?dry_run=true` it answers the plan (`{center, categories_added, categories_changed,
/// added, changed: [{code, title, changes: [{field, before, after}]}], deactivated}`) instead.
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog",
    params(ImportQuery),
    request_body(content = String, content_type = "application/toml"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn import(
    State(state): State<AppState>,
    _admin: Admin,
    axum::extract::Query(q): axum::extract::Query<ImportQuery>,
    body: String,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let parsed = catalog::parse_catalog(&body).map_err(|e| AppError::invalid(e.text()))?;
    if q.dry_run {
        let plan = store::catalog::plan(&state.db, &parsed).await?;
        return Ok(Json(plan).into_response());
    }
    let report = store::catalog::import(&state.db, &parsed).await?;
    state.caches.catalog_imported();
    Ok(Json(report).into_response())
}

/// The catalog in the database, in the file format of `data/catalog.toml` (admin only): what
/// `POST /api/v1/catalog/import` takes back unchanged.
#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/toml", body = String), (status = 401), (status = 403)))]
pub async fn export(
    State(state): State<AppState>,
    _admin: Admin,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let text = store::catalog::export(&state.db).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/toml; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The catalog's paths added since the first OpenAPI list (merged into the document).
#[derive(utoipa::OpenApi)]
#[openapi(paths(export))]
pub struct CatalogApi;

/// The catalog's API routes added since the first list in `web::router`, under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/catalog/export", axum::routing::get(export))
}
