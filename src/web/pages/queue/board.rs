//! `/board/{office}`: the hall TV. The page is a shell; static/board.js fills it from the
//! board socket, announces calls one at a time, and reconnects with backoff.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::context::RequestContext;
use crate::web::pages::{Chrome, render};

#[derive(Template)]
#[template(path = "queue/board.html")]
struct BoardPage {
    chrome: Chrome,
    office_code: String,
    office_name: String,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let t = crate::web::i18n::Tr(ctx.lang);
    let o = store::queue::find_kiosk_office(&state.db, &code, store::now())
        .await?
        .ok_or_else(AppError::not_found)?;
    render(&BoardPage {
        chrome: Chrome::new(&ctx, None),
        office_code: o.code,
        office_name: t.pick(&o.name).to_string(),
    })
}
