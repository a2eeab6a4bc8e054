//! Online booking API: offices, specialists, availability, bookings (create, confirm, view,
//! cancel, reschedule) and the staff's day list.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ApiJson;
use crate::app::AppState;
use crate::domain::booking::request::parse_contact;
use crate::domain::lang::{Lang, Text};
use crate::domain::validation::FieldError;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::booking::{
    AvailabilityRecord, BookError, BookingOfficeRecord, BookingRecord, NewBooking,
};
use crate::web::auth::Staff;
use crate::web::booking_limits::{Limits, limit};
use axum::middleware::from_fn_with_state;

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficeDto {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub address: String,
    pub address_en: String,
    /// IANA time zone, e.g. `Europe/Kyiv`.
    pub timezone: String,
    /// `office` (visits) or `contact_center` (call-backs).
    pub kind: String,
    /// Slot grid in minutes, counted from the opening time.
    pub slot_minutes: u16,
}

impl From<BookingOfficeRecord> for OfficeDto {
    fn from(o: BookingOfficeRecord) -> Self {
        OfficeDto {
            id: o.id,
            code: o.code,
            name: o.name.uk,
            name_en: o.name.en,
            address: o.address.uk,
            address_en: o.address.en,
            timezone: o.timezone.name().to_string(),
            kind: o.kind.code().to_string(),
            slot_minutes: o.slot_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialistDto {
    pub id: i32,
    pub name: String,
    /// The specialist's default desk or window.
    pub desk: String,
    /// Codes of the services they handle.
    pub services: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotDto {
    /// RFC 3339 with the office's offset.
    pub start: String,
    pub end: String,
    /// Specialists free for the whole length from `start`.
    pub specialists: Vec<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityDto {
    pub service: String,
    pub timezone: String,
    /// Planned length of the service in minutes.
    pub length_minutes: u32,
    pub slots: Vec<SlotDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AvailabilityQuery {
    /// Service code.
    pub service: String,
    /// First local day, YYYY-MM-DD.
    pub from: String,
    /// Last local day, YYYY-MM-DD (at most 31 days after `from`).
    pub to: String,
    /// One specialist's id; without it, any specialist.
    pub specialist: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub office: i32,
    pub service: String,
    /// A free start from the availability, RFC 3339.
    pub start: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Personal account number.
    pub account: Option<String>,
    /// `uk` (default) or `en`: the language of messages about the booking.
    pub lang: Option<String>,
    /// A specialist's id; without it, any free specialist (fewest bookings that day, then
    /// lowest id).
    pub specialist: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingDto {
    pub id: i32,
    /// Short code for check-in at the kiosk.
    pub code: String,
    /// `pending` (awaiting email confirmation), `confirmed`, `cancelled`, `expired`,
    /// `no_show`, `done`.
    pub status: String,
    pub start: String,
    pub end: String,
    pub specialist: i32,
    pub specialist_name: String,
    pub desk: String,
    pub office: i32,
    pub service: String,
    pub channel: String,
    /// Until when a pending booking holds its time.
    pub hold_expires_at: Option<String>,
    /// The private token of the manage link; only in the answer that creates the booking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<String>,
}

/// A staff view of a booking, with the resident's contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffBookingDto {
    #[serde(flatten)]
    pub booking: BookingDto,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub account: Option<String>,
    pub lang: String,
}

/// 409 when the time was taken: the next free starts to offer instead.
#[derive(Debug, Serialize, ToSchema)]
pub struct TakenDto {
    /// `slot_taken`
    pub error: String,
    pub message: String,
    pub next: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The token from the confirmation email.
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCodeRequest {
    /// The six digits from the confirmation email.
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// The new start, RFC 3339.
    pub start: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DayQuery {
    /// Local day, YYYY-MM-DD.
    pub date: String,
}

fn rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

pub fn booking_dto(b: &BookingRecord, manage_token: Option<String>) -> BookingDto {
    BookingDto {
        id: b.id,
        code: b.code.clone(),
        status: b.status.code().to_string(),
        start: rfc3339(b.starts_at, b.timezone),
        end: rfc3339(b.ends_at, b.timezone),
        specialist: b.specialist_id,
        specialist_name: b.specialist_name.clone(),
        desk: b.window_label.clone(),
        office: b.office_id,
        service: b.service_code.clone(),
        channel: b.channel.clone(),
        hold_expires_at: b.hold_expires_at.map(|t| rfc3339(t, b.timezone)),
        manage_token,
    }
}

fn availability_dto(a: AvailabilityRecord) -> AvailabilityDto {
    let tz = a.office.timezone;
    AvailabilityDto {
        service: a.service.code,
        timezone: tz.name().to_string(),
        length_minutes: a.length_minutes,
        slots: a
            .slots
            .into_iter()
            .map(|s| SlotDto {
                start: rfc3339(s.start, tz),
                end: rfc3339(s.end, tz),
                specialists: s.specialists,
            })
            .collect(),
    }
}

pub fn parse_day(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        FieldError::bilingual(field, "Дата у форматі РРРР-ММ-ДД.", "A date as YYYY-MM-DD.")
    })
}

/// An RFC 3339 instant on a whole minute.
pub fn parse_start(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    let t = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| {
            FieldError::bilingual(
                field,
                "Час у форматі RFC 3339, наприклад 2026-12-01T09:00:00+02:00.",
                "A time in RFC 3339, e.g. 2026-12-01T09:00:00+02:00.",
            )
        })?
        .with_timezone(&Utc);
    if t.second() != 0 || t.nanosecond() != 0 {
        return Err(FieldError::bilingual(
            field,
            "Час має бути цілою хвилиною.",
            "The time must be a whole minute.",
        ));
    }
    Ok(t)
}

/// The response to a refused booking: 409 with the next free starts, or the rule's code.
pub fn book_error_response(e: BookError, lang: Lang, tz: Tz) -> Response {
    match e {
        BookError::Taken { next } => {
            let message = Text::new(
                "Цей час щойно зайняли. Оберіть інший: найближчі вільні нижче.",
                "This time was just taken. Choose another: the nearest free times are below.",
            );
            (
                StatusCode::CONFLICT,
                Json(TakenDto {
                    error: "slot_taken".into(),
                    message: message.get(lang).to_string(),
                    next: next.into_iter().map(|t| rfc3339(t, tz)).collect(),
                }),
            )
                .into_response()
        }
        BookError::Refused { code, message } => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"error": code, "message": message.get(lang)})),
        )
            .into_response(),
        BookError::Other(e) => e.into_response(),
    }
}

/// Offices where residents can book: district centers and the contact center.
#[utoipa::path(get, path = "/api/v1/offices", tag = "booking",
    responses((status = 200, body = [OfficeDto])))]
