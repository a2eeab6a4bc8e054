//! One error type for every handler. It maps to an HTTP status and a body
//! `{"error": CODE, "message": TEXT}` in the language of the request (or an HTML page for browsers).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::domain::lang::{Lang, Text};

/// What the request asked for, set by the `web::context` middleware so that an error
/// raised deep inside a handler still answers in the user's language and format.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext {
    pub lang: Lang,
    pub wants_html: bool,
}

tokio::task_local! {
    pub static ERROR_CONTEXT: ErrorContext;
}

fn current_context() -> ErrorContext {
    ERROR_CONTEXT.try_with(|c| *c).unwrap_or_default()
}

pub use crate::domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {}", .0.en)]
    NotFound(Text),
    #[error("invalid input: {}", .message.en)]
    Invalid {
        message: Text,
        fields: Vec<FieldError>,
    },
    #[error("bad request: {}", .0.en)]
    BadRequest(Text),
    #[error("conflict: {}", .0.en)]
    Conflict(Text),
    /// A case already exists for what the request would open one from (a ticket or a booking):
    /// 409 `conflict`, with that case's id as `case` in the body so a client can go to it.
    #[error("conflict: {} (case #{case})", .message.en)]
    CaseExists { message: Text, case: i32 },
    #[error("unauthorized")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("forbidden")]
    Forbidden,
    #[error("too many requests")]
    TooManyRequests,
    /// A form sent with a missing or stale CSRF token: the page was open too long or the cookie
    /// was lost. 403, but said as what it is, not as a missing permission.
    #[error("form expired")]
    FormExpired,
    /// A request body over the size limit: 413.
    #[error("payload too large: {}", .0.en)]
    TooLarge(Text),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Sign-in refused for a while after repeated failures (429 with `Retry-After`).
    #[error("throttled: {}", .message.en)]
    Throttled {
        retry_after_secs: u64,
        message: Text,
    },
    /// Too much work of one kind in flight (password hashing); 503 with `Retry-After`.
    #[error("busy, retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn not_found() -> Self {
        AppError::NotFound(Text::new(
            "Сторінку або запис не знайдено.",
            "The page or record was not found.",
        ))
    }

    pub fn invalid(message: Text) -> Self {
        AppError::Invalid {
            message,
            fields: Vec::new(),
        }
    }

    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        AppError::Invalid {
            message: Text::new(
                "Перевірте виділені поля.",
                "Please check the highlighted fields.",
            ),
            fields,
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        AppError::Internal(err.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) | AppError::CaseExists { .. } => StatusCode::CONFLICT,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::FormExpired => StatusCode::FORBIDDEN,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) | AppError::CaseExists { .. } => "conflict",
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden => "forbidden",
            AppError::TooManyRequests => "too_many_requests",
            AppError::FormExpired => "form_expired",
            AppError::TooLarge(_) => "too_large",
            AppError::Unavailable(_) => "unavailable",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::Busy { .. } => "busy",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn message(&self) -> Text {
        match self {
            AppError::NotFound(t)
            | AppError::BadRequest(t)
            | AppError::Conflict(t)
            | AppError::CaseExists { message: t, .. }
            | AppError::TooLarge(t)
            | AppError::Invalid { message: t, .. }
            | AppError::Throttled { message: t, .. } => t.clone(),
            AppError::Busy { retry_after_secs } => Text::new(
                format!(
                    "Сервер зайнятий перевіркою паролів. Спробуйте знову через {retry_after_secs} с."
                ),
                format!(
                    "The server is busy checking passwords. Try again in {retry_after_secs} s."
                ),
            ),
            AppError::Unauthorized => Text::new(
                "Потрібно увійти як працівник центру.",
                "Staff sign-in is required.",
            ),
            AppError::BadCredentials => Text::new(
                "Невірне ім'я користувача або пароль.",
                "Wrong username or password.",
            ),
            AppError::Forbidden => Text::new(
                "Ваша роль не дозволяє цю дію.",
                "Your role does not allow this action.",
            ),
            AppError::TooManyRequests => Text::new(
                "Забагато запитів. Спробуйте трохи пізніше.",
                "Too many requests. Please try again a little later.",
            ),
            AppError::FormExpired => Text::new(
                "Форма застаріла: її захисний ключ не збігається (сторінку відкрито давно або cookie видалено). Оновіть сторінку й надішліть ще раз.",
                "The form has expired: its security token does not match (the page was open too long or the cookie was removed). Reload the page and send it again.",
            ),
            AppError::Unavailable(_) => Text::new(
                "Сервіс тимчасово недоступний.",
                "The service is temporarily unavailable.",
            ),
            AppError::Internal(_) => Text::new(
                "Внутрішня помилка. Ми вже знаємо про неї; спробуйте ще раз.",
                "Internal error. It has been logged; please try again.",
            ),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::SqlErr;
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(Text::new(
                "Такий запис уже існує.",
                "Such a record already exists.",
            )),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => AppError::Conflict(Text::new(
                "Запис пов'язаний з іншими даними або посилається на відсутні.",
                "The record is linked to other data or refers to missing data.",
            )),
            _ => match err {
                sea_orm::DbErr::ConnectionAcquire(e) => AppError::Unavailable(e.to_string()),
                other if is_contention(&other) => AppError::Unavailable(other.to_string()),
                other => AppError::Internal(other.to_string()),
            },
        }
    }
}

