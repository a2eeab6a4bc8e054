//! `/kiosk/{office}`: category, then service, then a printed 80 mm ticket with a QR code.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::catalog::Channel;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::queue::{CheckInError, TicketPlace};
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::pages::{Chrome, render};

pub struct CategoryChoice {
    pub code: String,
    pub letter: String,
    pub title: String,
}

pub struct ServiceChoice {
    pub code: String,
    pub title: String,
    pub duration: String,
}

#[derive(Template)]
#[template(path = "queue/kiosk.html")]
struct KioskPage {
    chrome: Chrome,
    office_code: String,
    office_name: String,
    /// Set when closed: when it opens (may be empty when it has no hours).
    closed: Option<String>,
    categories: Vec<CategoryChoice>,
    chosen: Option<String>,
    services: Vec<ServiceChoice>,
    priorities: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "queue/kiosk_ticket.html")]
struct KioskTicketPage {
    chrome: Chrome,
    office_code: String,
    office_name: String,
    number: String,
    service: String,
    issued: String,
    ahead: u32,
    wait: u32,
    qr_svg: String,
    url: String,
    /// A checked-in booking's time, local.
    appointment: Option<String>,
}

/// The answer to a refused check-in: the message, and for a late resident a walk-in ticket
/// for the same service.
#[derive(Template)]
#[template(path = "queue/kiosk_checkin.html")]
struct KioskCheckInPage {
    chrome: Chrome,
    office_code: String,
    office_name: String,
    message: String,
    /// The booked service's code, when a walk-in ticket is offered.
    walk_in: Option<String>,
}

#[derive(Deserialize)]
pub struct KioskQuery {
    category: Option<String>,
}

async fn office(state: &AppState, code: &str) -> AppResult<store::queue::KioskOffice> {
    store::queue::find_kiosk_office(&state.db, code, store::now())
        .await?
        .ok_or_else(AppError::not_found)
}

pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(code): Path<String>,
    Query(q): Query<KioskQuery>,
) -> AppResult<Response> {
    let t = crate::web::i18n::Tr(ctx.lang);
    let o = office(&state, &code).await?;
    let services: Vec<_> = store::catalog::list_services(&state.db, false)
        .await?
        .into_iter()
        .filter(|s| s.channels.contains(&Channel::Visit))
        .collect();
    let mut categories: Vec<CategoryChoice> = Vec::new();
    for s in &services {
        if !categories.iter().any(|c| c.code == s.category.code) {
            categories.push(CategoryChoice {
                code: s.category.code.clone(),
                letter: s.category.letter.clone(),
                title: t.pick(&s.category.title).to_string(),
            });
        }
    }
    let chosen = q.category.and_then(|c| {
        categories
            .iter()
            .find(|x| x.code == c)
            .map(|x| x.code.clone())
    });
    let services = match &chosen {
        Some(c) => services
            .iter()
            .filter(|s| &s.category.code == c)
            .map(|s| ServiceChoice {
                code: s.code.clone(),
                title: t.pick(&s.title).to_string(),
                duration: s.duration.display(ctx.lang),
            })
            .collect(),
        None => Vec::new(),
    };
    let closed = o.closed_until.map(|next| {
        next.map(|at| at.format("%d.%m.%Y %H:%M").to_string())
            .unwrap_or_default()
    });
    let priorities = crate::web::api::queue::priority_classes(&state)
        .into_iter()
        .map(|c| {
            let label = t.get(&format!("queue.priority.{c}"));
            (c, label)
        })
        .collect();
    render(&KioskPage {
        chrome: Chrome::new(&ctx, None),
        office_code: o.code,
        office_name: t.pick(&o.name).to_string(),
        closed,
        categories,
        chosen,
        services,
        priorities,
    })
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    priority: Option<String>,
}

/// The ticket's absolute address for the QR code, from the request's Host.
fn public_url(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{path}")
}

pub async fn issue(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(code): Path<String>,
    staff: Option<Staff>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<IssueForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let o = office(&state, &code).await?;
    let priority = crate::web::api::queue::parse_priority(&state, form.priority)?;
    if staff.is_none()
        && let Some(axum::Extension(ConnectInfo(addr))) = peer
        && !state.kiosk_limit.allow(addr.ip())
    {
        return Err(AppError::TooManyRequests);
    }
    let (place, frame) =
        store::queue::issue_ticket(&state.db, o.id, form.service.trim(), priority, store::now())
            .await?;
    state.board.publish_frame(frame);
    ticket_page(&state, &ctx, &headers, &o, place)
}

#[derive(Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// "I have a booking": the code becomes a ticket; a refusal is shown on the kiosk, too late
/// with a button for a walk-in ticket for the same service.
pub async fn check_in(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(code): Path<String>,
    staff: Option<Staff>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CheckInForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let t = crate::web::i18n::Tr(ctx.lang);
    let o = office(&state, &code).await?;
    if staff.is_none()
        && let Some(axum::Extension(ConnectInfo(addr))) = peer
        && !state.kiosk_limit.allow(addr.ip())
    {
        return Err(AppError::TooManyRequests);
    }
    let refused = |status: StatusCode, message: String, walk_in: Option<String>| {
        render(&KioskCheckInPage {
            chrome: Chrome::new(&ctx, None),
            office_code: o.code.clone(),
            office_name: t.pick(&o.name).to_string(),
            message,
            walk_in,
        })
        .map(|r| (status, r).into_response())
    };
    match store::queue::check_in(
        &state.db,
        o.id,
        &form.code,
        crate::web::api::queue::checkin_window(&state),
        store::now(),
    )
    .await
    {
        Ok(done) => {
            if let Some(frame) = done.frame {
                state.board.publish_frame(frame);
            }
            ticket_page(&state, &ctx, &headers, &o, done.place)
        }
        Err(CheckInError::TooLate { service, message }) => refused(
            StatusCode::CONFLICT,
            t.pick(&message).to_string(),
            Some(service),
        ),
        Err(CheckInError::Other(
            e @ (AppError::NotFound(_) | AppError::Conflict(_) | AppError::Invalid { .. }),
        )) => refused(e.status(), t.pick(&e.message()).to_string(), None),
        Err(CheckInError::Other(e)) => Err(e),
    }
}

/// The printed ticket.
fn ticket_page(
    state: &AppState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    o: &store::queue::KioskOffice,
    place: TicketPlace,
) -> AppResult<Response> {
    let t = crate::web::i18n::Tr(ctx.lang);
    let path = format!("/t/{}", place.ticket.token);
    let url = public_url(state, headers, &path);
    let qr_svg = qrcode::QrCode::new(url.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(160, 160)
                .build()
        })
        .unwrap_or_default();
    let position = place.position.unwrap_or(1);
    render(&KioskTicketPage {
        chrome: Chrome::new(ctx, None),
        office_code: o.code.clone(),
        office_name: t.pick(&o.name).to_string(),
        number: place.ticket.number,
        service: t.pick(&place.ticket.service_title).to_string(),
        issued: place
            .ticket
            .arrived_at
            .with_timezone(&o.timezone)
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        ahead: position.saturating_sub(1),
        wait: place.estimated_wait_minutes.unwrap_or(0),
        qr_svg,
        url: path,
        appointment: place.ticket.appointment_at.map(|a| {
            a.with_timezone(&o.timezone)
                .format("%d.%m.%Y %H:%M")
                .to_string()
        }),
    })
}
