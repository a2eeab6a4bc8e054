//! Board events fan-out. Events are rows of `board_event`, numbered per office and written in
//! the transaction of the change they report (`store::queue`). This module only delivers them:
//! one pump per instance reads new rows in `seq` order and broadcasts them to that instance's
//! board sockets.
//!
//! An event this instance wrote is handed over after its commit (`Hub::publish`) and sent at
//! once when it is the next `seq` of its office; out of order (another request's or another
//! instance's event not sent yet) it pokes the pump instead, which reads the gap from the
//! database, so boards still get every event once, in order.
//!
//! The pump reads when poked: by this instance after a commit (`Hub::poke`), by PostgreSQL
//! `NOTIFY cherga_board` from any instance (so boards on every instance see every event, with
//! the same `seq`, and no broker beside the database), and once a second as a catch-up for
//! whatever a lost notification or a full poke queue missed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{broadcast, mpsc, watch};

use crate::store;

/// One event as sent to boards: the JSON text, shared by every socket.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: i64,
    pub text: Utf8Bytes,
}

/// Frames kept for a slow board before it lags and is resynced with a snapshot.
const CHANNEL_CAPACITY: usize = 256;
/// Rows read per pass.
const BATCH: u64 = 500;

struct OfficeChannel {
    tx: broadcast::Sender<Frame>,
    /// The last `seq` broadcast to this office's boards.
    last: i64,
}

pub struct Hub {
    db: DatabaseConnection,
    offices: Mutex<HashMap<i32, OfficeChannel>>,
    poke_tx: mpsc::Sender<i32>,
    poke_rx: Mutex<Option<mpsc::Receiver<i32>>>,
    started: AtomicBool,
    shutdown: watch::Sender<bool>,
}

impl Hub {
    pub fn new(db: DatabaseConnection) -> Hub {
        let (poke_tx, poke_rx) = mpsc::channel(1024);
        let (shutdown, _) = watch::channel(false);
        Hub {
            db,
            offices: Mutex::new(HashMap::new()),
            poke_tx,
            poke_rx: Mutex::new(Some(poke_rx)),
            started: AtomicBool::new(false),
            shutdown,
        }
    }

