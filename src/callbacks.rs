//! The call-back worker: a confirmed contact-center booking (a call-back at a chosen time)
//! whose start comes within the check-in window is checked in like a resident at the kiosk,
//! so it waits as an appointment ticket in the queue of the contact center's desks (the booked
//! operator's desk when there is one), and call-next serves it first when due. Several
//! instances may run it: each booking is claimed with a lease (`store::queue::
//! claim_due_call_back`), and a booking has at most one ticket (a unique index).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::queue::checkin::CheckInWindow;
use crate::events::Hub;
use crate::store;
use crate::store::queue::CheckInError;

/// How long a claimed call-back is kept from other instances.
const LEASE_SECONDS: i64 = 60;

/// One pass: checks in one due call-back. `Ok(true)` when it did some work (there may be
/// more), `Ok(false)` when none is due. Tests drive it.
pub async fn run_once(
    db: &DatabaseConnection,
    window: CheckInWindow,
    board: Option<&Hub>,
) -> Result<bool, String> {
    let now = store::now();
    let Some(due) = store::queue::claim_due_call_back(
        db,
        window,
        chrono::Duration::seconds(LEASE_SECONDS),
        now,
    )
    .await
    .map_err(|e| e.to_string())?
    else {
        return Ok(false);
    };
    match store::queue::check_in(db, due.office_id, &due.code, window, now).await {
        Ok(done) => {
            if let (Some(frame), Some(hub)) = (done.frame.clone(), board) {
                hub.publish_frame(frame);
            }
            tracing::info!(
                booking = due.booking_id,
                ticket = %done.place.ticket.number,
                "call-back queued"
            );
            Ok(true)
        }
        // The booking changed meanwhile (cancelled, moved out of the window): its lease runs
        // out and the next pass looks again.
        Err(CheckInError::TooLate { .. }) => Ok(true),
        Err(CheckInError::Other(e)) => {
            tracing::warn!(booking = due.booking_id, error = %e, "call-back check-in refused");
            Ok(true)
        }
    }
}

/// Runs passes until `stop` turns true, sleeping `idle` when nothing is due.
pub fn spawn(
    db: DatabaseConnection,
    window: CheckInWindow,
    board: Arc<Hub>,
    idle: Duration,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    crate::app::spawn_worker("call-backs", stop, idle, move || {
        let db = db.clone();
        let board = Arc::clone(&board);
        async move { run_once(&db, window, Some(&board)).await }
    })
}
