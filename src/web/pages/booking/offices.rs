//! `/admin/offices`: offices (hours, time zone, grid, closed days) and their specialists
//! (skills, weekly schedule with breaks and walk-in periods, exceptions). Admins edit;
//! supervisors may look. A rejected form comes back with its values and the messages (422).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::booking::OfficeKind;
use crate::domain::booking::edit::{
    DayInput, ExceptionInput, OfficeInput, SpecialistInput, format_windows, validate_closure,
    validate_exception, validate_office, validate_specialist, validate_week,
};
use crate::domain::booking::impact::{format_ids, parse_ids};
use crate::domain::booking::schedule::{ExceptionKind, format_hhmm};
use crate::domain::lang::{Lang, Text};
use crate::domain::staff::Role;
use crate::domain::validation::FieldError;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::offices::{
    AffectedBookingRecord, OfficeAdminRecord, Outcome, SpecialistAdminRecord,
};
use crate::web::auth::{Admin, Staff};
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/offices", get(list).post(create_office))
        .route("/admin/offices/new", get(new_office))
        .route("/admin/offices/{office}", get(office).post(save_office))
        .route("/admin/offices/{office}/active", post(set_office_active))
        .route("/admin/offices/{office}/closures", post(add_closure))
        .route(
            "/admin/offices/{office}/closures/{closure}/delete",
            post(remove_closure),
        )
        .route(
            "/admin/offices/{office}/specialists",
            post(create_specialist),
        )
        .route(
            "/admin/offices/{office}/specialists/new",
            get(new_specialist),
        )
        .route(
            "/admin/offices/{office}/specialists/{id}",
            get(specialist).post(save_specialist),
        )
        .route(
            "/admin/offices/{office}/specialists/{id}/week",
            post(save_week),
        )
        .route(
            "/admin/offices/{office}/specialists/{id}/active",
            post(set_specialist_active),
        )
        .route(
            "/admin/offices/{office}/specialists/{id}/exceptions",
            post(add_exception),
        )
        .route(
            "/admin/offices/{office}/specialists/{id}/exceptions/{exception}/delete",
            post(remove_exception),
        )
}

type Form = axum::Form<HashMap<String, String>>;

/// Admins edit; supervisors may look; anyone else is refused.
fn can_edit(staff: &Staff) -> Result<bool, AppError> {
    match staff.user.role {
        Role::Admin => Ok(true),
        Role::Supervisor => Ok(false),
        _ => Err(AppError::Forbidden),
    }
}

fn field<'a>(form: &'a HashMap<String, String>, k: &str) -> &'a str {
    form.get(k).map(String::as_str).unwrap_or("")
}

fn invalid(fields: Vec<FieldError>) -> AppError {
    AppError::Invalid {
        message: Text::new("Перевірте введені дані.", "Check the input."),
        fields,
    }
}

fn messages(fields: &[FieldError], lang: Lang) -> Vec<String> {
    fields
        .iter()
        .map(|f| f.message.get(lang).to_string())
        .collect()
}

/// The messages of a refused write (422 or 409); other errors pass on.
fn refusal(e: AppError, lang: Lang) -> Result<(StatusCode, Vec<String>), AppError> {
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

fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}

fn saved(to: &str) -> Response {
    Redirect::to(&format!("{to}?saved=1")).into_response()
}

/// After a change that left `kept` live bookings as they were: the notice says so.
fn saved_keeping(to: &str, kept: usize) -> Response {
    if kept == 0 {
        return saved(to);
    }
    Redirect::to(&format!("{to}?saved=1&kept={kept}")).into_response()
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
    kept: Option<usize>,
}

impl SavedQuery {
    fn notice(&self, t: Tr) -> Option<String> {
        self.saved.as_ref().map(|_| match self.kept {
            Some(n) if n > 0 => format!(
                "{} {}",
                t.get("admin.saved"),
                t.get("booking.admin.kept").replace("{n}", &n.to_string())
            ),
            _ => t.get("admin.saved"),
        })
    }
}

