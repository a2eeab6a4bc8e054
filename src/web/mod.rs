//! HTTP: thin handlers over the store and the domain. One module per area.

pub mod api;
pub mod assets;
pub mod auth;
pub mod boards;
pub mod booking_limits;
pub mod context;
pub mod i18n;
pub mod ops;
pub mod pages;
pub mod rejection;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::domain::lang::Text;
use crate::error::AppError;

pub fn router(state: AppState) -> Router {
    ops::init_metrics();
    assets::init(state.config.static_dir.as_deref());
    let booking_limits = booking_limits::Limits::from_config(&state.config);
    let api = Router::new()
        .route("/services", get(api::services::list))
        .route(
            "/services/{code}",
            get(api::services::get).patch(api::services::patch),
        )
        .route("/catalog/import", post(api::services::import))
        .merge(api::services::routes())
        .route(
            "/session",
            post(api::session::create).delete(api::session::delete),
        )
        .route("/me", get(api::session::me))
        .route("/rule-sets", get(api::rule_sets::list))
        .route("/rule-sets/{id}", get(api::rule_sets::get))
        .route(
            "/calculators/hot-water-quality",
            post(api::calculators::hot_water),
        )
        .route(
            "/calculators/temporary-absence",
            post(api::calculators::absence),
        )
        .route("/calculators/heat-allocation", post(api::calculators::heat))
        .merge(api::staff::routes())
        .merge(api::categories::routes())
        .merge(api::booking::routes(&booking_limits));

    Router::new()
        .route("/", get(pages::home::page))
        .route("/lang/{code}", get(pages::switch_lang))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::to("/admin/services") }),
        )
        .route("/calculators/", get(pages::calculators::index))
        .route(
            "/calculators",
            get(|| async { axum::response::Redirect::permanent("/calculators/") }),
        )
        .route(
            "/calculators/hot-water-quality",
            get(pages::calculators::show::<pages::calculators::HotWaterForm>)
                .post(pages::calculators::submit::<pages::calculators::HotWaterForm>),
        )
        .route(
            "/calculators/temporary-absence",
            get(pages::calculators::show::<pages::calculators::AbsenceForm>)
                .post(pages::calculators::submit::<pages::calculators::AbsenceForm>),
        )
        .route(
            "/calculators/heat-allocation",
            get(pages::calculators::show::<pages::calculators::HeatForm>)
                .post(pages::calculators::submit::<pages::calculators::HeatForm>),
        )
        .route("/admin/services", get(pages::admin::services))
        .route(
            "/admin/services/{code}",
            get(pages::admin::edit).post(pages::admin::save),
        )
        .route(
            "/admin/catalog",
            get(pages::admin::import_form).post(pages::admin::import),
        )
        .merge(pages::mail::routes())
        .merge(pages::staff::routes())
        .merge(pages::booking::routes(&booking_limits))
        .nest("/api/v1", api)
        .merge(api::queue::routes())
        .merge(pages::queue::routes())
        .merge(api::case::routes())
        .merge(pages::case::routes())
        .route("/api/openapi.json", get(api::openapi::document))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(assets::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(ops::track))
        .layer(middleware::from_fn(context::middleware))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // why: a board's socket lives for days; it is merged after the timeout layer.
        .merge(boards::routes())
        .layer(TraceLayer::new_for_http())
        // why: the home page is ~100 KB of HTML; gzip/brotli make it a few KB on a phone.
        .layer(CompressionLayer::new())
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::not_found()
}

async fn method_not_allowed() -> (StatusCode, AppError) {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        AppError::BadRequest(Text::new(
            "Цей метод не підтримується для цієї адреси.",
            "This method is not supported at this address.",
        )),
    )
}