/// A write that lost to others for longer than the database waits (SQLite's busy timeout, a
/// PostgreSQL deadlock or serialization failure): the request was fine and nothing was written,
/// so it is a 503 to retry, not an internal error.
fn is_contention(err: &sea_orm::DbErr) -> bool {
    let text = err.to_string();
    [
        "database is locked",
        "database table is locked",
        "deadlock detected",
        "could not serialize access",
    ]
    .iter()
    .any(|m| text.contains(m))
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldBody<'a>>,
    /// The existing case, for [`AppError::CaseExists`].
    #[serde(skip_serializing_if = "Option::is_none")]
    case: Option<i32>,
}

#[derive(Serialize)]
struct FieldBody<'a> {
    field: &'a str,
    message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            AppError::Throttled {
                retry_after_secs, ..
            }
            | AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable(_) => Some(1),
            _ => None,
        };
        let mut resp = self.body_response();
        if let Some(v) =
            retry_after.and_then(|s| axum::http::HeaderValue::from_str(&s.to_string()).ok())
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

impl AppError {
    fn body_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let ctx = current_context();
        let message = self.message();
        let message = message.get(ctx.lang);
        let fields: Vec<FieldBody> = match &self {
            AppError::Invalid { fields, .. } => fields
                .iter()
                .map(|f| FieldBody {
                    field: &f.field,
                    message: f.message.get(ctx.lang),
                })
                .collect(),
            _ => Vec::new(),
        };
        if ctx.wants_html {
            return (
                status,
                Html(crate::web::pages::error_page(
                    ctx.lang,
                    status,
                    message,
                    &fields_text(&fields),
                )),
            )
                .into_response();
        }
        let case = match &self {
            AppError::CaseExists { case, .. } => Some(*case),
            _ => None,
        };
        let body = ErrorBody {
            error: self.code(),
            message,
            fields,
            case,
        };
        (status, axum::Json(body)).into_response()
    }
}

fn fields_text(fields: &[FieldBody]) -> Vec<String> {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_contention_is_a_retryable_503_not_a_500() {
        let locked = sea_orm::DbErr::Custom(
            "error returned from database: (code: 5) database is locked".into(),
        );
        let resp = AppError::from(locked).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            resp.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from_static("1"))
        );
        let other = sea_orm::DbErr::Custom("no such column: x".into());
        assert_eq!(
            AppError::from(other).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
