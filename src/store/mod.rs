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
    let url = config.database_url.trim().to_string();
    let is_sqlite = url.starts_with("sqlite:");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = config.db_pool.unwrap_or(match (is_sqlite, in_memory) {
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

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Current instant truncated to microseconds: SQLite would keep nanoseconds and PostgreSQL
/// microseconds, and a value must read back equal on both.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
