//! Persistence: sea-orm entities and the queries each area needs. Nothing here knows HTTP.

pub mod booking;
pub mod cache;
pub mod case;
pub mod catalog;
pub mod center;
pub mod demo;
pub mod entities;
pub mod mail;
pub mod offices;
pub mod queue;
pub mod settings;
pub mod staff;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Config;

/// Opens the database named by the config. SQLite files run in WAL mode so that board and
/// page reads proceed while one writer holds the lock; writers wait up to 5 s instead of
/// failing at once.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(&config.database_url, config.db_pool).await
}

pub(crate) fn is_sqlite_file(url: &str) -> bool {
    url.starts_with("sqlite:") && !(url.contains(":memory:") || url.contains("mode=memory"))
}

async fn open(url: &str, pool: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    let url = url.trim().to_string();
    let is_sqlite = url.starts_with("sqlite:");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = pool.unwrap_or(match (is_sqlite, in_memory) {
        // An in-memory database lives in its one connection.
        (true, true) => 1,
        (true, false) => 4,
        (false, _) => 10,
    });
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(pool)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if is_sqlite {
        opts.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            if in_memory {
                o
            } else {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            }
        });
    }
    Database::connect(opts).await
}

/// The connection the booking's write transaction goes through.
///
/// why: on a SQLite file one writer holds the lock at a time, and the others wait in SQLite's
/// busy handler, which sleeps (1, 2, 5 … 100 ms) rather than being woken when the lock frees:
/// under a storm of bookings most of the time went to sleeping. A pool of one connection for
/// the hot write queues this instance's writers fairly (first come, first served) and hands the
/// lock over at once, while the reads before the write use the main pool. Other instances and
/// other writers still meet in SQLite's lock as before. On PostgreSQL and in-memory SQLite it is
/// the main pool. Opened on first use, so building the state needs no await.
pub struct Writer {
    url: String,
    cell: tokio::sync::OnceCell<DatabaseConnection>,
    /// Bookings waiting for the writer, and who writes them next (`booking::write_in_batch`).
    pub(crate) bookings: std::sync::Mutex<Vec<booking::QueuedBooking>>,
    pub(crate) leader: tokio::sync::Mutex<()>,
}

impl Writer {
    pub fn new(config: &Config) -> Self {
        Writer {
            url: config.database_url.clone(),
            cell: tokio::sync::OnceCell::new(),
            bookings: std::sync::Mutex::new(Vec::new()),
            leader: tokio::sync::Mutex::new(()),
        }
    }

    pub async fn get<'a>(
        &'a self,
        db: &'a DatabaseConnection,
    ) -> Result<&'a DatabaseConnection, DbErr> {
        if !is_sqlite_file(&self.url) {
            return Ok(db);
        }
        self.cell.get_or_try_init(|| open(&self.url, Some(1))).await
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Current instant truncated to microseconds: SQLite would keep nanoseconds and PostgreSQL
/// microseconds, and a value must read back equal on both.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
