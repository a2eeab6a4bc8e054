//! `/account/password`: every signed-in staff member changes their own password.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;

use super::{form_errors, with_status};
use crate::app::AppState;
use crate::domain::staff::account::{PASSWORD_MAX, check_new_password};
use crate::domain::validation::FieldError;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::{Staff, session_token};
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

#[derive(Template)]
#[template(path = "staff/password.html")]
struct PasswordPage {
    chrome: Chrome,
    username: String,
    notice: Option<String>,
    errors: Vec<String>,
}

pub async fn form(ctx: RequestContext, staff: Staff) -> AppResult<Response> {
    render(&PasswordPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        username: staff.user.username.clone(),
        notice: None,
        errors: Vec::new(),
    })
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    parts: Parts,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    check_csrf(&ctx, field("csrf"))?;
    let token = session_token(&parts).ok_or(AppError::Unauthorized)?;
    let mut result = check_new_password("new_password", field("new_password"))
        .map_err(|e| AppError::invalid_fields(vec![e]));
    if result.is_ok() && field("new_password") != field("confirm_password") {
        result = Err(AppError::invalid_fields(vec![FieldError::bilingual(
            "confirm_password",
            "Новий пароль і його повтор не збігаються.",
            "The new password and its repetition differ.",
        )]));
    }
    if result.is_ok() && field("current_password").chars().count() > PASSWORD_MAX {
        result = Err(AppError::invalid_fields(vec![FieldError::bilingual(
            "current_password",
            "Поточний пароль невірний.",
            "The current password is wrong.",
        )]));
    }
    let result = match result {
        Ok(new) => {
            store::staff::change_own_password(
                &state.db,
                &state.hashing,
                staff.user.id,
                token,
                field("current_password"),
                &new,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let mut page = PasswordPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        username: staff.user.username.clone(),
        notice: None,
        errors: Vec::new(),
    };
    match result {
        Ok(()) => {
            page.notice = Some(Tr(ctx.lang).get("staff.password_changed"));
            render(&page)
        }
        Err(e) => {
            let (status, errors) = form_errors(e, ctx.lang)?;
            page.errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}
