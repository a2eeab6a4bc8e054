//! Residents' booking pages (service → office → day → time → details → done), the manage and
//! confirmation pages, and the staff's day list. Plain forms and links: no JavaScript needed.

mod offices;
mod staff;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::booking::OfficeKind;
use crate::domain::booking::request::parse_contact;
use crate::domain::catalog::Channel;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::booking::{BookError, BookingRecord, NewBooking};
use crate::web::api::booking::{client_ip, parse_start};
use crate::web::auth::Staff;
use crate::web::booking_limits::{Limits, limit};
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

struct ServiceView {
    code: String,
    title: String,
    duration: String,
    visit: bool,
    callback: bool,
    online: Option<String>,
}

#[derive(Template)]
#[template(path = "booking/index.html")]
struct IndexPage {
    chrome: Chrome,
    services: Vec<ServiceView>,
}

async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let today = super::home::today();
    let services = store::catalog::list_services(&state.db, false)
        .await?
        .into_iter()
        .map(|s| ServiceView {
            visit: s.has_channel(Channel::Visit),
            callback: s.has_channel(Channel::ContactCenter),
            online: s
                .has_channel(Channel::Website)
                .then(|| online_href(&state, &s.code, today)),
            duration: s.duration.display(ctx.lang),
            title: t.pick(&s.title).to_string(),
            code: s.code,
        })
        .collect();
    render(&IndexPage {
        chrome: Chrome::new(&ctx, staff.as_ref()),
        services,
    })
}

/// Where a service answered on the website is read: its calculator, or the home page with the
/// center's website and tariffs.
fn online_href(state: &AppState, code: &str, today: NaiveDate) -> String {
    // why: where no calculator under the service's own rules exists, the home page (with the
    // center's website) is the answer.
    crate::domain::rules::jurisdiction::online_answer(code, &state.rules, today)
        .and_then(crate::domain::rules::jurisdiction::OnlineAnswer::href)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/#svc-{code}"))
}

/// `05.01 (Пн)` / `05.01 (Mon)`: the weekday in the page's language.
fn day_label(t: Tr, d: NaiveDate) -> String {
    format!(
        "{} ({})",
        d.format("%d.%m"),
        t.get(&format!("weekday.{}", d.weekday().num_days_from_monday()))
    )
}

/// The days with free times of a service at an office (over the booking horizon, at most a
/// month), the one chosen (asked for, else the first), and its free starts.
struct FreeDays {
    t: Tr,
    list: Vec<NaiveDate>,
    chosen: Option<NaiveDate>,
    starts: Vec<chrono::DateTime<chrono_tz::Tz>>,
}

impl FreeDays {
    fn days(&self, href: impl Fn(NaiveDate) -> String) -> Vec<Link> {
        self.list
            .iter()
            .map(|d| Link {
                href: href(*d),
                label: day_label(self.t, *d),
                current: Some(*d) == self.chosen,
            })
            .collect()
    }
}

async fn free_days(
    state: &AppState,
    t: Tr,
    office_id: i32,
    tz: chrono_tz::Tz,
    service_code: &str,
    asked: Option<&str>,
) -> AppResult<FreeDays> {
    let policy = state.config.booking_policy();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let to = today + Duration::days(policy.horizon_days.clamp(0, 31));
    let a =
        store::booking::availability(&state.db, office_id, service_code, today, to, None, &policy)
            .await?;
    let mut list: Vec<NaiveDate> = a
        .slots
        .iter()
        .map(|s| s.start.with_timezone(&tz).date_naive())
        .collect();
    list.dedup();
    let chosen = asked
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| list.contains(d))
        .or_else(|| list.first().copied());
    let starts = a
        .slots
        .iter()
        .map(|s| s.start.with_timezone(&tz))
        .filter(|s| Some(s.date_naive()) == chosen)
        .collect();
    Ok(FreeDays {
        t,
        list,
        chosen,
        starts,
    })
}

#[derive(Debug, Deserialize)]
struct TimesQuery {
    service: String,
    channel: Option<String>,
    office: Option<i32>,
    day: Option<String>,
}

struct Link {
    href: String,
    label: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "booking/times.html")]
