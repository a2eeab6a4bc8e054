//! Admin pages: the services of the catalog (view, edit) and catalog re-import.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::catalog::{self, Channel, validate_change};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::catalog::ServiceEdit;
use crate::web::auth::Admin;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

pub struct ServiceRow {
    pub code: String,
    pub title: String,
    pub duration: String,
    pub planned: u32,
    pub overridden: bool,
    pub channels: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage {
    chrome: Chrome,
    services: Vec<ServiceRow>,
    notice: Option<String>,
}

pub async fn services(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
) -> AppResult<Response> {
    services_page(&state, &ctx, &staff, None).await
}

async fn services_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: &crate::web::auth::Staff,
    notice: Option<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let cfg = &state.config;
    let services = store::catalog::list_services(&state.db, true)
        .await?
        .into_iter()
        .map(|s| ServiceRow {
            planned: s.planned_minutes(cfg.slot_minutes, cfg.open_ended_factor),
            overridden: s.planned_override.is_some(),
            channels: s
                .channels
                .iter()
                .map(|c| t.pick(&c.label()).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            title: t.pick(&s.title).to_string(),
            duration: s.duration.display(ctx.lang),
            code: s.code,
            active: s.active,
        })
        .collect();
    render(&ServicesPage {
        chrome: Chrome::new(ctx, Some(staff)),
        services,
        notice,
    })
}

#[derive(Template)]
#[template(path = "admin/service_edit.html")]
struct EditPage {
    chrome: Chrome,
    code: String,
    category: String,
    duration: String,
    title: String,
    title_en: String,
    planned_override: String,
    planned_default: u32,
    /// (code, label, checked)
    channels: Vec<(&'static str, String, bool)>,
    active: bool,
    notice: Option<String>,
    errors: Vec<String>,
}

async fn edit_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: &crate::web::auth::Staff,
    code: &str,
    notice: Option<String>,
) -> AppResult<EditPage> {
    let t = Tr(ctx.lang);
    let s = store::catalog::find_service(&state.db, code)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(EditPage {
        chrome: Chrome::new(ctx, Some(staff)),
        code: s.code.clone(),
        category: t.pick(&s.category.title).to_string(),
        duration: s.duration.display(ctx.lang),
        planned_override: s
            .planned_override
            .map(|m| m.to_string())
            .unwrap_or_default(),
        planned_default: s
            .duration
            .planned_minutes(state.config.slot_minutes, state.config.open_ended_factor),
        channels: Channel::ALL
            .into_iter()
            .map(|c| (c.code(), t.pick(&c.label()).to_string(), s.has_channel(c)))
            .collect(),
        active: s.active,
        title: s.title.uk,
        title_en: s.title.en,
        notice,
        errors: Vec::new(),
    })
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(code): Path<String>,
) -> AppResult<Response> {
    render(&edit_page(&state, &ctx, &staff, &code, None).await?)
}

pub async fn save(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> AppResult<Response> {
    check_csrf(&ctx, form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let channels: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|c| form.contains_key(&format!("channel_{}", c.code())))
        .collect();
    match validate_change(
        field("title"),
        field("title_en"),
        field("planned_minutes"),
        channels,
        form.contains_key("active"),
    ) {
        Ok(change) => {
            store::catalog::update_service(&state.db, &code, ServiceEdit::from(change))
                .await?
                .ok_or_else(AppError::not_found)?;
            state.caches.catalog.invalidate();
            let notice = Tr(ctx.lang).get("admin.saved");
            render(&edit_page(&state, &ctx, &staff, &code, Some(notice)).await?)
        }
        Err(errors) => {
            let mut page = edit_page(&state, &ctx, &staff, &code, None).await?;
            page.title = field("title").to_string();
            page.title_en = field("title_en").to_string();
            page.planned_override = field("planned_minutes").to_string();
            page.errors = errors
                .iter()
                .map(|e| e.message.get(ctx.lang).to_string())
                .collect();
            let mut resp = render(&page)?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}

/// One changed record in the preview: its code, title and the fields that change.
pub struct ChangeView {
    pub code: String,
    pub title: String,
    /// (field, before, after)
    pub fields: Vec<(String, String, String)>,
}

/// What an import would do, as the preview shows it.
pub struct PlanView {
    pub center: Vec<(String, String, String)>,
    pub categories_added: Vec<ChangeView>,
    pub categories_changed: Vec<ChangeView>,
    pub added: Vec<ChangeView>,
    pub changed: Vec<ChangeView>,
    pub deactivated: Vec<ChangeView>,
    pub empty: bool,
}

fn field_rows(changes: &[catalog::FieldChange]) -> Vec<(String, String, String)> {
    changes
        .iter()
        .map(|c| (c.field.to_string(), c.before.clone(), c.after.clone()))
        .collect()
}

impl From<&catalog::ImportPlan> for PlanView {
    fn from(p: &catalog::ImportPlan) -> Self {
        let line = |code: &str, title: &str| ChangeView {
            code: code.to_string(),
            title: title.to_string(),
            fields: Vec::new(),
        };
        let category = |c: &catalog::CategoryPlan| ChangeView {
            code: c.code.clone(),
            title: c.title.clone(),
            fields: field_rows(&c.changes),
        };
        PlanView {
            center: field_rows(&p.center),
            categories_added: p.categories_added.iter().map(category).collect(),
            categories_changed: p.categories_changed.iter().map(category).collect(),
            added: p.added.iter().map(|s| line(&s.code, &s.title)).collect(),
            changed: p
                .changed
                .iter()
                .map(|s| ChangeView {
                    code: s.code.clone(),
                    title: s.title.clone(),
                    fields: field_rows(&s.changes),
                })
                .collect(),
            deactivated: p
                .deactivated
                .iter()
                .map(|s| line(&s.code, &s.title))
                .collect(),
            empty: p.is_empty(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    chrome: Chrome,
    text: String,
    /// The hash of `text` as previewed; the apply form carries it back.
    hash: String,
    preview: Option<PlanView>,
    error: Option<String>,
}

/// The text an admin confirmed must be the text previewed. Browsers send line breaks of form
/// fields as CRLF, so the hash is taken over LF line breaks.
/// Names one preview: the text and the version of the catalog it was compared with, so a
/// confirmation applies neither another text nor over an edit made after the preview.
fn preview_hash(text: &str, catalog_version: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(catalog_version.as_bytes());
    h.update([0]);
    h.update(text.replace("\r\n", "\n").as_bytes());
    hex::encode(h.finalize())
}

/// The import form, pre-filled with the catalog as it is in the database (not the shipped file),
/// so submitting it unchanged changes nothing.
pub async fn import_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
) -> AppResult<Response> {
    let text = store::catalog::export(&state.db).await?;
    render(&ImportPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        text,
        hash: String::new(),
        preview: None,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    catalog: String,
    /// `apply` confirms a preview; anything else asks for one.
    #[serde(default)]
    step: String,
    #[serde(default)]
    hash: String,
}

/// Two steps: a preview of what the text would change (nothing written), then, on confirmation
/// of exactly that text, the import in one transaction.
pub async fn import(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    axum::Form(form): axum::Form<ImportForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let t = Tr(ctx.lang);
    let version = store::cache::version(&state.db, store::catalog::CACHE_NAME)
        .await?
        .unwrap_or_default();
    let page = |text: String, preview: Option<PlanView>, error: Option<String>| ImportPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        hash: preview_hash(&text, &version),
        text,
        preview,
        error,
    };
    let parsed = match catalog::parse_catalog(&form.catalog) {
        Ok(parsed) => parsed,
        Err(e) => {
            let error = Some(e.text().get(ctx.lang).to_string());
            let mut resp = render(&page(form.catalog, None, error))?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(resp);
        }
    };
    let confirmed = form.step == "apply";
    if !confirmed || form.hash != preview_hash(&form.catalog, &version) {
        let plan = store::catalog::plan(&state.db, &parsed).await?;
        let error = confirmed.then(|| t.get("catalog.stale_preview"));
        let mut resp = render(&page(form.catalog, Some(PlanView::from(&plan)), error))?;
        if confirmed {
            *resp.status_mut() = StatusCode::CONFLICT;
        }
        return Ok(resp);
    }
    let r = store::catalog::import(&state.db, &parsed).await?;
    state.caches.catalog_imported();
    let notice = t
        .get("catalog.import_done")
        .replace("{categories}", &r.categories.to_string())
        .replace("{added}", &r.added.to_string())
        .replace("{updated}", &r.updated.to_string())
        .replace("{deactivated}", &r.deactivated.to_string());
    services_page(&state, &ctx, &staff, Some(notice)).await
}
