//! Queue pages: the kiosk, the hall board, the resident's ticket and the desk console.

use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
