//! `GET /api/v1/categories`: the catalog's categories with their published titles, so a client
//! can show the `category` code of `/api/v1/services` by name.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::error::AppResult;
use crate::store;

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    pub code: String,
    /// Title in Ukrainian, as published.
    pub title: String,
    pub title_en: String,
    /// The codes of its active services, in published order.
    pub services: Vec<String>,
}

/// The categories in published order, each with its active services' codes.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog",
    responses((status = 200, body = [CategoryDto])))]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Vec<CategoryDto>>> {
    let categories = store::catalog::list_categories(&state.db).await?;
    let services = store::catalog::list_services(&state.db, false).await?;
    Ok(Json(
        categories
            .into_iter()
            .map(|c| CategoryDto {
                services: services
                    .iter()
                    .filter(|s| s.category.id == c.id)
                    .map(|s| s.code.clone())
                    .collect(),
                code: c.code,
                title: c.title.uk,
                title_en: c.title.en,
            })
            .collect(),
    ))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/categories", get(list))
}

#[derive(OpenApi)]
#[openapi(paths(list), components(schemas(CategoryDto)))]
pub struct CategoriesApi;
