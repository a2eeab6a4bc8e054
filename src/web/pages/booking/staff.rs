//! Staff's booking pages: the day's bookings per office, and moving or cancelling one of them
//! (when a specialist falls ill, or a schedule change left bookings outside bookable time).
//! The resident is mailed about the change as when they make it themselves, without the
//! manage link, which only they hold.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::{
    BookingView, CsrfForm, Link, Mover, RescheduleForm, RescheduleQuery, cancel_booking,
    move_booking, reschedule_page, view,
};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::booking::BookingRecord;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

/// The staff list of the booking's office and local day.
pub(super) fn day_url(b: &BookingRecord) -> String {
    format!(
        "/booking/staff?office={}&date={}",
        b.office_id,
        b.starts_at.with_timezone(&b.timezone).date_naive()
    )
}

#[derive(Debug, Deserialize)]
struct StaffQuery {
    office: Option<i32>,
    date: Option<String>,
}

struct StaffRow {
    id: i32,
    b: BookingView,
    resident: String,
}

#[derive(Template)]
#[template(path = "booking/staff.html")]
struct StaffPage {
    chrome: Chrome,
    offices: Vec<Link>,
    date: String,
    rows: Vec<StaffRow>,
}

async fn staff_day(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Query(q): Query<StaffQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let offices = store::booking::list_offices(&state.db).await?;
    let office = q
        .office
        .and_then(|id| offices.iter().find(|o| o.id == id))
        .or(offices.first())
        .ok_or_else(AppError::not_found)?;
    let date = q
        .date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| Utc::now().with_timezone(&office.timezone).date_naive());
    let rows = store::booking::list_office_day(&state.db, office.id, date)
        .await?
        .iter()
        .map(|b| StaffRow {
            id: b.id,
            b: view(t, b),
            resident: [
                Some(b.name.clone()),
                b.phone.clone(),
                b.email.clone(),
                b.account.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        })
        .collect();
    let office_id = office.id;
    render(&StaffPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        offices: offices
            .iter()
            .map(|o| Link {
                href: o.id.to_string(),
                label: t.pick(&o.name).to_string(),
                current: o.id == office_id,
            })
            .collect(),
        date: date.to_string(),
        rows,
    })
}

async fn move_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<RescheduleQuery>,
) -> AppResult<Response> {
    reschedule_page(&state, &ctx, Some(&staff), Mover::Staff(id), q, None).await
}

async fn move_to(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<RescheduleForm>,
) -> AppResult<Response> {
    move_booking(&state, &ctx, Some(&staff), Mover::Staff(id), form).await
}

async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    _staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Response> {
    cancel_booking(&state, &ctx, Mover::Staff(id), &form.csrf).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/booking/staff", get(staff_day))
        .route(
            "/booking/staff/{id}/reschedule",
            get(move_form).post(move_to),
        )
        .route("/booking/staff/{id}/cancel", post(cancel))
}
