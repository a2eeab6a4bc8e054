//! The center's public contacts, kept in `setting` under `center.contacts` (JSON) and cached
//! in memory so the home page makes no query for them.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use super::cache::{self, Caches};
use super::settings;
use crate::domain::staff::center::CenterContacts;

pub const CONTACTS_KEY: &str = "center.contacts";

/// The stored contacts; until the administrator saves them, the catalog file's `[center]`
/// (kept by the catalog import), else the bundled catalog's.
pub async fn find_contacts(db: &impl ConnectionTrait) -> Result<CenterContacts, DbErr> {
    if let Some(c) = settings::get(db, CONTACTS_KEY)
        .await?
        .and_then(|json| serde_json::from_str::<CenterContacts>(&json).ok())
    {
        return Ok(c);
    }
    if let Some(c) = super::catalog::center(db).await? {
        return Ok(c.into());
    }
    crate::domain::catalog::bundled()
        .map(|c| c.center.into())
        .map_err(|e| DbErr::Custom(e.to_string()))
}

pub async fn save_contacts(db: &impl ConnectionTrait, c: &CenterContacts) -> Result<(), DbErr> {
    let json = serde_json::to_string(c).map_err(|e| DbErr::Custom(e.to_string()))?;
    settings::put(db, CONTACTS_KEY, &json).await?;
    cache::bump_version(db, cache::CENTER).await
}

/// The contacts, from the in-memory copy while it is current (`store::cache`): another
/// instance's edit or a catalog import shows within a second.
pub async fn cached(
    caches: &Caches,
    db: &DatabaseConnection,
) -> Result<Arc<CenterContacts>, DbErr> {
    caches
        .center
        .get(db, |db| async move { find_contacts(&db).await })
        .await
}

/// Saves the contacts for every instance, and drops this instance's copy at once.
pub async fn save(
    caches: &Caches,
    db: &DatabaseConnection,
    c: &CenterContacts,
) -> Result<Arc<CenterContacts>, DbErr> {
    let txn = db.begin().await?;
    save_contacts(&txn, c).await?;
    txn.commit().await?;
    caches.center.invalidate();
    cached(caches, db).await
}
