//! Per-request context: the user's language (switch cookie, then `Accept-Language`, then
//! Ukrainian), whether errors should be an HTML page, and the CSRF cookie for forms.

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{ACCEPT, ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::lang::Lang;
use crate::error::{ERROR_CONTEXT, ErrorContext};

pub const LANG_COOKIE: &str = "cherga_lang";
pub const CSRF_COOKIE: &str = "cherga_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub lang: Lang,
    pub wants_html: bool,
    /// The double-submit CSRF token: the value of the CSRF cookie (set now when missing).
    pub csrf: String,
    /// The path and query, for "come back here" links (language switch, sign-in).
    pub path: String,
}

pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn negotiate_lang(headers: &axum::http::HeaderMap) -> Lang {
    if let Some(l) = cookie_value(headers, LANG_COOKIE).and_then(Lang::parse) {
        return l;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            accept_language::intersection(v, &["uk", "en"])
                .first()
                .and_then(|l| Lang::parse(l))
        })
        .unwrap_or_default()
}

fn wants_html(req: &Request) -> bool {
    if req.uri().path().starts_with("/api/") {
        return false;
    }
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `?lang=en` (or `uk`) in a link: that language now, and remembered as if switched.
fn query_lang(uri: &axum::http::Uri) -> Option<Lang> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

pub async fn middleware(mut req: Request, next: Next) -> Response {
    let from_query = query_lang(req.uri());
    let headers = req.headers();
    let lang = from_query.unwrap_or_else(|| negotiate_lang(headers));
    let existing = cookie_value(headers, CSRF_COOKIE)
        .filter(|t| valid_token(t))
        .map(str::to_string);
    let set_csrf = existing.is_none();
    let csrf = existing.unwrap_or_else(crate::security::random_token);
    let ctx = RequestContext {
        lang,
        wants_html: wants_html(&req),
        csrf: csrf.clone(),
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
    };
    let err_ctx = ErrorContext {
        lang,
        wants_html: ctx.wants_html,
    };
    req.extensions_mut().insert(ctx);
    let mut resp = ERROR_CONTEXT
        .scope(err_ctx, async move {
            let resp = next.run(req).await;
            as_app_error(resp).await
        })
        .await;
    if let Some(l) = from_query {
        // why: a shared English link keeps showing English as the reader goes on.
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    if set_csrf {
        let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext {
                lang: negotiate_lang(&parts.headers),
                wants_html: false,
                csrf: String::new(),
                path: parts.uri.path().to_string(),
            }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        Ok(ctx.lang)
    }
}

/// axum's own extractors (path, query, form) reject with plain text; every error answers in
/// one format, so such a response is rewritten as an `AppError` with the detail kept.
async fn as_app_error(resp: Response) -> Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() && plain) {
        return resp;
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).trim().to_string();
    // why: the detail is serde's or axum's English; only the field it names is kept.
    let err = crate::web::rejection::from_plain(status, &detail);
    let mut out = err.into_response();
    if out.status() != status && status != StatusCode::UNPROCESSABLE_ENTITY {
        *out.status_mut() = status;
    }
    out
}

/// Checks a submitted form token against the CSRF cookie.
pub fn check_csrf(ctx: &RequestContext, submitted: &str) -> Result<(), crate::error::AppError> {
    if !ctx.csrf.is_empty() && crate::security::constant_time_eq(&ctx.csrf, submitted) {
        Ok(())
    } else {
        Err(crate::error::AppError::FormExpired)
    }
}

/// Only same-site relative paths are followed after a language switch or sign-in.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn cookie_beats_accept_language() {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US,en;q=0.9"));
        assert_eq!(negotiate_lang(&h), Lang::En);
        h.insert(COOKIE, HeaderValue::from_static("a=b; cherga_lang=uk"));
        assert_eq!(negotiate_lang(&h), Lang::Uk);
    }

    #[test]
    fn defaults_to_ukrainian() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate_lang(&h), Lang::Uk);
        h.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("de-DE"));
        assert_eq!(negotiate_lang(&h), Lang::Uk);
    }

    #[test]
    fn query_names_the_language() {
        let uri: axum::http::Uri = "/calculators/?example=1&lang=en".parse().unwrap();
        assert_eq!(query_lang(&uri), Some(Lang::En));
        let uri: axum::http::Uri = "/?lang=xx".parse().unwrap();
        assert_eq!(query_lang(&uri), None);
        let uri: axum::http::Uri = "/".parse().unwrap();
        assert_eq!(query_lang(&uri), None);
    }

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/admin")), "/admin");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