struct TimesPage {
    chrome: Chrome,
    service: String,
    offices: Vec<Link>,
    days: Vec<Link>,
    times: Vec<Link>,
    notice: Option<String>,
    /// The service cannot be booked on this channel: why, and where to read it online.
    refused: Option<String>,
    online: Option<String>,
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn times(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<TimesQuery>,
) -> AppResult<Response> {
    times_page(&state, &ctx, staff.as_ref(), q, None).await
}

async fn times_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: Option<&Staff>,
    q: TimesQuery,
    notice: Option<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let service = store::catalog::find_service(&state.db, q.service.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let kind = match q.channel.as_deref() {
        Some("contact_center") => OfficeKind::ContactCenter,
        _ => OfficeKind::Office,
    };
    if !service.active || !service.has_channel(kind.channel()) {
        let online = service
            .has_channel(Channel::Website)
            .then(|| online_href(state, &service.code, super::home::today()));
        let refused = if online.is_some()
            && !service.has_channel(Channel::Visit)
            && !service.has_channel(Channel::ContactCenter)
        {
            t.get("booking.online_only")
        } else {
            t.get("booking.not_bookable")
        };
        return render(&TimesPage {
            chrome: Chrome::new(ctx, staff),
            service: t.pick(&service.title).to_string(),
            offices: Vec::new(),
            days: Vec::new(),
            times: Vec::new(),
            notice: None,
            refused: Some(refused),
            online,
        });
    }
    let retired = store::offices::list_retired_ids(&state.db).await?;
    let offices: Vec<_> = store::booking::list_offices(&state.db)
        .await?
        .into_iter()
        .filter(|o| o.kind == kind && !retired.contains(&o.id))
        .collect();
    let office = q
        .office
        .and_then(|id| offices.iter().find(|o| o.id == id))
        .or_else(|| (offices.len() == 1).then(|| &offices[0]));
    let base = format!(
        "/booking/times?service={}&channel={}",
        enc(&service.code),
        kind.channel().code()
    );
    let office_links = offices
        .iter()
        .map(|o| Link {
            href: format!("{base}&office={}", o.id),
            label: t.pick(&o.name).to_string(),
            current: office.is_some_and(|x| x.id == o.id),
        })
        .collect();
    let (mut days, mut times) = (Vec::new(), Vec::new());
    if let Some(office) = office {
        let free = free_days(
            state,
            t,
            office.id,
            office.timezone,
            &service.code,
            q.day.as_deref(),
        )
        .await?;
        days = free.days(|d| format!("{base}&office={}&day={d}", office.id));
        times = free
            .starts
            .iter()
            .map(|start| Link {
                href: format!(
                    "/booking/details?office={}&service={}&start={}",
                    office.id,
                    enc(&service.code),
                    enc(&start.to_rfc3339())
                ),
                label: start.format("%H:%M").to_string(),
                current: false,
            })
            .collect();
    }
    let mut resp = render(&TimesPage {
        chrome: Chrome::new(ctx, staff),
        service: t.pick(&service.title).to_string(),
        offices: office_links,
        days,
        times,
        notice: notice.clone(),
        refused: None,
        online: None,
    })?;
    if notice.is_some() {
        *resp.status_mut() = StatusCode::CONFLICT;
    }
    Ok(resp)
}

#[derive(Debug, Default, Deserialize)]
struct DetailsForm {
    #[serde(default)]
    csrf: String,
    office: i32,
    service: String,
    start: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    account: String,
}

#[derive(Template)]
#[template(path = "booking/details.html")]
struct DetailsPage {
    chrome: Chrome,
    form: DetailsForm,
    when: String,
    service: String,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DetailsQuery {
    office: i32,
    service: String,
    start: String,
}

async fn details_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: Option<&Staff>,
    form: DetailsForm,
    errors: Vec<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let service = store::catalog::find_service(&state.db, form.service.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let office = store::booking::find_office(&state.db, form.office)
        .await?
        .ok_or_else(AppError::not_found)?;
    let start = parse_start("start", &form.start).map_err(|e| AppError::invalid_fields(vec![e]))?;
    let when = format!(
        "{}, {}",
        start
            .with_timezone(&office.timezone)
            .format("%d.%m.%Y %H:%M"),
        t.pick(&office.name)
    );
    let failed = !errors.is_empty();
    let mut resp = render(&DetailsPage {
        chrome: Chrome::new(ctx, staff),
        form,
        when,
        service: t.pick(&service.title).to_string(),
        errors,
    })?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

async fn details(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<DetailsQuery>,
) -> AppResult<Response> {
    let form = DetailsForm {
        office: q.office,
        service: q.service,
        start: q.start,
        ..Default::default()
    };
    details_page(&state, &ctx, staff.as_ref(), form, Vec::new()).await
}

async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    headers: HeaderMap,
    Form(form): Form<DetailsForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let start = parse_start("start", &form.start).map_err(|e| AppError::invalid_fields(vec![e]))?;
    let contact = match parse_contact(
        &form.name,
        Some(&form.phone),
        Some(&form.email),
        Some(&form.account),
        Some(ctx.lang.code()),
    ) {
        Ok(c) => c,
        Err(errs) => {
            let msgs = errs
                .iter()
                .map(|e| e.message.get(ctx.lang).to_string())
                .collect();
            return details_page(&state, &ctx, staff.as_ref(), form, msgs).await;
        }
    };
    let policy = state.config.booking_policy();
    let new = NewBooking {
        office_id: form.office,
        service_code: form.service.trim().to_string(),
        start,
        specialist_id: None,
        contact,
        client_ip: client_ip(&headers),
    };
    let mail = state.config.booking_mail();
    match store::booking::book_slot(&state.db, &state.writer, &state.caches, new, &policy, &mail)
        .await
    {
        Ok(b) => {
            Ok(Redirect::to(&format!("/booking/manage/{}?done=1", b.manage_token)).into_response())
        }
        Err(BookError::Taken { .. }) => {
            let q = TimesQuery {
                service: form.service.clone(),
                channel: None,
                office: Some(form.office),
                day: None,
            };
            let q = match store::booking::find_office(&state.db, form.office).await? {
                Some(o) => TimesQuery {
                    channel: Some(o.kind.channel().code().to_string()),
                    ..q
                },
                None => q,
            };
            let notice = Tr(ctx.lang).get("booking.time_taken");
            times_page(&state, &ctx, staff.as_ref(), q, Some(notice)).await
        }
        Err(BookError::Refused { message, .. }) => {
            let msg = message.get(ctx.lang).to_string();
            let mut resp = details_page(&state, &ctx, staff.as_ref(), form, vec![msg]).await?;
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(BookError::Other(e)) => Err(e),
    }
}

struct BookingView {
    code: String,
    status: String,
    active: bool,
    pending: bool,
    when: String,
    office: String,
    service: String,
    specialist: String,
}

fn view(t: Tr, b: &BookingRecord) -> BookingView {
    let tz = b.timezone;
    BookingView {
        code: b.code.clone(),
        status: t.pick(&b.status.label()).to_string(),
        active: b.status.is_active(),
        pending: b.status == crate::domain::booking::Status::Pending,
        when: format!(
            "{}–{}",
            b.starts_at.with_timezone(&tz).format("%d.%m.%Y %H:%M"),
            b.ends_at.with_timezone(&tz).format("%H:%M")
        ),
        office: t.pick(&b.office_name).to_string(),
        service: t.pick(&b.service_title).to_string(),
        specialist: format!("{}, {}", b.specialist_name, b.window_label),
    }
}

#[derive(Template)]
#[template(path = "booking/manage.html")]
struct ManagePage {
    chrome: Chrome,
    b: BookingView,
    token: String,
    /// Said once, after booking or moving.
    notice: Option<String>,
    /// The resident gave an email: the code form is shown while pending.
    has_email: bool,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ManageQuery {
    done: Option<String>,
    moved: Option<String>,
}

async fn manage(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
    Query(q): Query<ManageQuery>,
) -> AppResult<Response> {
    manage_page(&state, &ctx, staff.as_ref(), token, q, Vec::new()).await
}

async fn manage_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: Option<&Staff>,
    token: String,
    q: ManageQuery,
    errors: Vec<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let b = store::booking::find_by_token(&state.db, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let pending = b.status == crate::domain::booking::Status::Pending;
    let notice = if q.moved.is_some() {
        Some(t.get("booking.moved"))
    } else if q.done.is_some() && pending {
        Some(t.get("booking.done_pending").replace(
            "{minutes}",
            &state.config.booking.booking_hold_minutes.to_string(),
        ))
    } else if q.done.is_some() {
        Some(t.get("booking.done_confirmed"))
    } else {
        None
    };
    let failed = !errors.is_empty();
    let mut resp = render(&ManagePage {
        chrome: Chrome::new(ctx, staff),
        b: view(t, &b),
        token,
        notice,
        has_email: b.email.is_some(),
        errors,
    })?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// The six digits from the confirmation mail, typed on the manage page.
async fn confirm_code(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let mail = state.config.booking_mail();
    match store::booking::confirm_by_code(&state.db, &token, &form.code, &mail).await {
        Ok(_) => Ok(Redirect::to(&format!("/booking/manage/{token}")).into_response()),
        Err(AppError::Invalid { fields, message }) => {
            let mut errors: Vec<String> = fields
                .iter()
                .map(|f| f.message.get(ctx.lang).to_string())
                .collect();
            if errors.is_empty() {
                errors.push(message.get(ctx.lang).to_string());
            }
            manage_page(
                &state,
                &ctx,
                staff.as_ref(),
                token,
                ManageQuery::default(),
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "booking/reschedule.html")]
struct ReschedulePage {
    chrome: Chrome,
    b: BookingView,
    /// The path the page and its form live under (the manage link, or staff's).
    base: String,
    /// Where "back" goes.
    back: String,
    days: Vec<Link>,
    /// (RFC 3339 start, `HH:MM`) of the chosen day.
    times: Vec<(String, String)>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RescheduleQuery {
    day: Option<String>,
}

/// Who moves or cancels a booking from the pages: the resident under their manage link, or
/// staff from the day's list.
enum Mover {
    Resident(String),
    Staff(i32),
}

impl Mover {
    fn base(&self) -> String {
        match self {
            Mover::Resident(token) => format!("/booking/manage/{token}"),
            Mover::Staff(id) => format!("/booking/staff/{id}"),
        }
    }

    fn actor(&self) -> store::booking::Actor<'_> {
        match self {
            Mover::Resident(token) => store::booking::Actor::Resident(token),
            Mover::Staff(id) => store::booking::Actor::Staff(*id),
        }
    }

    async fn find(&self, state: &AppState) -> AppResult<BookingRecord> {
        store::booking::find_record(&state.db, self.actor())
            .await?
            .ok_or_else(AppError::not_found)
    }

    /// Where the mover goes once the booking is as they want it.
    fn done(&self, b: &BookingRecord, moved: bool) -> String {
        match self {
            Mover::Resident(token) if moved => format!("/booking/manage/{token}?moved=1"),
            Mover::Resident(token) => format!("/booking/manage/{token}"),
            Mover::Staff(_) => staff::day_url(b),
        }
    }
}

async fn reschedule_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
    Query(q): Query<RescheduleQuery>,
) -> AppResult<Response> {
    reschedule_page(
        &state,
        &ctx,
        staff.as_ref(),
        Mover::Resident(token),
        q,
        None,
    )
    .await
}

/// The free times of the booking's service at its office, to move it to one of them.
async fn reschedule_page(
    state: &AppState,
    ctx: &RequestContext,
    staff: Option<&Staff>,
    mover: Mover,
    q: RescheduleQuery,
    notice: Option<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let b = mover.find(state).await?;
    if !b.status.is_active() {
        return Ok(Redirect::to(&mover.done(&b, false)).into_response());
    }
    let base = mover.base();
    let free = free_days(
        state,
        t,
        b.office_id,
        b.timezone,
        &b.service_code,
        q.day.as_deref(),
    )
    .await?;
    let days = free.days(|d| format!("{base}/reschedule?day={d}"));
    let times = free
        .starts
        .iter()
        .map(|start| (start.to_rfc3339(), start.format("%H:%M").to_string()))
        .collect();
    let conflict = notice.is_some();
    let mut resp = render(&ReschedulePage {
        chrome: Chrome::new(ctx, staff),
        b: view(t, &b),
        back: mover.done(&b, false),
        base,
        days,
        times,
        notice,
    })?;
    if conflict {
        *resp.status_mut() = StatusCode::CONFLICT;
    }
    Ok(resp)
}

#[derive(Debug, Deserialize)]
struct RescheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    start: String,
}

async fn reschedule(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
    Form(form): Form<RescheduleForm>,
) -> AppResult<Response> {
    move_booking(&state, &ctx, staff.as_ref(), Mover::Resident(token), form).await
}

/// Moves the booking to the chosen start; a time taken meanwhile shows the free times again
/// with a notice (409).
async fn move_booking(
    state: &AppState,
    ctx: &RequestContext,
    staff: Option<&Staff>,
    mover: Mover,
    form: RescheduleForm,
) -> AppResult<Response> {
    check_csrf(ctx, &form.csrf)?;
    let start = parse_start("start", &form.start).map_err(|e| AppError::invalid_fields(vec![e]))?;
    let policy = state.config.booking_policy();
    let mail = state.config.booking_mail();
    match store::booking::reschedule(&state.db, mover.actor(), start, &policy, &mail).await {
        Ok(b) => Ok(Redirect::to(&mover.done(&b, true)).into_response()),
        Err(BookError::Taken { .. }) => {
            let notice = Tr(ctx.lang).get("booking.time_taken");
            let q = RescheduleQuery::default();
            reschedule_page(state, ctx, staff, mover, q, Some(notice)).await
        }
        Err(BookError::Refused { message, .. }) => Err(AppError::Conflict(message)),
        Err(BookError::Other(e)) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Response> {
    cancel_booking(&state, &ctx, Mover::Resident(token), &form.csrf).await
}

async fn cancel_booking(
    state: &AppState,
    ctx: &RequestContext,
    mover: Mover,
    csrf: &str,
) -> AppResult<Response> {
    check_csrf(ctx, csrf)?;
    let policy = state.config.booking_policy();
    let mail = state.config.booking_mail();
    let b = store::booking::cancel(&state.db, mover.actor(), &policy, &mail).await?;
    Ok(Redirect::to(&mover.done(&b, false)).into_response())
}

#[derive(Template)]
#[template(path = "booking/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    token: String,
    done: Option<BookingView>,
}

/// why: a GET only shows a button; mail scanners that open links must not confirm bookings.
async fn confirm_form(
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    render(&ConfirmPage {
        chrome: Chrome::new(&ctx, staff.as_ref()),
        token,
        done: None,
    })
}

async fn confirm(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let b = store::booking::confirm(&state.db, &token, &state.config.booking_mail()).await?;
    render(&ConfirmPage {
        chrome: Chrome::new(&ctx, staff.as_ref()),
        token,
        done: Some(view(Tr(ctx.lang), &b)),
    })
}

/// The booking pages. `limits` are the API's: the same per-address budget covers both.
pub fn routes(limits: &Limits) -> Router<AppState> {
    let availability = from_fn_with_state(limits.availability.clone(), limit);
    let booking = || from_fn_with_state(limits.booking.clone(), limit);
    Router::new()
        .route("/booking/", get(index))
        .route(
            "/booking",
            get(|| async { Redirect::permanent("/booking/") }),
        )
        .route("/booking/times", get(times).layer(availability.clone()))
        .route(
            "/booking/details",
            get(details).merge(post(submit).layer(booking())),
        )
        .route("/booking/manage/{token}", get(manage))
        .route(
            "/booking/manage/{token}/reschedule",
            get(reschedule_form)
                .layer(availability)
                .merge(post(reschedule).layer(booking())),
        )
        .route(
            "/booking/manage/{token}/confirm",
            post(confirm_code).layer(booking()),
        )
        .route("/booking/manage/{token}/cancel", post(cancel))
        .route("/booking/confirm/{token}", get(confirm_form).post(confirm))
        .merge(staff::routes())
        .merge(offices::routes())
}