pub async fn offices(State(state): State<AppState>) -> AppResult<Json<Vec<OfficeDto>>> {
    let list = store::booking::list_offices(&state.db).await?;
    let retired = store::offices::list_retired_ids(&state.db).await?;
    Ok(Json(
        list.into_iter()
            .filter(|o| !retired.contains(&o.id))
            .map(OfficeDto::from)
            .collect(),
    ))
}

async fn office_or_404(state: &AppState, id: i32) -> AppResult<BookingOfficeRecord> {
    store::booking::find_office(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(Text::new("Центр не знайдено.", "No such office.")))
}

/// The active specialists of an office.
#[utoipa::path(get, path = "/api/v1/offices/{id}/specialists", tag = "booking",
    params(("id" = i32, Path)),
    responses((status = 200, body = [SpecialistDto]), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn specialists(
    State(state): State<AppState>,
    Path(id): Path<i32>,
) -> AppResult<Json<Vec<SpecialistDto>>> {
    office_or_404(&state, id).await?;
    let list = store::booking::list_specialists(&state.db, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SpecialistDto {
                id: s.id,
                name: s.name,
                desk: s.window_label,
                services: s.services,
            })
            .collect(),
    ))
}

/// Free start times for a service over local days, for one specialist or any.
#[utoipa::path(get, path = "/api/v1/offices/{id}/availability", tag = "booking",
    params(("id" = i32, Path), AvailabilityQuery),
    responses((status = 200, body = AvailabilityDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 422, body = crate::web::api::openapi::ErrorDto), (status = 429, body = crate::web::api::openapi::ErrorDto)))]
pub async fn availability(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    Query(q): Query<AvailabilityQuery>,
) -> AppResult<Json<AvailabilityDto>> {
    let (from, to) = parse_range(&q.from, &q.to)?;
    let policy = state.config.booking_policy();
    let a = store::booking::availability(
        &state.db,
        id,
        q.service.trim(),
        from,
        to,
        q.specialist,
        &policy,
    )
    .await?;
    Ok(Json(availability_dto(a)))
}

pub fn parse_range(from: &str, to: &str) -> AppResult<(NaiveDate, NaiveDate)> {
    let mut errors = Vec::new();
    let f = parse_day("from", from).map_err(|e| errors.push(e)).ok();
    let t = parse_day("to", to).map_err(|e| errors.push(e)).ok();
    if let (Some(f), Some(t)) = (f, t) {
        if t < f {
            errors.push(FieldError::bilingual(
                "to",
                "Кінець періоду раніше за початок.",
                "The end of the range is before its start.",
            ));
        } else if (t - f).num_days() > 31 {
            errors.push(FieldError::bilingual(
                "to",
                "Не більше 31 дня за один запит.",
                "At most 31 days per request.",
            ));
        } else {
            return Ok((f, t));
        }
    }
    Err(AppError::invalid_fields(errors))
}