/// The bookings ids a confirmation carries.
fn seen(form: &HashMap<String, String>) -> BTreeSet<i32> {
    parse_ids(field(form, "ack"))
}

/// One booking in a warning, in the office's local time.
struct AffectedView {
    /// The staff's page of that day's bookings, where they are moved or cancelled.
    day_href: String,
    day: String,
    time: String,
    name: String,
    code: String,
    specialist: String,
    status: String,
}

/// Live bookings a change would leave behind, shown above the form it concerns, whose
/// "save anyway" sends their ids back.
struct Warning {
    /// Which form: `office`, `closure`, `office_active`, `details`, `week`, `exception`,
    /// `specialist_active`.
    form: &'static str,
    intro: String,
    ack: String,
    rows: Vec<AffectedView>,
}

fn warning(t: Tr, form: &'static str, intro_key: &str, list: &[AffectedBookingRecord]) -> Warning {
    let ids: Vec<i32> = list.iter().map(|b| b.id).collect();
    Warning {
        form,
        intro: t.get(intro_key),
        ack: format_ids(&ids),
        rows: list
            .iter()
            .map(|b| {
                let s = b.starts_at.with_timezone(&b.timezone);
                let e = b.ends_at.with_timezone(&b.timezone);
                AffectedView {
                    day_href: format!(
                        "/booking/staff?office={}&date={}",
                        b.office_id,
                        s.format("%Y-%m-%d")
                    ),
                    day: s.format("%Y-%m-%d").to_string(),
                    time: format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                    name: b.name.clone(),
                    code: b.code.clone(),
                    specialist: b.specialist_name.clone(),
                    status: t.pick(&b.status.label()).to_string(),
                }
            })
            .collect(),
    }
}

// ---- the list ------------------------------------------------------------------------------

struct OfficeRow {
    id: i32,
    code: String,
    name: String,
    kind: String,
    timezone: String,
    slot_minutes: i32,
    active: bool,
}

#[derive(Template)]
#[template(path = "booking/offices/list.html")]
struct ListPage {
    chrome: Chrome,
    can_edit: bool,
    offices: Vec<OfficeRow>,
}

fn kind_label(t: Tr, kind: OfficeKind) -> String {
    t.get(&format!("booking.admin.kind_{}", kind.code()))
}

async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
) -> AppResult<Response> {
    let can_edit = can_edit(&staff)?;
    let t = Tr(ctx.lang);
    let offices = store::offices::list_all(&state.db)
        .await?
        .into_iter()
        .map(|o| OfficeRow {
            id: o.id,
            name: t.pick(&o.name).to_string(),
            kind: kind_label(t, o.kind),
            timezone: o.timezone,
            slot_minutes: o.slot_minutes,
            active: o.active,
            code: o.code,
        })
        .collect();
    render(&ListPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        can_edit,
        offices,
    })
}

// ---- an office -----------------------------------------------------------------------------

/// An office's form values as strings, as stored or as sent back.
struct OfficeForm {
    code: String,
    name: String,
    name_en: String,
    address: String,
    address_en: String,
    kind: String,
    timezone: String,
    slot_minutes: String,
    /// (weekday, opens, closes)
    hours: Vec<(usize, String, String)>,
}

impl OfficeForm {
    fn blank(slot_minutes: u32) -> OfficeForm {
        OfficeForm {
            code: String::new(),
            name: String::new(),
            name_en: String::new(),
            address: String::new(),
            address_en: String::new(),
            kind: OfficeKind::Office.code().into(),
            timezone: "Europe/Kyiv".into(),
            slot_minutes: slot_minutes.to_string(),
            hours: (0..7).map(|d| (d, String::new(), String::new())).collect(),
        }
    }

    fn of(o: &OfficeAdminRecord) -> OfficeForm {
        OfficeForm {
            code: o.code.clone(),
            name: o.name.uk.clone(),
            name_en: o.name.en.clone(),
            address: o.address.uk.clone(),
            address_en: o.address.en.clone(),
            kind: o.kind.code().into(),
            timezone: o.timezone.clone(),
            slot_minutes: o.slot_minutes.to_string(),
            hours: o
                .hours
                .iter()
                .enumerate()
                .map(|(d, w)| match w {
                    Some(w) => (d, format_hhmm(w.start), format_hhmm(w.end)),
                    None => (d, String::new(), String::new()),
                })
                .collect(),
        }
    }

