//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

pub mod booking;
pub mod calculators;
pub mod case;
pub mod categories;
pub mod openapi;
pub mod queue;
pub mod rule_sets;
pub mod services;
pub mod session;
pub mod staff;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::domain::lang::Text;
use crate::error::AppError;
use crate::web::rejection;

/// `axum::Json` whose rejections are our JSON errors, in the user's language and naming the field:
/// a body that is not JSON is 400, JSON of the wrong shape (a wrong type, an unknown or missing
/// field, a number out of range) is 422 with `fields`, a body over the limit is 413.
pub struct ApiJson<T>(pub T);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::BadRequest(Text::new(
                "Потрібен заголовок Content-Type: application/json.",
                "Content-Type: application/json is required.",
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                rejection::too_large()
            } else {
                AppError::BadRequest(Text::new(
                    "Не вдалося прочитати тіло запиту.",
                    "The request body could not be read.",
                ))
            }
        })?;
        rejection::parse_json(&bytes).map(ApiJson)
    }
}
