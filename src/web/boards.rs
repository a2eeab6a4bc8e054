//! `GET /ws/boards/{office}`: the hall boards' socket. On connect a snapshot (or, with
//! `?since=N`, the events after N in order, when they are still kept), then every event of the
//! office as it is committed, numbered by `seq`. Heartbeats every 15 s. A board that falls more
//! than the channel's capacity behind is resynced with a fresh snapshot; one whose socket does
//! not take a frame within 10 s is dropped. Nothing is buffered without bound.
//!
//! Served outside the 30 s request timeout of the other routes (a board stays for days).

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::domain::lang::Text;
use crate::error::{AppError, AppResult};
use crate::store;

/// A replay longer than this is answered with a snapshot instead.
const MAX_REPLAY: i64 = 1000;
const HEARTBEAT: Duration = Duration::from_secs(15);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws/boards/{office}", get(board_socket))
}

#[derive(Debug, Deserialize)]
pub struct SinceQuery {
    pub since: Option<i64>,
}

pub async fn board_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(office): Path<String>,
    Query(q): Query<SinceQuery>,
) -> AppResult<Response> {
    let office = store::queue::find_kiosk_office(&state.db, &office, store::now())
        .await?
        .ok_or_else(|| {
            AppError::NotFound(Text::new(
                format!("Центр «{office}» не знайдено."),
                format!("No center \"{office}\"."),
            ))
        })?;
    state.board.start();
    // why: boards only listen; small buffers keep a connection within a few KiB.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(4 * 1024)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve_board(socket, state, office.id, q.since).await {
                tracing::debug!(error = %e, "board socket closed");
            }
        }))
}

async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), String> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("board too slow: dropped".into()),
    }
}

async fn snapshot(socket: &mut WebSocket, state: &AppState, office: i32) -> Result<i64, String> {
    let snap = store::queue::board_snapshot(&state.db, office)
        .await
        .map_err(|e| e.to_string())?;
    let seq = snap["seq"].as_i64().unwrap_or(0);
    send(socket, Utf8Bytes::from(snap.to_string())).await?;
    Ok(seq)
}

async fn serve_board(
    mut socket: WebSocket,
    state: AppState,
    office: i32,
    since: Option<i64>,
) -> Result<(), String> {
    let mut rx = state
        .board
        .subscribe(office)
        .await
        .map_err(|e| e.to_string())?;
    let mut stop = state.board.shutdown_signal();
    let last = store::queue::last_seq(&state.db, office)
        .await
        .map_err(|e| e.to_string())?;
    let mut sent = match since {
        Some(n) if n >= 0 && n <= last && last - n <= MAX_REPLAY => {
            let rows = store::queue::events_since(&state.db, office, n, MAX_REPLAY as u64)
                .await
                .map_err(|e| e.to_string())?;
            let mut sent = n;
            for (seq, text) in rows {
                send(&mut socket, Utf8Bytes::from(text)).await?;
                sent = seq;
            }
            sent
        }
        _ => snapshot(&mut socket, &state, office).await?,
    };
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Ok(f) => {
                    if f.seq > sent {
                        send(&mut socket, f.text).await?;
                        sent = f.seq;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too far behind: start again from the present.
                    rx = rx.resubscribe();
                    sent = snapshot(&mut socket, &state, office).await?;
                }
                Err(RecvError::Closed) => {
                    rx = state.board.subscribe(office).await.map_err(|e| e.to_string())?;
                }
            },
            _ = beat.tick() => {
                let hb = format!(r#"{{"type":"heartbeat","seq":{sent}}}"#);
                send(&mut socket, Utf8Bytes::from(hb)).await?;
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => {}
            },
            _ = stop.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}