    fn sent(form: &HashMap<String, String>) -> OfficeForm {
        let f = |k: &str| field(form, k).to_string();
        OfficeForm {
            code: f("code"),
            name: f("name"),
            name_en: f("name_en"),
            address: f("address"),
            address_en: f("address_en"),
            kind: f("kind"),
            timezone: f("timezone"),
            slot_minutes: f("slot_minutes"),
            hours: (0..7)
                .map(|d| (d, f(&format!("opens_{d}")), f(&format!("closes_{d}"))))
                .collect(),
        }
    }
}

fn office_input(form: &HashMap<String, String>) -> OfficeInput<'_> {
    let mut hours = [("", ""); 7];
    for (d, h) in hours.iter_mut().enumerate() {
        *h = (
            field(form, &format!("opens_{d}")),
            field(form, &format!("closes_{d}")),
        );
    }
    OfficeInput {
        code: field(form, "code"),
        name: field(form, "name"),
        name_en: field(form, "name_en"),
        address: field(form, "address"),
        address_en: field(form, "address_en"),
        kind: field(form, "kind"),
        timezone: field(form, "timezone"),
        slot_minutes: field(form, "slot_minutes"),
        hours,
    }
}

struct ClosureView {
    id: i32,
    day: String,
    reason: String,
}

struct SpecialistRow {
    id: i32,
    name: String,
    window_label: String,
    skills: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "booking/offices/office.html")]
struct OfficePage {
    chrome: Chrome,
    can_edit: bool,
    /// `None` for a new office.
    id: Option<i32>,
    active: bool,
    form: OfficeForm,
    /// (code, label)
    kinds: Vec<(&'static str, String)>,
    closures: Vec<ClosureView>,
    specialists: Vec<SpecialistRow>,
    /// The closed-day form as sent back: (day, reason, reason_en).
    closure: (String, String, String),
    notice: Option<String>,
    errors: Vec<String>,
    closure_errors: Vec<String>,
    active_errors: Vec<String>,
    warning: Option<Warning>,
}

impl OfficePage {
    fn warned(&self, form: &str) -> bool {
        self.warning.as_ref().is_some_and(|w| w.form == form)
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/admin/offices/{id}"),
            None => "/admin/offices".into(),
        }
    }
}

fn office_page(
    ctx: &RequestContext,
    staff: &Staff,
    can_edit: bool,
    form: OfficeForm,
) -> OfficePage {
    let t = Tr(ctx.lang);
    OfficePage {
        chrome: Chrome::new(ctx, Some(staff)),
        can_edit,
        id: None,
        active: true,
        form,
        kinds: [OfficeKind::Office, OfficeKind::ContactCenter]
            .into_iter()
            .map(|k| (k.code(), kind_label(t, k)))
            .collect(),
        closures: Vec::new(),
        specialists: Vec::new(),
        closure: Default::default(),
        notice: None,
        errors: Vec::new(),
        closure_errors: Vec::new(),
        active_errors: Vec::new(),
        warning: None,
    }
}

