//! `/t/{token}`: the resident's own ticket, live (the page polls the ticket API).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::context::RequestContext;
use crate::web::pages::{Chrome, render};

#[derive(Template)]
#[template(path = "queue/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    token: String,
    number: String,
    service: String,
    status: &'static str,
    position: Option<u32>,
    wait: Option<u32>,
    window: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let t = crate::web::i18n::Tr(ctx.lang);
    let place = store::queue::find_ticket_place(&state.db, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    render(&TicketPage {
        chrome: Chrome::new(&ctx, None),
        token,
        number: place.ticket.number,
        service: t.pick(&place.ticket.service_title).to_string(),
        status: place.ticket.status.code(),
        position: place.position,
        wait: place.estimated_wait_minutes,
        window: place.ticket.window,
    })
}