    /// Starts the pump once (later calls do nothing). `app::serve` starts it; the board socket
    /// also does, so a router built by tests delivers events too.
    pub fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let rx = self.poke_rx.lock().ok().and_then(|mut g| g.take());
        let Some(rx) = rx else { return };
        let hub = Arc::clone(self);
        tokio::spawn(async move { hub.pump(rx).await });
    }

    /// Stops the pump and tells every board socket to close.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// This instance committed events for `office_id`: read and deliver them now. Never blocks;
    /// when the queue is full the catch-up pass delivers them.
    pub fn poke(&self, office_id: i32) {
        let _ = self.poke_tx.try_send(office_id);
    }

    /// This instance committed event `seq` of `office_id` with this message: send it to the
    /// office's boards now when it is the next one, else let the pump read the gap from the
    /// database (an earlier event is not sent yet). Never blocks on the database.
    pub fn publish(&self, office_id: i32, seq: i64, text: String) {
        let mut offices = self.lock();
        let Some(ch) = offices.get_mut(&office_id) else {
            // Nobody watches this office here.
            return;
        };
        if seq == ch.last + 1 {
            ch.last = seq;
            let _ = ch.tx.send(Frame {
                seq,
                text: Utf8Bytes::from(text),
            });
        } else if seq > ch.last + 1 {
            drop(offices);
            self.poke(office_id);
        }
        // seq <= last: the pump already sent it.
    }

    /// `publish` for a frame from `store::queue`.
    pub fn publish_frame(&self, frame: store::queue::BoardFrame) {
        self.publish(frame.office_id, frame.seq, frame.text);
    }

    /// A receiver of the office's frames. Subscribe before reading the snapshot or the replay,
    /// so nothing falls between them.
    pub async fn subscribe(
        &self,
        office_id: i32,
    ) -> Result<broadcast::Receiver<Frame>, sea_orm::DbErr> {
        if let Some(rx) = self.try_subscribe(office_id) {
            return Ok(rx);
        }
        let last = store::queue::last_seq(&self.db, office_id).await?;
        let mut offices = self.lock();
        let ch = offices.entry(office_id).or_insert_with(|| OfficeChannel {
            tx: broadcast::channel(CHANNEL_CAPACITY).0,
            last,
        });
        Ok(ch.tx.subscribe())
    }

    fn try_subscribe(&self, office_id: i32) -> Option<broadcast::Receiver<Frame>> {
        self.lock().get(&office_id).map(|c| c.tx.subscribe())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, OfficeChannel>> {
        // why: a panic while holding this lock cannot leave the map half-changed.
        self.offices.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers the office's new events; used by the pump and by tests.
    pub async fn run_once(&self, office_id: i32) -> Result<usize, sea_orm::DbErr> {
        let mut sent = 0;
        loop {
            let Some(last) = self.lock().get(&office_id).map(|c| c.last) else {
                return Ok(sent);
            };
            let rows = store::queue::events_since(&self.db, office_id, last, BATCH).await?;
            let n = rows.len();
            {
                let mut offices = self.lock();
                let Some(ch) = offices.get_mut(&office_id) else {
                    return Ok(sent);
                };
                for (seq, text) in rows {
                    // Another pass may have sent it meanwhile: keep the order, never repeat.
                    if seq <= ch.last {
                        continue;
                    }
                    ch.last = seq;
                    let _ = ch.tx.send(Frame {
                        seq,
                        text: Utf8Bytes::from(text),
                    });
                    sent += 1;
                }
                // Forget offices nobody watches any more.
                if ch.tx.receiver_count() == 0 {
                    offices.remove(&office_id);
                    return Ok(sent);
                }
            }
            if (n as u64) < BATCH {
                return Ok(sent);
            }
        }
    }

    async fn catch_up(&self) {
        let ids: Vec<i32> = self.lock().keys().copied().collect();
        for id in ids {
            if let Err(e) = self.run_once(id).await {
                tracing::warn!(error = %e, office = id, "board catch-up failed");
            }
        }
    }

    async fn pump(self: Arc<Self>, mut pokes: mpsc::Receiver<i32>) {
        let mut shutdown = self.shutdown.subscribe();
        let (note_tx, mut notes) = mpsc::channel::<i32>(1024);
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let hub = Arc::clone(&self);
            let stop = self.shutdown.subscribe();
            tokio::spawn(async move { hub.listen(note_tx, stop).await });
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(office) = pokes.recv() => self.deliver(office).await,
                Some(office) = notes.recv() => self.deliver(office).await,
                _ = tick.tick() => self.catch_up().await,
                _ = shutdown.changed() => break,
            }
        }
        tracing::debug!("board pump stopped");
    }

    async fn deliver(&self, office_id: i32) {
        if let Err(e) = self.run_once(office_id).await {
            tracing::warn!(error = %e, office = office_id, "board delivery failed");
        }
    }

    /// PostgreSQL: LISTEN on the notify channel and pass each office id to the pump.
    async fn listen(self: Arc<Self>, out: mpsc::Sender<i32>, mut stop: watch::Receiver<bool>) {
        use sea_orm::sqlx::postgres::PgListener;
        loop {
            let pool = self.db.get_postgres_connection_pool().clone();
            let listener = async {
                let mut l = PgListener::connect_with(&pool).await?;
                l.listen(store::queue::NOTIFY_CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(l)
            };
            let mut listener = tokio::select! {
                l = listener => match l {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "board LISTEN failed; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                            _ = stop.changed() => return,
                        }
                    }
                },
                _ = stop.changed() => return,
            };
            loop {
                tokio::select! {
                    n = listener.recv() => match n {
                        Ok(n) => {
                            if let Ok(office) = n.payload().parse::<i32>() {
                                let _ = out.try_send(office);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "board LISTEN connection lost");
                            break;
                        }
                    },
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    async fn hub_with_events() -> (Arc<Hub>, DatabaseConnection) {
        let config = crate::config::Config::for_database("sqlite::memory:");
        let db = store::connect(&config).await.expect("connect");
        store::migrate(&db).await.expect("migrate");
        db.execute_unprepared("INSERT INTO board_seq (office_id, last_seq) VALUES (1, 4)")
            .await
            .expect("seq");
        (Arc::new(Hub::new(db.clone())), db)
    }

    async fn write_event(db: &DatabaseConnection, seq: i64) -> String {
        let text = format!("{{\"type\":\"issued\",\"seq\":{seq}}}");
        db.execute_unprepared(&format!(
            "INSERT INTO board_event (office_id, seq, kind, payload, created_at) \
             VALUES (1, {seq}, 'issued', '{text}', '2026-12-06 12:00:00+00:00')"
        ))
        .await
        .expect("event");
        db.execute_unprepared(&format!(
            "UPDATE board_seq SET last_seq = {seq} WHERE office_id = 1"
        ))
        .await
        .expect("seq");
        text
    }

    #[tokio::test]
    async fn published_out_of_order_still_delivers_in_order() {
        let (hub, db) = hub_with_events().await;
        let mut rx = hub.subscribe(1).await.expect("subscribe");
        let five = write_event(&db, 5).await;
        let six = write_event(&db, 6).await;
        // 6 committed and published first: a gap, so nothing is sent yet.
        hub.publish(1, 6, six.clone());
        assert!(rx.try_recv().is_err(), "6 must wait for 5");
        // 5 is next: sent at once; the pump (poked for the gap) reads 6 from the database.
        hub.publish(1, 5, five.clone());
        hub.run_once(1).await.expect("pump pass");
        let a = rx.recv().await.expect("frame 5");
        let b = rx.recv().await.expect("frame 6");
        assert_eq!((a.seq, a.text.as_str()), (5, five.as_str()));
        assert_eq!((b.seq, b.text.as_str()), (6, six.as_str()));
        // A late publish of an event already sent is not repeated.
        hub.publish(1, 6, six);
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn the_next_event_is_sent_without_the_database() {
        let (hub, _db) = hub_with_events().await;
        let mut rx = hub.subscribe(1).await.expect("subscribe");
        // Not in the database at all: publish alone delivers it.
        hub.publish(1, 5, "{\"seq\":5}".into());
        let f = rx.try_recv().expect("sent at once");
        assert_eq!(f.seq, 5);
    }
}