/// The page of a stored office, with its closed days and specialists.
async fn stored_office_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: &Staff,
    can_edit: bool,
    id: i32,
) -> AppResult<OfficePage> {
    let t = Tr(ctx.lang);
    let o = store::offices::find_office(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut page = office_page(ctx, staff, can_edit, OfficeForm::of(&o));
    page.id = Some(o.id);
    page.active = o.active;
    page.closures = o
        .closures
        .iter()
        .map(|c| ClosureView {
            id: c.id,
            day: c.day.to_string(),
            reason: t.pick(&c.reason).to_string(),
        })
        .collect();
    page.specialists = store::offices::list_specialists(&state.db, id)
        .await?
        .into_iter()
        .map(|s| SpecialistRow {
            id: s.id,
            skills: s.skills.join(", "),
            name: s.name,
            window_label: s.window_label,
            active: s.active,
        })
        .collect();
    Ok(page)
}

async fn new_office(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
) -> AppResult<Response> {
    let form = OfficeForm::blank(state.config.slot_minutes);
    render(&office_page(&ctx, &staff, true, form))
}

async fn create_office(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match validate_office(&office_input(&form)) {
        Ok(change) => store::offices::create_office(&state.db, &change).await,
        Err(fields) => Err(invalid(fields)),
    };
    match result {
        Ok(id) => {
            state.caches.offices.invalidate();
            Ok(saved(&format!("/admin/offices/{id}")))
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = office_page(&ctx, &staff, true, OfficeForm::sent(&form));
            page.errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}

async fn office(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let can_edit = can_edit(&staff)?;
    let mut page = stored_office_page(&state, &ctx, &staff, can_edit, id).await?;
    page.notice = q.notice(Tr(ctx.lang));
    render(&page)
}

async fn save_office(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match validate_office(&office_input(&form)) {
        Ok(change) => store::offices::update_office(&state.db, id, &change, &seen(&form)).await,
        Err(fields) => Err(invalid(fields)),
    };
    match result {
        Ok(Outcome::Saved { kept }) => {
            state.caches.offices.invalidate();
            Ok(saved_keeping(&format!("/admin/offices/{id}"), kept))
        }
        Ok(Outcome::Confirm(list)) => {
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.form = OfficeForm::sent(&form);
            page.warning = Some(warning(
                Tr(ctx.lang),
                "office",
                "booking.admin.warn_hours",
                &list,
            ));
            Ok(with_status(render(&page)?, StatusCode::CONFLICT))
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.form = OfficeForm::sent(&form);
            page.errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}

async fn add_closure(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let (day, reason, reason_en) = (
        field(&form, "day"),
        field(&form, "reason"),
        field(&form, "reason_en"),
    );
    let result = match validate_closure(day, reason, reason_en) {
        Ok(c) => store::offices::add_closure(&state.db, id, &c, &seen(&form)).await,
        Err(fields) => Err(invalid(fields)),
    };
    match result {
        Ok(Outcome::Saved { kept }) => {
            state.caches.offices.invalidate();
            Ok(saved_keeping(&format!("/admin/offices/{id}"), kept))
        }
        Ok(Outcome::Confirm(list)) => {
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.closure = (day.into(), reason.into(), reason_en.into());
            page.warning = Some(warning(
                Tr(ctx.lang),
                "closure",
                "booking.admin.warn_closure",
                &list,
            ));
            Ok(with_status(render(&page)?, StatusCode::CONFLICT))
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.closure = (day.into(), reason.into(), reason_en.into());
            page.closure_errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}

async fn remove_closure(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(_staff): Admin,
    Path((id, closure)): Path<(i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    store::offices::remove_closure(&state.db, id, closure).await?;
    state.caches.offices.invalidate();
    Ok(saved(&format!("/admin/offices/{id}")))
}

/// Retires an office (`active=0`) or brings it back (`active=1`).
async fn set_office_active(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let active = field(&form, "active") == "1";
    match store::offices::set_office_active(&state.db, id, active, &seen(&form)).await {
        Ok(Outcome::Saved { kept }) => {
            state.caches.offices.invalidate();
            Ok(saved_keeping(&format!("/admin/offices/{id}"), kept))
        }
        Ok(Outcome::Confirm(list)) => {
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.warning = Some(warning(
                Tr(ctx.lang),
                "office_active",
                "booking.admin.warn_retire_office",
                &list,
            ));
            Ok(with_status(render(&page)?, StatusCode::CONFLICT))
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = stored_office_page(&state, &ctx, &staff, true, id).await?;
            page.active_errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}

// ---- a specialist --------------------------------------------------------------------------

struct DayView {
    weekday: usize,
    starts: String,
    ends: String,
    breaks: String,
    walk_in: String,
}

struct ExceptionView {
    id: i32,
    day: String,
    kind: String,
    hours: String,
}

#[derive(Template)]
#[template(path = "booking/offices/specialist.html")]
struct SpecialistPage {
    chrome: Chrome,
    can_edit: bool,
    office_id: i32,
    office_name: String,
    /// `None` for a new specialist.
    id: Option<i32>,
    name: String,
    window_label: String,
    active: bool,
    /// (code, title, ticked)
    skills: Vec<(String, String, bool)>,
    week: Vec<DayView>,
    exceptions: Vec<ExceptionView>,
    /// (code, label)
    exception_kinds: Vec<(&'static str, String)>,
    /// The exception form as sent back: from, to, kind, starts, ends.
    exception: [String; 5],
    notice: Option<String>,
    errors: Vec<String>,
    week_errors: Vec<String>,
    exception_errors: Vec<String>,
    active_errors: Vec<String>,
    warning: Option<Warning>,
}

impl SpecialistPage {
    fn warned(&self, form: &str) -> bool {
        self.warning.as_ref().is_some_and(|w| w.form == form)
    }

    fn base(&self) -> String {
        match self.id {
            Some(id) => format!("/admin/offices/{}/specialists/{id}", self.office_id),
            None => format!("/admin/offices/{}/specialists", self.office_id),
        }
    }
}

fn week_views(s: &SpecialistAdminRecord) -> Vec<DayView> {
    s.week
        .iter()
        .enumerate()
        .map(|(d, w)| DayView {
            weekday: d,
            starts: w.work.map(|w| format_hhmm(w.start)).unwrap_or_default(),
            ends: w.work.map(|w| format_hhmm(w.end)).unwrap_or_default(),
            breaks: format_windows(&w.breaks),
            walk_in: format_windows(&w.walk_in),
        })
        .collect()
}

async fn specialist_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: &Staff,
    can_edit: bool,
    office_id: i32,
    id: Option<i32>,
) -> AppResult<SpecialistPage> {
    let t = Tr(ctx.lang);
    let office = store::booking::find_office(&state.db, office_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let today = Utc::now().with_timezone(&office.timezone).date_naive();
    let s = match id {
        Some(id) => Some(
            store::offices::find_specialist(&state.db, office_id, id, today - Duration::days(7))
                .await?
                .ok_or_else(AppError::not_found)?,
        ),
        None => None,
    };
    let channel = office.kind.channel();
    let has = |code: &str| {
        s.as_ref()
            .is_some_and(|s| s.skills.iter().any(|c| c == code))
    };
    let skills = store::catalog::list_services(&state.db, false)
        .await?
        .into_iter()
        // A skill already given stays listed, so saving the form keeps it.
        .filter(|svc| svc.has_channel(channel) || has(&svc.code))
        .map(|svc| {
            let ticked = has(&svc.code);
            (svc.code, t.pick(&svc.title).to_string(), ticked)
        })
        .collect();
    let exceptions = s
        .as_ref()
        .map(|s| {
            s.exceptions
                .iter()
                .map(|e| ExceptionView {
                    id: e.id,
                    day: e.day.to_string(),
                    kind: t.get(&format!("booking.admin.exception_{}", e.kind.code())),
                    hours: e
                        .window
                        .map(|w| format!("{}–{}", format_hhmm(w.start), format_hhmm(w.end)))
                        .unwrap_or_else(|| t.get("booking.admin.whole_day")),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SpecialistPage {
        chrome: Chrome::new(ctx, Some(staff)),
        can_edit,
        office_id,
        office_name: t.pick(&office.name).to_string(),
        id,
        name: s.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        window_label: s
            .as_ref()
            .map(|s| s.window_label.clone())
            .unwrap_or_default(),
        active: s.as_ref().is_none_or(|s| s.active),
        skills,
        week: s.as_ref().map(week_views).unwrap_or_else(|| {
            (0..7)
                .map(|d| DayView {
                    weekday: d,
                    starts: String::new(),
                    ends: String::new(),
                    breaks: String::new(),
                    walk_in: String::new(),
                })
                .collect()
        }),
        exceptions,
        exception_kinds: ExceptionKind::ALL
            .into_iter()
            .map(|k| {
                (
                    k.code(),
                    t.get(&format!("booking.admin.exception_{}", k.code())),
                )
            })
            .collect(),
        exception: [
            today.to_string(),
            String::new(),
            ExceptionKind::Leave.code().into(),
            String::new(),
            String::new(),
        ],
        notice: None,
        errors: Vec::new(),
        week_errors: Vec::new(),
        exception_errors: Vec::new(),
        active_errors: Vec::new(),
        warning: None,
    })
}

fn specialist_input(form: &HashMap<String, String>) -> SpecialistInput<'_> {
    SpecialistInput {
        name: field(form, "name"),
        window_label: field(form, "window_label"),
        active: form.contains_key("active"),
        skills: form
            .keys()
            .filter_map(|k| k.strip_prefix("skill_"))
            .map(str::to_string)
            .collect(),
    }
}

/// Puts a sent details form back on the page.
fn keep_details(page: &mut SpecialistPage, form: &HashMap<String, String>) {
    page.name = field(form, "name").into();
    page.window_label = field(form, "window_label").into();
    page.active = form.contains_key("active");
    for (code, _, ticked) in &mut page.skills {
        *ticked = form.contains_key(&format!("skill_{code}"));
    }
}

async fn new_specialist(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(office_id): Path<i32>,
) -> AppResult<Response> {
    render(&specialist_page(&state, &ctx, &staff, true, office_id, None).await?)
}

async fn create_specialist(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path(office_id): Path<i32>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match validate_specialist(&specialist_input(&form)) {
        Ok(c) => store::offices::create_specialist(&state.db, office_id, &c).await,
        Err(fields) => Err(invalid(fields)),
    };
    match result {
        Ok(id) => Ok(saved(&format!(
            "/admin/offices/{office_id}/specialists/{id}"
        ))),
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = specialist_page(&state, &ctx, &staff, true, office_id, None).await?;
            keep_details(&mut page, &form);
            page.errors = errors;
            Ok(with_status(render(&page)?, status))
        }
    }
}

async fn specialist(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path((office_id, id)): Path<(i32, i32)>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let can_edit = can_edit(&staff)?;
    let mut page = specialist_page(&state, &ctx, &staff, can_edit, office_id, Some(id)).await?;
    page.notice = q.notice(Tr(ctx.lang));
    render(&page)
}

async fn save_specialist(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path((office_id, id)): Path<(i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let result = match validate_specialist(&specialist_input(&form)) {
        Ok(c) => {
            store::offices::update_specialist(&state.db, office_id, id, &c, &seen(&form)).await
        }
        Err(fields) => Err(invalid(fields)),
    };
    let back = format!("/admin/offices/{office_id}/specialists/{id}");
    let mut page = match result {
        Ok(Outcome::Saved { kept }) => return Ok(saved_keeping(&back, kept)),
        Ok(Outcome::Confirm(list)) => {
            let mut page = specialist_page(&state, &ctx, &staff, true, office_id, Some(id)).await?;
            page.warning = Some(warning(
                Tr(ctx.lang),
                "details",
                "booking.admin.warn_skills",
                &list,
            ));
            page
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            let mut page = specialist_page(&state, &ctx, &staff, true, office_id, Some(id)).await?;
            keep_details(&mut page, &form);
            page.errors = errors;
            return Ok(with_status(render(&page)?, status));
        }
    };
    keep_details(&mut page, &form);
    Ok(with_status(render(&page)?, StatusCode::CONFLICT))
}

async fn save_week(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path((office_id, id)): Path<(i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let mut days = [DayInput::default(); 7];
    for (d, day) in days.iter_mut().enumerate() {
        *day = DayInput {
            starts: field(&form, &format!("starts_{d}")),
            ends: field(&form, &format!("ends_{d}")),
            breaks: field(&form, &format!("breaks_{d}")),
            walk_in: field(&form, &format!("walk_in_{d}")),
        };
    }
    let result = match validate_week(&days) {
        Ok(week) => store::offices::save_week(&state.db, office_id, id, &week, &seen(&form)).await,
        Err(fields) => Err(invalid(fields)),
    };
    let back = format!("/admin/offices/{office_id}/specialists/{id}");
    let (status, errors, warned) = match result {
        Ok(Outcome::Saved { kept }) => return Ok(saved_keeping(&back, kept)),
        Ok(Outcome::Confirm(list)) => (
            StatusCode::CONFLICT,
            Vec::new(),
            Some(warning(
                Tr(ctx.lang),
                "week",
                "booking.admin.warn_week",
                &list,
            )),
        ),
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            (status, errors, None)
        }
    };
    let mut page = specialist_page(&state, &ctx, &staff, true, office_id, Some(id)).await?;
    page.warning = warned;
    page.week = days
        .iter()
        .enumerate()
        .map(|(d, i)| DayView {
            weekday: d,
            starts: i.starts.into(),
            ends: i.ends.into(),
            breaks: i.breaks.into(),
            walk_in: i.walk_in.into(),
        })
        .collect();
    page.week_errors = errors;
    Ok(with_status(render(&page)?, status))
}

async fn add_exception(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path((office_id, id)): Path<(i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let input = ExceptionInput {
        from: field(&form, "from"),
        to: field(&form, "to"),
        kind: field(&form, "kind"),
        starts: field(&form, "starts"),
        ends: field(&form, "ends"),
    };
    let result = match validate_exception(&input) {
        Ok(c) => store::offices::add_exception(&state.db, office_id, id, &c, &seen(&form)).await,
        Err(fields) => Err(invalid(fields)),
    };
    let back = format!("/admin/offices/{office_id}/specialists/{id}");
    let (status, errors, warned) = match result {
        Ok(Outcome::Saved { kept }) => return Ok(saved_keeping(&back, kept)),
        Ok(Outcome::Confirm(list)) => (
            StatusCode::CONFLICT,
            Vec::new(),
            Some(warning(
                Tr(ctx.lang),
                "exception",
                "booking.admin.warn_exception",
                &list,
            )),
        ),
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            (status, errors, None)
        }
    };
    let mut page = specialist_page(&state, &ctx, &staff, true, office_id, Some(id)).await?;
    page.warning = warned;
    page.exception = [
        input.from.into(),
        input.to.into(),
        input.kind.into(),
        input.starts.into(),
        input.ends.into(),
    ];
    page.exception_errors = errors;
    Ok(with_status(render(&page)?, status))
}

async fn remove_exception(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(_staff): Admin,
    Path((office_id, id, exception)): Path<(i32, i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    store::offices::remove_exception(&state.db, office_id, id, exception).await?;
    Ok(saved(&format!(
        "/admin/offices/{office_id}/specialists/{id}"
    )))
}

/// Retires a specialist (`active=0`) or brings them back (`active=1`).
async fn set_specialist_active(
    State(state): State<AppState>,
    ctx: RequestContext,
    Admin(staff): Admin,
    Path((office_id, id)): Path<(i32, i32)>,
    axum::Form(form): Form,
) -> AppResult<Response> {
    check_csrf(&ctx, field(&form, "csrf"))?;
    let active = field(&form, "active") == "1";
    let result =
        store::offices::set_specialist_active(&state.db, office_id, id, active, &seen(&form)).await;
    let back = format!("/admin/offices/{office_id}/specialists/{id}");
    let mut page = specialist_page(&state, &ctx, &staff, true, office_id, Some(id)).await?;
    let status = match result {
        Ok(Outcome::Saved { kept }) => return Ok(saved_keeping(&back, kept)),
        Ok(Outcome::Confirm(list)) => {
            page.warning = Some(warning(
                Tr(ctx.lang),
                "specialist_active",
                "booking.admin.warn_retire_specialist",
                &list,
            ));
            StatusCode::CONFLICT
        }
        Err(e) => {
            let (status, errors) = refusal(e, ctx.lang)?;
            page.active_errors = errors;
            status
        }
    };
    Ok(with_status(render(&page)?, status))
}
