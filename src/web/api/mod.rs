//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

pub mod booking;
pub mod calculators;
pub mod categories;
pub mod openapi;
pub mod rule_sets;
pub mod services;
pub mod session;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::domain::lang::Text;
use crate::error::AppError;

/// `axum::Json` whose rejections are our JSON errors: a body that is not JSON is 400,
/// JSON of the wrong shape is 422, each with a message in the user's language.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::JsonDataError(e) => AppError::invalid(Text::new(
            format!("Дані мають неправильну форму: {}", e.body_text()),
            format!("The data has the wrong shape: {}", e.body_text()),
        )),
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(Text::new(
            format!("Тіло запиту не є коректним JSON: {}", e.body_text()),
            format!("The request body is not valid JSON: {}", e.body_text()),
        )),
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(Text::new(
            "Потрібен заголовок Content-Type: application/json.",
            "Content-Type: application/json is required.",
        )),
        other => AppError::BadRequest(Text::new(
            format!("Не вдалося прочитати запит: {}", other.body_text()),
            format!("Could not read the request: {}", other.body_text()),
        )),
    }
}
