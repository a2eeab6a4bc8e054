//! Server-rendered pages (askama). Every page shares the `Chrome`: language, switch, sign-in state.

pub mod admin;
pub mod booking;
pub mod calculators;
pub mod case;
pub mod home;
pub mod login;
pub mod mail;
pub mod queue;
pub mod staff;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::context::{LANG_COOKIE, RequestContext, safe_next};
use super::i18n::Tr;
use crate::domain::lang::Lang;
use crate::error::AppError;

pub struct Chrome {
    pub t: Tr,
    pub lang: &'static str,
    pub path: String,
    pub csrf: String,
    pub staff: Option<String>,
    pub is_admin: bool,
    /// Admins edit offices and specialists; supervisors look.
    pub sees_offices: bool,
}

impl Chrome {
    pub fn new(ctx: &RequestContext, staff: Option<&super::auth::Staff>) -> Chrome {
        let t = Tr(ctx.lang);
        Chrome {
            t,
            lang: ctx.lang.code(),
            path: ctx.path.clone(),
            csrf: ctx.csrf.clone(),
            staff: staff.map(|s| s.user.display_name.clone()),
            is_admin: staff.is_some_and(|s| s.user.role.can_administer()),
            sees_offices: staff.is_some_and(|s| s.user.role.can_view_offices()),
        }
    }

    /// The URL of a static asset with its content hash (`asset("style.css")`).
    pub fn asset(&self, name: &str) -> String {
        super::assets::url(name)
    }

    pub fn switch_href(&self, to: &str) -> String {
        let next: String = form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
        format!("/lang/{to}?next={next}")
    }
}

/// Renders a template, turning a rendering failure into an error response rather than a panic.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    let html = t.render().map_err(AppError::internal)?;
    Ok(axum::response::Html(html).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    message: &'a str,
    fields: &'a [String],
}

pub fn error_page(lang: Lang, status: StatusCode, message: &str, fields: &[String]) -> String {
    let ctx = RequestContext {
        lang,
        wants_html: true,
        csrf: String::new(),
        path: "/".into(),
    };
    let page = ErrorPage {
        chrome: Chrome::new(&ctx, None),
        status: status.as_u16(),
        message,
        fields,
    };
    page.render()
        .unwrap_or_else(|_| format!("<!doctype html><title>{status}</title><p>{message}</p>"))
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The language switch: remembers the choice in a cookie for a year and goes back.
pub async fn switch_lang(
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or_else(AppError::not_found)?;
    let next = safe_next(q.next.as_deref());
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, next), (SET_COOKIE, cookie)],
    )
        .into_response())
}