/// Books a time. `pending` until the resident confirms by email (when they gave one and
/// confirmation is on), else `confirmed`.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "booking",
    request_body = BookingRequest,
    responses((status = 201, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = TakenDto, description = "The time is taken (`slot_taken`, with `next`) or a fair-access rule refused it (`too_many_bookings`, `already_booked`, `no_show_block`)"),
        (status = 422, body = crate::web::api::openapi::ErrorDto), (status = 429, body = crate::web::api::openapi::ErrorDto)))]
pub async fn create(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ApiJson(req): ApiJson<BookingRequest>,
) -> Response {
    let mut errors = Vec::new();
    let start = parse_start("start", &req.start)
        .map_err(|e| errors.push(e))
        .ok();
    let contact = parse_contact(
        &req.name,
        req.phone.as_deref(),
        req.email.as_deref(),
        req.account.as_deref(),
        req.lang.as_deref(),
    )
    .map_err(|e| errors.extend(e))
    .ok();
    let (Some(start), Some(contact)) = (start, contact) else {
        return AppError::invalid_fields(errors).into_response();
    };
    let policy = state.config.booking_policy();
    let new = NewBooking {
        office_id: req.office,
        service_code: req.service.trim().to_string(),
        start,
        specialist_id: req.specialist,
        contact,
        client_ip: client_ip(&headers),
    };
    match store::booking::book_slot(
        &state.db,
        &state.writer,
        &state.caches,
        new,
        &policy,
        &state.config.booking_mail(),
    )
    .await
    {
        Ok(b) => (
            StatusCode::CREATED,
            Json(booking_dto(&b.booking, Some(b.manage_token))),
        )
            .into_response(),
        Err(e) => {
            // The office's zone only for the next free times of a lost race; the booking itself
            // answered 404 if there is no such office.
            let tz = match store::booking::find_office(&state.db, req.office).await {
                Ok(Some(o)) => o.timezone,
                _ => chrono_tz::Europe::Kyiv,
            };
            book_error_response(e, lang, tz)
        }
    }
}

/// The address the rate limiter saw, kept on the booking for abuse review.
pub fn client_ip(headers: &HeaderMap) -> Option<String> {
    headers
        .get(super::super::booking_limits::CLIENT_IP_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Confirms a pending booking with the token from its email.
#[utoipa::path(post, path = "/api/v1/bookings/confirm", tag = "booking",
    request_body = ConfirmRequest,
    responses((status = 200, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = crate::web::api::openapi::ErrorDto)))]
