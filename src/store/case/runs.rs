//! The charge runs as the admin page lists them.

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

use crate::error::AppResult;
use crate::store::entities::charge_run;

#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRunRow {
    pub period: String,
    pub status: String,
    pub posted: i64,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The latest charge runs, newest month first (at most 24).
pub async fn list_charge_runs(db: &impl ConnectionTrait) -> AppResult<Vec<ChargeRunRow>> {
    Ok(charge_run::Entity::find()
        .order_by_desc(charge_run::Column::Period)
        .limit(24)
        .all(db)
        .await?
        .into_iter()
        .map(|r| ChargeRunRow {
            period: r.period,
            status: r.status,
            posted: r.posted,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
        .collect())
}
