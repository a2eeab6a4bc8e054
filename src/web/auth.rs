//! Who is asking: staff sessions from the session cookie (pages) or a bearer token (API).

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::context::{CSRF_HEADER, RequestContext, cookie_value};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::staff::{Session, SessionKind, StaffUser};

pub const SESSION_COOKIE: &str = "cherga_session";

/// Any signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: StaffUser,
    pub session: Session,
}

/// A signed-in administrator.
#[derive(Debug, Clone)]
pub struct Admin(pub Staff);

/// Browsers are sent to the sign-in page; API clients get 401/403 with a JSON body.
pub enum AuthRejection {
    SignIn { next: String },
    Error(AppError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::SignIn { next } => {
                let next: String = url_encode(&next);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            AuthRejection::Error(e) => e.into_response(),
        }
    }
}

impl From<AppError> for AuthRejection {
    fn from(e: AppError) -> Self {
        AuthRejection::Error(e)
    }
}

fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The session token of a request: an API client's bearer token, else the browser's cookie.
pub fn session_token(parts: &Parts) -> Option<&str> {
    bearer_token(parts).or_else(|| cookie_value(&parts.headers, SESSION_COOKIE))
}

/// The signed-in staff member of a request, if its token names a live session.
async fn load_staff(parts: &Parts, state: &AppState) -> Result<Option<Staff>, sea_orm::DbErr> {
    let Some(token) = session_token(parts) else {
        return Ok(None);
    };
    let session = crate::store::staff::find_session(&state.db, token).await?;
    Ok(session.map(|session| Staff {
        user: session.user.clone(),
        session,
    }))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = RequestContext::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let Some(staff) = load_staff(parts, state).await.map_err(AppError::from)? else {
            return Err(if ctx.wants_html {
                AuthRejection::SignIn { next: ctx.path }
            } else {
                AuthRejection::Error(AppError::Unauthorized)
            });
        };
        // A cookie rides along on cross-site requests; an API call that changes something
        // with it must also echo the CSRF cookie in a header, which another site cannot read.
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if staff.session.kind == SessionKind::Cookie
            && unsafe_method
            // The context keeps the full path: inside the nested API router it is stripped.
            && ctx.path.starts_with("/api/")
        {
            let header = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            super::context::check_csrf(&ctx, header)?;
        }
        Ok(staff)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if !staff.user.role.can_administer() {
            return Err(AuthRejection::Error(AppError::Forbidden));
        }
        Ok(Admin(staff))
    }
}

pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

impl axum::extract::OptionalFromRequestParts<AppState> for Staff {
    type Rejection = std::convert::Infallible;

    /// Pages that anyone may see still show who is signed in; a bad or missing session is
    /// simply "nobody".
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(load_staff(parts, state).await.ok().flatten())
    }
}

/// The client's address, when the server was started with connection info (`app::serve`);
/// in-process tests may add a `ConnectInfo` extension to a request. Proxy headers are not
/// trusted: behind a proxy every client would share its address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
