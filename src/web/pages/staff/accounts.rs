//! `/admin/staff`: the list of accounts with a form to add one; one account's page with its
//! name, role, active state, specialist link and a password reset.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{form_errors, messages, with_status};
use crate::app::AppState;
use crate::domain::staff::Role;
use crate::domain::staff::account::{
    AccountChange, check_new_password, parse_display_name, parse_role, validate_new_account,
};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::staff::{SpecialistLinkRecord, StaffAccountRecord};
use crate::web::auth::{Admin, Staff};
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

type Form = axum::Form<HashMap<String, String>>;

fn field<'a>(form: &'a HashMap<String, String>, k: &str) -> &'a str {
    form.get(k).map(String::as_str).unwrap_or("")
}

/// The role's name in the user's language.
pub fn role_label(t: Tr, role: Role) -> String {
    t.get(&format!("staff.role.{}", role.code()))
}

pub struct AccountRow {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub specialist: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/list.html")]
struct ListPage {
    chrome: Chrome,
    accounts: Vec<AccountRow>,
    /// (code, label)
    roles: Vec<(&'static str, String)>,
    notice: Option<String>,
    errors: Vec<String>,
    username: String,
    display_name: String,
    role: String,
}

async fn list_page(state: &AppState, ctx: &RequestContext, staff: &Staff) -> AppResult<ListPage> {
    let t = Tr(ctx.lang);
    let accounts = store::staff::list_accounts(&state.db)
        .await?
        .into_iter()
        .map(|a| AccountRow {
            id: a.id,
            role: role_label(t, a.role),
            specialist: a.specialist.map(|s| s.name),
            username: a.username,
            display_name: a.display_name,
            active: a.active,
        })
        .collect();
    Ok(ListPage {
        chrome: Chrome::new(ctx, Some(staff)),
        accounts,
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.code(), role_label(t, r)))
            .collect(),
        notice: None,
        errors: Vec::new(),
        username: String::new(),
        display_name: String::new(),
        role: Role::Specialist.code().to_string(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
) -> AppResult<Response> {
    render(&list_page(&state, &ctx, &staff).await?)
}

pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match validate_new_account(
        field(&form, "username"),
        field(&form, "display_name"),
        field(&form, "role"),
        field(&form, "password"),
    ) {
        Ok(new) => store::staff::create_account(&state.db, &state.hashing, new).await,
        Err(errors) => Err(AppError::invalid_fields(errors)),
    };
    let mut page = list_page(&state, &ctx, &staff).await?;
    match result {
        Ok(a) => {
            page.notice = Some(format!(
                "{}: {}",
                Tr(ctx.lang).get("staff.created"),
                a.username
            ));
            render(&page)
        }
        Err(e) => {
            let (status, errors) = form_errors(e, ctx.lang)?;
            page.errors = errors;
            page.username = field(&form, "username").chars().take(64).collect();
            page.display_name = field(&form, "display_name").chars().take(100).collect();
            page.role = field(&form, "role").chars().take(16).collect();
            Ok(with_status(render(&page)?, status))
        }
    }
}

#[derive(Template)]
#[template(path = "staff/edit.html")]
struct EditPage {
    chrome: Chrome,
    account: StaffAccountRecord,
    display_name: String,
    roles: Vec<(&'static str, String)>,
    role: &'static str,
    /// (id, label, linked to another account)
    specialists: Vec<(i32, String, bool)>,
    linked: Option<i32>,
    notice: Option<String>,
    errors: Vec<String>,
}

async fn edit_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: &Staff,
    id: i32,
) -> AppResult<EditPage> {
    let t = Tr(ctx.lang);
    let account = store::staff::find_account(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let specialists = store::staff::list_specialists(&state.db)
        .await?
        .into_iter()
        .map(|s: SpecialistLinkRecord| {
            (
                s.id,
                format!("{} ({})", s.name, s.window_label),
                s.user_id.is_some_and(|u| u != id),
            )
        })
        .collect();
    Ok(EditPage {
        chrome: Chrome::new(ctx, Some(staff)),
        display_name: account.display_name.clone(),
        role: account.role.code(),
        linked: account.specialist.as_ref().map(|s| s.id),
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.code(), role_label(t, r)))
            .collect(),
        specialists,
        account,
        notice: None,
        errors: Vec::new(),
    })
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    render(&edit_page(&state, &ctx, &staff, id).await?)
}

pub async fn save(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let parsed = match (
        parse_display_name(field(&form, "display_name")),
        parse_role(field(&form, "role")),
    ) {
        (Ok(display_name), Ok(role)) => {
            let specialist_id = match field(&form, "specialist_id").trim() {
                "" => None,
                s => s.parse::<i32>().ok(),
            };
            Ok(AccountChange {
                display_name: Some(display_name),
                role: Some(role),
                active: Some(form.contains_key("active")),
                specialist_id: Some(specialist_id),
            })
        }
        (d, r) => Err(AppError::invalid_fields(
            [d.err(), r.err()].into_iter().flatten().collect(),
        )),
    };
    let result = match parsed {
        Ok(change) => store::staff::update_account(&state.db, id, change).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let mut page = edit_page(&state, &ctx, &staff, id).await?;
            page.notice = Some(Tr(ctx.lang).get("staff.saved"));
            render(&page)
        }
        Err(e) => {
            let (status, errors) = form_errors(e, ctx.lang)?;
            let mut page = edit_page(&state, &ctx, &staff, id).await?;
            page.errors = errors;
            page.display_name = field(&form, "display_name").chars().take(100).collect();
            Ok(with_status(render(&page)?, status))
        }
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match check_new_password("password", field(&form, "password")) {
        Ok(p) => {
            store::staff::reset_password(&state.db, &state.hashing, &state.login_locks, id, &p)
                .await
        }
        Err(e) => Err(AppError::invalid_fields(vec![e])),
    };
    let mut page = edit_page(&state, &ctx, &staff, id).await?;
    match result {
        Ok(()) => {
            page.notice = Some(Tr(ctx.lang).get("staff.password_reset"));
            render(&page)
        }
        Err(AppError::Invalid { fields, .. }) => {
            page.errors = messages(&fields, ctx.lang);
            Ok(with_status(
                render(&page)?,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(other) => Err(other),
    }
}
