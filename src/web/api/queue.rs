//! The live queue's API: desks of an office, kiosk tickets, a resident's ticket, call-next and
//! the desk actions. A wrong state answers 409 with a message, never 500.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::ApiJson;
use crate::app::AppState;
use crate::domain::lang::Lang;
use crate::domain::lang::Text;
use crate::domain::queue::checkin::CheckInWindow;
use crate::domain::queue::{Action, CallPolicy};
use crate::error::{AppError, AppResult, FieldError};
use crate::store;
use crate::store::queue::{
    ActionInput, Called, CheckInError, DeskRecord, TicketPlace, TicketRecord,
};
use crate::web::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/offices/{id}/desks", get(list_desks))
        .route("/api/v1/offices/{id}/tickets", post(issue_ticket))
        .route("/api/v1/offices/{id}/check-in", post(check_in))
        .route("/api/v1/tickets/{token}", get(ticket))
        .route("/api/v1/desks/{id}/queue", get(desk_queue))
        .route("/api/v1/desks/{id}/sign-in", post(sign_in))
        .route("/api/v1/desks/{id}/pause", post(pause))
        .route("/api/v1/desks/{id}/call-next", post(call_next))
        .route("/api/v1/desks/{id}/tickets/{ticket}/{action}", post(act))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_desks, issue_ticket, check_in, ticket, desk_queue, sign_in, pause, call_next, act),
    components(schemas(DeskDto, NewTicketDto, IssuedTicketDto, CheckInDto, CheckInTooLateDto, WalkInDto, TicketDto, DeskTicketDto, ActionDto, PauseDto, DeskQueueDto, ServiceQueueDto)),
    tags((name = "queue", description = "The live queue: kiosk tickets, desks, call-next. Board events stream over the WebSocket `GET /ws/boards/{office}` (`?since=N` replays what was missed)."))
)]
pub struct QueueApi;

/// The policy of call-next from the settings.
pub fn call_policy(state: &AppState) -> CallPolicy {
    CallPolicy {
        grace_minutes: state.config.queue_grace_minutes,
        priority_ratio: state.config.queue_priority_ratio,
        max_wait_minutes: state.config.queue_max_wait_minutes,
    }
}

/// The check-in window from the settings.
pub fn checkin_window(state: &AppState) -> CheckInWindow {
    CheckInWindow {
        early_minutes: state.config.queue_checkin_early_minutes,
        late_minutes: state.config.queue_checkin_late_minutes,
    }
}