pub async fn confirm(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> AppResult<Json<BookingDto>> {
    let b = store::booking::confirm(&state.db, &req.token, &state.config.booking_mail()).await?;
    Ok(Json(booking_dto(&b, None)))
}

/// Confirms a pending booking with the six-digit code from its email and the manage token.
/// After five wrong codes only the link (token) confirms.
#[utoipa::path(post, path = "/api/v1/bookings/{manage_token}/confirm", tag = "booking",
    params(("manage_token" = String, Path)),
    request_body = ConfirmCodeRequest,
    responses((status = 200, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn confirm_code(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<ConfirmCodeRequest>,
) -> AppResult<Json<BookingDto>> {
    let b =
        store::booking::confirm_by_code(&state.db, &token, &req.code, &state.config.booking_mail())
            .await?;
    Ok(Json(booking_dto(&b, None)))
}

/// A booking by the token of its manage link.
#[utoipa::path(get, path = "/api/v1/bookings/{manage_token}", tag = "booking",
    params(("manage_token" = String, Path)),
    responses((status = 200, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Json<BookingDto>> {
    let b = store::booking::find_by_token(&state.db, &token)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Text::new(
                "Запис не знайдено: перевірте посилання.",
                "Booking not found: check the link.",
            ))
        })?;
    Ok(Json(booking_dto(&b, None)))
}

/// Cancels a booking by the token of its manage link.
#[utoipa::path(delete, path = "/api/v1/bookings/{manage_token}", tag = "booking",
    params(("manage_token" = String, Path)),
    responses((status = 200, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = crate::web::api::openapi::ErrorDto)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Json<BookingDto>> {
    let policy = state.config.booking_policy();
    let b = store::booking::cancel(
        &state.db,
        store::booking::Actor::Resident(&token),
        &policy,
        &state.config.booking_mail(),
    )
    .await?;
    Ok(Json(booking_dto(&b, None)))
}

/// Moves a booking to another free start.
#[utoipa::path(post, path = "/api/v1/bookings/{manage_token}/reschedule", tag = "booking",
    params(("manage_token" = String, Path)),
    request_body = RescheduleRequest,
    responses((status = 200, body = BookingDto), (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = TakenDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn reschedule(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<RescheduleRequest>,
) -> Response {
    let start = match parse_start("start", &req.start) {
        Ok(s) => s,
        Err(e) => return AppError::invalid_fields(vec![e]).into_response(),
    };
    let policy = state.config.booking_policy();
    // The next free times are shown with the booking office's offset.
    let tz = match store::booking::find_by_token(&state.db, &token).await {
        Ok(Some(b)) => b.timezone,
        _ => chrono_tz::Europe::Kyiv,
    };
    let mail = state.config.booking_mail();
    match store::booking::reschedule(
        &state.db,
        store::booking::Actor::Resident(&token),
        start,
        &policy,
        &mail,
    )
    .await
    {
        Ok(b) => Json(booking_dto(&b, None)).into_response(),
        Err(e) => book_error_response(e, lang, tz),
    }
}

fn staff_dto(b: &BookingRecord) -> StaffBookingDto {
    StaffBookingDto {
        booking: booking_dto(b, None),
        name: b.name.clone(),
        phone: b.phone.clone(),
        email: b.email.clone(),
        account: b.account.clone(),
        lang: b.lang.code().to_string(),
    }
}

/// The bookings of an office on a local day (staff).
#[utoipa::path(get, path = "/api/v1/offices/{id}/bookings", tag = "booking",
    params(("id" = i32, Path), DayQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [StaffBookingDto]), (status = 401, body = crate::web::api::openapi::ErrorDto),
        (status = 404, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn office_day(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<DayQuery>,
) -> AppResult<Json<Vec<StaffBookingDto>>> {
    let day = parse_day("date", &q.date).map_err(|e| AppError::invalid_fields(vec![e]))?;
    let list = store::booking::list_office_day(&state.db, id, day).await?;
    Ok(Json(list.iter().map(staff_dto).collect()))
}

/// Marks a confirmed booking as a no-show (staff). Repeated no-shows block online booking.
#[utoipa::path(post, path = "/api/v1/offices/{id}/bookings/{booking}/no-show", tag = "booking",
    params(("id" = i32, Path), ("booking" = i32, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = StaffBookingDto), (status = 401, body = crate::web::api::openapi::ErrorDto),
        (status = 404, body = crate::web::api::openapi::ErrorDto), (status = 409, body = crate::web::api::openapi::ErrorDto)))]
pub async fn no_show(
    State(state): State<AppState>,
    _staff: Staff,
    Path((id, booking)): Path<(i32, i32)>,
) -> AppResult<Json<StaffBookingDto>> {
    let b = store::booking::mark_no_show(&state.db, id, booking).await?;
    Ok(Json(staff_dto(&b)))
}

/// The API's booking routes; `limits` are shared with the booking pages, so a client has one
/// budget whichever it uses.
pub fn routes(limits: &Limits) -> Router<AppState> {
    Router::new()
        .route("/offices", get(offices))
        .route("/offices/{id}/specialists", get(specialists))
        .route(
            "/offices/{id}/availability",
            get(availability).layer(from_fn_with_state(limits.availability.clone(), limit)),
        )
        .route("/offices/{id}/bookings", get(office_day))
        .route("/offices/{id}/bookings/{booking}/no-show", post(no_show))
        .route(
            "/bookings",
            post(create).layer(from_fn_with_state(limits.booking.clone(), limit)),
        )
        .route("/bookings/confirm", post(confirm))
        .route(
            "/bookings/{token}/confirm",
            post(confirm_code).layer(from_fn_with_state(limits.booking.clone(), limit)),
        )
        .route("/bookings/{token}", get(show).delete(cancel))
        .route(
            "/bookings/{token}/reschedule",
            post(reschedule).layer(from_fn_with_state(limits.booking.clone(), limit)),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(offices, specialists, availability, create, confirm, confirm_code, show, cancel, reschedule, office_day, no_show),
    components(schemas(OfficeDto, SpecialistDto, SlotDto, AvailabilityDto, BookingRequest, BookingDto,
        StaffBookingDto, TakenDto, ConfirmRequest, ConfirmCodeRequest, RescheduleRequest)),
    tags((name = "booking", description = "Online booking: offices, availability, bookings. Times are RFC 3339 with the office's offset."))
)]
pub struct BookingApi;
