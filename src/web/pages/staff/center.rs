//! `/admin/center`: the center's name, address, phone, email, website and hours.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::with_status;
use crate::app::AppState;
use crate::domain::staff::center::{ContactsInput, validate_contacts};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::{Admin, Staff};
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

#[derive(Template)]
#[template(path = "staff/center.html")]
struct CenterPage {
    chrome: Chrome,
    /// (field name, label key, value, max length, required, multi-line)
    fields: Vec<(&'static str, &'static str, String, usize, bool, bool)>,
    notice: Option<String>,
    errors: Vec<String>,
}

fn page(ctx: &RequestContext, staff: &Staff, i: &ContactsInput) -> CenterPage {
    use crate::domain::staff::center as c;
    let f = |name, label, value: &str, max, required, multi| {
        (
            name,
            label,
            value.chars().take(max).collect(),
            max,
            required,
            multi,
        )
    };
    CenterPage {
        chrome: Chrome::new(ctx, Some(staff)),
        fields: vec![
            f(
                "name_uk",
                "staff.center.name_uk",
                i.name_uk,
                c::NAME_MAX,
                true,
                false,
            ),
            f(
                "name_en",
                "staff.center.name_en",
                i.name_en,
                c::NAME_MAX,
                true,
                false,
            ),
            f(
                "address_uk",
                "staff.center.address_uk",
                i.address_uk,
                c::ADDRESS_MAX,
                true,
                true,
            ),
            f(
                "address_en",
                "staff.center.address_en",
                i.address_en,
                c::ADDRESS_MAX,
                true,
                true,
            ),
            f(
                "phone",
                "staff.center.phone",
                i.phone,
                c::PHONE_MAX,
                true,
                false,
            ),
            f(
                "email",
                "staff.center.email",
                i.email,
                c::EMAIL_MAX,
                true,
                false,
            ),
            f(
                "website",
                "staff.center.website",
                i.website,
                c::WEBSITE_MAX,
                false,
                false,
            ),
            f(
                "hours_uk",
                "staff.center.hours_uk",
                i.hours_uk,
                c::HOURS_MAX,
                false,
                true,
            ),
            f(
                "hours_en",
                "staff.center.hours_en",
                i.hours_en,
                c::HOURS_MAX,
                false,
                true,
            ),
        ],
        notice: None,
        errors: Vec::new(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
) -> AppResult<Response> {
    let c = store::center::cached(&state.caches, &state.db).await?;
    render(&page(
        &ctx,
        &staff,
        &ContactsInput {
            name_uk: &c.name.uk,
            name_en: &c.name.en,
            address_uk: &c.address.uk,
            address_en: &c.address.en,
            phone: &c.phone,
            email: &c.email,
            website: &c.website,
            hours_uk: &c.hours.uk,
            hours_en: &c.hours.en,
        },
    ))
}

pub async fn save(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    check_csrf(&ctx, field("csrf"))?;
    let input = ContactsInput {
        name_uk: field("name_uk"),
        name_en: field("name_en"),
        address_uk: field("address_uk"),
        address_en: field("address_en"),
        phone: field("phone"),
        email: field("email"),
        website: field("website"),
        hours_uk: field("hours_uk"),
        hours_en: field("hours_en"),
    };
    match validate_contacts(&input) {
        Ok(contacts) => {
            store::center::save(&state.caches, &state.db, &contacts).await?;
            let mut p = page(&ctx, &staff, &input);
            p.notice = Some(Tr(ctx.lang).get("staff.saved"));
            render(&p)
        }
        Err(errors) => {
            let mut p = page(&ctx, &staff, &input);
            let t = Tr(ctx.lang);
            p.errors = errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        t.get(&format!("staff.center.{}", e.field)),
                        e.message.get(ctx.lang)
                    )
                })
                .collect();
            Ok(with_status(render(&p)?, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}