/// The configured priority classes, in order.
pub fn priority_classes(state: &AppState) -> Vec<String> {
    state
        .config
        .priority_classes
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// A sliding one-hour window of tickets per address for anonymous kiosk use.
pub struct IpLimiter {
    per_hour: u32,
    seen: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl IpLimiter {
    pub fn new(per_hour: u32) -> IpLimiter {
        IpLimiter {
            per_hour,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one ticket for `ip`; `false` when the address has used its hour.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < hour));
        }
        let times = seen.entry(ip).or_default();
        times.retain(|t| now.duration_since(*t) < hour);
        if times.len() >= self.per_hour as usize {
            return false;
        }
        times.push(now);
        true
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeskDto {
    pub id: i32,
    /// The window label shown on boards, e.g. `3`.
    pub window: String,
    /// The specialist assigned to the desk.
    pub specialist: Option<String>,
    /// Codes of the services it serves (the specialist's skills).
    pub services: Vec<String>,
    /// Set while the desk is paused.
    pub paused_reason: Option<String>,
}

impl From<DeskRecord> for DeskDto {
    fn from(d: DeskRecord) -> Self {
        DeskDto {
            id: d.id,
            window: d.window,
            specialist: d.specialist,
            services: d.services,
            paused_reason: d.paused_reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTicketDto {
    /// Service code, e.g. `payment-search`.
    pub service: String,
    /// A priority class from the configured list, e.g. `veteran`.
    pub priority: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTicketDto {
    pub id: i32,
    /// `A-017`.
    pub number: String,
    /// The ticket's secret for `/t/{token}` and `GET /api/v1/tickets/{token}`.
    pub token: String,
    pub service: String,
    pub service_title: String,
    pub priority: Option<String>,
    pub status: String,
    /// 1 = next.
    pub position: Option<u32>,
    pub estimated_wait_minutes: Option<u32>,
    pub issued_at: DateTime<Utc>,
    /// A checked-in booking's start (call-next serves it first when due).
    pub appointment_at: Option<DateTime<Utc>>,
    /// The resident's live page.
    pub url: String,
}

fn issued_dto(p: TicketPlace) -> IssuedTicketDto {
    IssuedTicketDto {
        id: p.ticket.id,
        url: format!("/t/{}", p.ticket.token),
        number: p.ticket.number,
        token: p.ticket.token,
        service: p.ticket.service_code,
        service_title: p.ticket.service_title.uk,
        priority: p.ticket.priority_class,
        status: p.ticket.status.code().into(),
        position: p.position,
        estimated_wait_minutes: p.estimated_wait_minutes,
        issued_at: p.ticket.arrived_at,
        appointment_at: p.ticket.appointment_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    pub number: String,
    /// `waiting`, `called`, `in_service`, `finished`, `no_show`.
    pub status: String,
    pub service: String,
    pub position: Option<u32>,
    pub estimated_wait_minutes: Option<u32>,
    /// The window the ticket is called to.
    pub window: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeskTicketDto {
    pub id: i32,
    pub number: String,
    pub service: String,
    pub status: String,
    pub priority: Option<String>,
    pub window: Option<String>,
    pub recalls: u32,
    pub arrived_at: DateTime<Utc>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub called_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    /// The service's published norm in minutes, for the desk's timer.
    pub norm_minutes: u32,
    /// The board event that reported this change.
    pub seq: Option<i64>,
}

fn desk_ticket(t: TicketRecord, seq: Option<i64>) -> DeskTicketDto {
    DeskTicketDto {
        id: t.id,
        number: t.number,
        service: t.service_code,
        status: t.status.code().into(),
        priority: t.priority_class,
        window: t.window,
        recalls: t.recalls,
        arrived_at: t.arrived_at,
        appointment_at: t.appointment_at,
        called_at: t.called_at,
        started_at: t.started_at,
        finished_at: t.finished_at,
        outcome: t.outcome,
        norm_minutes: t.norm_minutes,
        seq,
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ActionDto {
    /// Transfer: the service code to move the ticket to.
    pub service: Option<String>,
    /// Transfer: the desk to move the ticket to.
    pub desk: Option<i32>,
    /// Finish: the outcome (default `served`).
    pub outcome: Option<String>,
    /// Finish: notes for the case record.
    pub notes: Option<String>,
    /// Priority: the class to grant (from the configured list).
    pub priority: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PauseDto {
    /// Why the desk pauses; null or empty resumes it.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceQueueDto {
    pub service: String,
    pub count: u32,
    pub longest_wait_minutes: i64,
    pub norm_minutes: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeskQueueDto {
    pub desk: DeskDto,
    pub current: Option<DeskTicketDto>,
    pub per_service: Vec<ServiceQueueDto>,
    pub waiting: Vec<DeskTicketDto>,
}

async fn office_id(state: &AppState, id: &str) -> AppResult<i32> {
    store::queue::find_kiosk_office(&state.db, id, store::now())
        .await?
        .map(|o| o.id)
        .ok_or_else(|| {
            AppError::NotFound(Text::new(
                format!("Центр «{id}» не знайдено."),
                format!("No center \"{id}\"."),
            ))
        })
}

/// The desks of an office: window, specialist and the services each serves.
#[utoipa::path(get, path = "/api/v1/offices/{id}/desks", tag = "queue",
    params(("id" = String, Path, description = "Office id or code")),
    responses((status = 200, body = [DeskDto]), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn list_desks(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<DeskDto>>> {
    let office = office_id(&state, &id).await?;
    let desks = store::queue::list_desks(&state.db, office).await?;
    Ok(Json(desks.into_iter().map(DeskDto::from).collect()))
}

/// Issues a walk-in ticket (the kiosk). Anonymous callers are limited per address; a kiosk or
/// staff token is exempt. Outside opening hours: 409 saying when the center opens.
#[utoipa::path(post, path = "/api/v1/offices/{id}/tickets", tag = "queue",
    params(("id" = String, Path, description = "Office id or code")),
    request_body = NewTicketDto,
    responses((status = 201, body = IssuedTicketDto), (status = 409, body = crate::web::api::openapi::ErrorDto),
        (status = 422, body = crate::web::api::openapi::ErrorDto), (status = 429, body = crate::web::api::openapi::ErrorDto)))]
pub async fn issue_ticket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    staff: Option<Staff>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<NewTicketDto>,
) -> AppResult<(StatusCode, Json<IssuedTicketDto>)> {
    let office = office_id(&state, &id).await?;
    let priority = parse_priority(&state, body.priority)?;
    if staff.is_none()
        && let Some(axum::Extension(ConnectInfo(addr))) = peer
        && !state.kiosk_limit.allow(addr.ip())
    {
        return Err(AppError::TooManyRequests);
    }
    let (place, frame) = store::queue::issue_ticket(
        &state.db,
        office,
        body.service.trim(),
        priority,
        store::now(),
    )
    .await?;
    state.board.publish_frame(frame);
    Ok((StatusCode::CREATED, Json(issued_dto(place))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckInDto {
    /// The booking code from the confirmation, e.g. `K7M2PX` (case, spaces and dashes ignored).
    pub code: String,
}

/// What a resident too late for their booking may take instead.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalkInDto {
    /// The booked service's code, for `POST /api/v1/offices/{id}/tickets`.
    pub service: String,
}

/// 409 when the booking's time has passed: a walk-in ticket is offered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInTooLateDto {
    /// `too_late`
    pub error: String,
    pub message: String,
    pub walk_in: WalkInDto,
}

/// Checks a booked resident in with their booking code: 201 with the ticket (200 with the same
/// ticket when already checked in). 404 for an unknown code; 409 when not confirmed,
/// cancelled, too early (saying from when) or too late (`too_late`, offering `walk_in`).
/// Anonymous callers are limited per address like kiosk tickets.
#[utoipa::path(post, path = "/api/v1/offices/{id}/check-in", tag = "queue",
    params(("id" = String, Path, description = "Office id or code")),
    request_body = CheckInDto,
    responses((status = 201, body = IssuedTicketDto), (status = 200, body = IssuedTicketDto, description = "Already checked in: the same ticket"),
        (status = 404, body = crate::web::api::openapi::ErrorDto),
        (status = 409, body = CheckInTooLateDto, description = "Too late (`too_late`, with `walk_in`); or `conflict`: too early, not confirmed, cancelled"),
        (status = 429, body = crate::web::api::openapi::ErrorDto)))]
pub async fn check_in(
    State(state): State<AppState>,
    Path(id): Path<String>,
    lang: Lang,
    staff: Option<Staff>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<CheckInDto>,
) -> AppResult<Response> {
    let office = office_id(&state, &id).await?;
    if staff.is_none()
        && let Some(axum::Extension(ConnectInfo(addr))) = peer
        && !state.kiosk_limit.allow(addr.ip())
    {
        return Err(AppError::TooManyRequests);
    }
    match store::queue::check_in(
        &state.db,
        office,
        &body.code,
        checkin_window(&state),
        store::now(),
    )
    .await
    {
        Ok(done) => {
            let status = match done.frame {
                Some(frame) => {
                    state.board.publish_frame(frame);
                    StatusCode::CREATED
                }
                None => StatusCode::OK,
            };
            Ok((status, Json(issued_dto(done.place))).into_response())
        }
        Err(CheckInError::TooLate { service, message }) => Ok((
            StatusCode::CONFLICT,
            Json(CheckInTooLateDto {
                error: "too_late".into(),
                message: message.get(lang).to_string(),
                walk_in: WalkInDto { service },
            }),
        )
            .into_response()),
        Err(CheckInError::Other(e)) => Err(e),
    }
}

/// A priority class from the configured list, or a 422 naming the allowed ones.
pub fn parse_priority(state: &AppState, priority: Option<String>) -> AppResult<Option<String>> {
    let Some(p) = priority
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let classes = priority_classes(state);
    if classes.contains(&p) {
        return Ok(Some(p));
    }
    let list = classes.join(", ");
    Err(AppError::invalid_fields(vec![FieldError {
        field: "priority".into(),
        message: Text::new(
            format!("Невідома категорія пріоритету «{p}». Можливі: {list}."),
            format!("Unknown priority class \"{p}\". Allowed: {list}."),
        ),
    }]))
}

/// A resident's ticket: its status, place in the queue, estimated wait and window.
#[utoipa::path(get, path = "/api/v1/tickets/{token}", tag = "queue",
    params(("token" = String, Path, description = "The ticket's token")),
    responses((status = 200, body = TicketDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn ticket(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Json<TicketDto>> {
    let place = store::queue::find_ticket_place(&state.db, &token)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Text::new("Талон не знайдено.", "The ticket was not found."))
        })?;
    Ok(Json(TicketDto {
        number: place.ticket.number,
        status: place.ticket.status.code().into(),
        service: place.ticket.service_code,
        position: place.position,
        estimated_wait_minutes: place.estimated_wait_minutes,
        window: place.ticket.window,
    }))
}

/// A desk's console data: its current ticket, counts per service, the waiting tickets.
#[utoipa::path(get, path = "/api/v1/desks/{id}/queue", tag = "queue", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Desk id")),
    responses((status = 200, body = DeskQueueDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn desk_queue(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Json<DeskQueueDto>> {
    if !staff.user.role.is_staff_desk() {
        return Err(AppError::Forbidden);
    }
    let q = store::queue::desk_queue(&state.db, id).await?;
    Ok(Json(DeskQueueDto {
        desk: q.desk.into(),
        current: q.current.map(|t| desk_ticket(t, None)),
        per_service: q
            .per_service
            .into_iter()
            .map(|s| ServiceQueueDto {
                service: s.code,
                count: s.count,
                longest_wait_minutes: s.longest_wait_minutes,
                norm_minutes: s.norm_minutes,
            })
            .collect(),
        waiting: q
            .waiting
            .into_iter()
            .map(|t| desk_ticket(t, None))
            .collect(),
    }))
}

/// The signed-in staff member takes this desk (and leaves any other).
#[utoipa::path(post, path = "/api/v1/desks/{id}/sign-in", tag = "queue", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Desk id")),
    responses((status = 200, body = DeskDto), (status = 403, body = crate::web::api::openapi::ErrorDto)))]
pub async fn sign_in(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Json<DeskDto>> {
    let d = store::queue::sign_in_at_desk(&state.db, id, &staff.user).await?;
    Ok(Json(d.into()))
}

/// Pauses the desk with a reason, or resumes it (`reason` null). Call-next refuses while paused.
#[utoipa::path(post, path = "/api/v1/desks/{id}/pause", tag = "queue", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Desk id")), request_body = PauseDto,
    responses((status = 200, body = DeskDto), (status = 403, body = crate::web::api::openapi::ErrorDto)))]
pub async fn pause(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    ApiJson(body): ApiJson<PauseDto>,
) -> AppResult<Json<DeskDto>> {
    let (d, frame) = store::queue::pause_desk(&state.db, id, body.reason, &staff.user).await?;
    state.board.publish_frame(frame);
    Ok(Json(d.into()))
}

/// Calls the next ticket to the desk: appointments due first, then priority and walk-ins by
/// waiting time with a ratio, with a maximum-wait guard. 204 when nobody waits; 409 when the
/// desk still has a ticket called or in service.
#[utoipa::path(post, path = "/api/v1/desks/{id}/call-next", tag = "queue", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Desk id")),
    responses((status = 200, body = DeskTicketDto), (status = 204, description = "Nobody waits"),
        (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 403, body = crate::web::api::openapi::ErrorDto)))]
pub async fn call_next(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let policy = call_policy(&state);
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    match store::queue::call_next_ticket(&state.db, id, &staff.user, &policy, Some(&catalog))
        .await?
    {
        Some(called) => Ok(respond(&state, called).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

fn respond(state: &AppState, c: Called) -> Json<DeskTicketDto> {
    state.board.publish_frame(c.frame);
    Json(desk_ticket(c.ticket, Some(c.seq)))
}

/// A desk action on a ticket: `call` (a chosen ticket), `recall` (past the limit: no-show),
/// `start`, `finish` (with `outcome`, `notes`), `no-show`, `transfer` (to `service` or `desk`,
/// keeping the arrival time), `return` (to the queue), `priority` (grant `priority`, a
/// configured class, to a waiting ticket; 422 for an unknown class). A wrong state is 409.
#[utoipa::path(post, path = "/api/v1/desks/{id}/tickets/{ticket}/{action}", tag = "queue", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Desk id"), ("ticket" = i32, Path, description = "Ticket id"),
        ("action" = String, Path, description = "call, recall, start, finish, no-show, transfer, return, priority")),
    request_body(content = Option<ActionDto>, description = "Optional; for transfer, finish and priority"),
    responses((status = 200, body = DeskTicketDto), (status = 409, body = crate::web::api::openapi::ErrorDto),
        (status = 404, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, ticket, action)): Path<(i32, i32, String)>,
    body: axum::body::Bytes,
) -> AppResult<Json<DeskTicketDto>> {
    let parsed = Action::parse(&action);
    if parsed.is_none() && action == "priority" {
        let body: ActionDto = parse_action_body(&body)?;
        let class = required_priority(&state, body.priority)?;
        let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
        let done = store::queue::grant_priority(
            &state.db,
            id,
            ticket,
            &class,
            &staff.user,
            Some(&catalog),
        )
        .await?;
        return Ok(respond(&state, done));
    }
    let action = parsed.ok_or_else(|| {
        AppError::NotFound(Text::new(
            format!("Невідома дія «{action}»."),
            format!("Unknown action \"{action}\"."),
        ))
    })?;
    let body = parse_action_body(&body)?;
    let input = ActionInput {
        service: body.service,
        desk: body.desk,
        outcome: body.outcome,
        notes: body.notes,
    };
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    let called = store::queue::act_on_ticket(
        &state.db,
        id,
        ticket,
        action,
        &input,
        &staff.user,
        store::queue::ActRules {
            max_recalls: state.config.queue_max_recalls,
            catalog: Some(&catalog),
        },
    )
    .await?;
    Ok(respond(&state, called))
}

/// The optional body of a desk action.
fn parse_action_body(body: &[u8]) -> AppResult<ActionDto> {
    // why: the body is optional (most actions need none), so it is parsed only when sent.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionDto::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        AppError::invalid(Text::new(
            format!("Дані мають неправильну форму: {e}"),
            format!("The data has the wrong shape: {e}"),
        ))
    })
}

/// A priority class a desk grants: required, and from the configured list (else 422).
pub fn required_priority(state: &AppState, priority: Option<String>) -> AppResult<String> {
    parse_priority(state, priority)?.ok_or_else(|| {
        AppError::invalid_fields(vec![FieldError {
            field: "priority".into(),
            message: Text::new("Оберіть категорію пріоритету.", "Choose a priority class."),
        }])
    })
}
