//! Queue pages: the kiosk, the hall board, the resident's ticket and the desk console.

pub mod board;
pub mod desk;
pub mod kiosk;
pub mod ticket;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kiosk/{office}", get(kiosk::page).post(kiosk::issue))
        .route("/kiosk/{office}/check-in", post(kiosk::check_in))
        .route("/t/{token}", get(ticket::page))
        .route("/board/{office}", get(board::page))
        .route("/desk", get(desk::choose))
        .route("/desk/{id}", get(desk::console))
        .route("/desk/{id}/take", post(desk::take))
        .route("/desk/{id}/call-next", post(desk::call_next))
        .route("/desk/{id}/act", post(desk::act))
        .route("/desk/{id}/pause", post(desk::pause))
}
