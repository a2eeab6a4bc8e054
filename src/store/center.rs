//! The center's public contacts, kept in `setting` under `center.contacts` (JSON) and cached
//! in memory so the home page makes no query for them.

use std::sync::{Arc, RwLock};

use sea_orm::{ConnectionTrait, DbErr};

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
    settings::put(db, CONTACTS_KEY, &json).await
}

/// The contacts as this instance last read or wrote them.
///
/// why: read once, replaced on edit; another instance's edit shows here after a restart.
#[derive(Debug, Default)]
pub struct CenterCache {
    current: RwLock<Option<Arc<CenterContacts>>>,
}

impl CenterCache {
    pub async fn get(&self, db: &impl ConnectionTrait) -> Result<Arc<CenterContacts>, DbErr> {
        if let Some(c) = self.current.read().ok().and_then(|g| g.clone()) {
            return Ok(c);
        }
        let c = Arc::new(find_contacts(db).await?);
        if let Ok(mut g) = self.current.write() {
            *g = Some(c.clone());
        }
        Ok(c)
    }

    /// Saves to the database, then replaces the cached copy.
    pub async fn save(
        &self,
        db: &impl ConnectionTrait,
        c: CenterContacts,
    ) -> Result<Arc<CenterContacts>, DbErr> {
        save_contacts(db, &c).await?;
        let c = Arc::new(c);
        if let Ok(mut g) = self.current.write() {
            *g = Some(c.clone());
        }
        Ok(c)
    }
}
