//! Staff pages: accounts (`/admin/staff`, admin), one's own password (`/account/password`),
//! and the center's contacts (`/admin/center`, admin).

mod accounts;
mod center;
mod password;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::domain::lang::Lang;
use crate::domain::validation::FieldError;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(accounts::list).post(accounts::create))
        .route(
            "/admin/staff/{id}",
            get(accounts::edit).post(accounts::save),
        )
        .route("/admin/staff/{id}/password", post(accounts::reset_password))
        .route(
            "/account/password",
            get(password::form).post(password::submit),
        )
        .route("/admin/center", get(center::form).post(center::save))
}

/// The messages of a rejected form, in the user's language; other errors pass on.
fn form_errors(e: AppError, lang: Lang) -> Result<(StatusCode, Vec<String>), AppError> {
    let status = e.status();
    match e {
        AppError::Invalid { fields, message } if fields.is_empty() => {
            Ok((status, vec![message.get(lang).to_string()]))
        }
        AppError::Invalid { fields, .. } => Ok((status, messages(&fields, lang))),
        AppError::Conflict(t) => Ok((status, vec![t.get(lang).to_string()])),
        other => Err(other),
    }
}

fn messages(fields: &[FieldError], lang: Lang) -> Vec<String> {
    fields
        .iter()
        .map(|f| f.message.get(lang).to_string())
        .collect()
}

fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}
