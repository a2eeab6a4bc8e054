//! The hold-release worker: expires pending bookings whose confirmation hold ran out and
//! returns cancelled times to availability once their delay has passed. Several instances may
//! run it: each pass changes only rows already due, with conditional statements, so the work
//! is done once (see `store::booking::release_expired`).

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One pass; tests drive it. Returns the number of holds expired.
pub async fn run_once(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    crate::store::booking::release_expired(db).await
}

/// Runs a pass every `every` until `stop` turns true.
pub fn spawn(
    db: DatabaseConnection,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_once(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "booking holds released"),
                Err(e) => tracing::warn!(error = %e, "booking hold release failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    })
}
