//! Read-mostly data kept in memory: loaded once, served from memory, reloaded when its version
//! in the database changes.
//!
//! why: every edit of such data writes a fresh random version under `version.<name>` in the
//! `setting` table, in the edit's own transaction. A reader compares the version it loaded with the
//! database's at most once a second, one indexed single-row read, so a change made by another
//! instance (or by `cherga import-catalog`) shows within a second on SQLite and PostgreSQL alike,
//! with one code path that the SQLite tests exercise. LISTEN/NOTIFY would be PostgreSQL only and
//! needs a connection of its own outside sea-orm's pool. The instance that made the edit also
//! drops its copy at once (`invalidate`), so its own next page shows the edit; and every
//! `bump_version` counts this process's edits, so a copy older than one of them is checked again
//! at once even where no handler invalidated it (store functions called directly).
//!
//! Another piece of read-mostly data joins by adding a `Versioned<…>` field to `Caches` and
//! calling `bump_version` in its edits.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::catalog::CatalogSnapshot;
use super::settings;

/// How stale a copy may be before its version is checked again.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Every cache of the process, in `AppState`.
pub struct Caches {
    pub catalog: Versioned<CatalogSnapshot>,
    /// Offices with their hours, for the home page. Whatever edits offices must call
    /// `bump_version(txn, OFFICES)` in its transaction.
    pub offices: Versioned<Vec<super::offices::OfficeRecord>>,
    /// The center's public contacts (`store::center`); saving them and a catalog import bump
    /// `CENTER`.
    pub center: Versioned<crate::domain::staff::center::CenterContacts>,
    /// Offices, specialists and their plans as booking reads them (`store::booking::setup`);
    /// versioned with `OFFICES`, which every edit of them bumps.
    pub booking: Versioned<super::booking::BookingSetup>,
}

/// The version name of the offices' cache.
pub const OFFICES: &str = "offices";
/// The version name of the center's contacts.
pub const CENTER: &str = "center";

impl Default for Caches {
    fn default() -> Self {
        Caches {
            catalog: Versioned::new(super::catalog::CACHE_NAME),
            offices: Versioned::new(OFFICES),
            center: Versioned::new(CENTER),
            booking: Versioned::new(OFFICES),
        }
    }
}

impl Caches {
    /// After a catalog import in this instance: it replaces the services and the `[center]`.
    pub fn catalog_imported(&self) {
        self.catalog.invalidate();
        self.center.invalidate();
    }
}

/// Edits made by this process (every `bump_version`), so a copy taken before one of them is
/// checked again at once rather than up to `CHECK_EVERY` later.
static LOCAL_EDITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn local_edits() -> u64 {
    LOCAL_EDITS.load(std::sync::atomic::Ordering::Acquire)
}

struct Slot<T> {
    version: Option<String>,
    /// `local_edits()` when the version was last read.
    edits: u64,
    checked: Instant,
    value: Arc<T>,
}

/// One cached value, named by the setting that holds its version.
pub struct Versioned<T> {
    name: &'static str,
    slot: RwLock<Option<Slot<T>>>,
}

fn version_key(name: &str) -> String {
    format!("version.{name}")
}

/// Marks the data `name` as changed, for every instance. Call it inside the edit's transaction.
pub async fn bump_version(db: &impl ConnectionTrait, name: &str) -> Result<(), DbErr> {
    // why: a random value, not a counter: two edits committing at once cannot write the same one.
    LOCAL_EDITS.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    settings::put(db, &version_key(name), &crate::security::random_token()).await
}

/// The current version of the data `name` (none before its first edit).
pub async fn version(db: &impl ConnectionTrait, name: &str) -> Result<Option<String>, DbErr> {
    settings::get(db, &version_key(name)).await
}

impl<T> Versioned<T> {
    pub fn new(name: &'static str) -> Self {
        Versioned {
            name,
            slot: RwLock::new(None),
        }
    }

    /// Drops this instance's copy; the next `get` loads it again.
    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }

    fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.read().ok()?;
        let s = slot.as_ref()?;
        (s.edits == local_edits() && s.checked.elapsed() < CHECK_EVERY).then(|| s.value.clone())
    }

    /// The value, from memory while it is known to be current; else loaded with `load`.
    pub async fn get<F, Fut>(&self, db: &DatabaseConnection, load: F) -> Result<Arc<T>, DbErr>
    where
        F: FnOnce(DatabaseConnection) -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        // Read the version before the data: an edit landing in between makes the copy newer
        // than its version says, which only costs one more load. The same for the count of
        // this process's edits, read before the version.
        let edits = local_edits();
        let version = settings::get(db, &version_key(self.name)).await?;
        if let Ok(mut slot) = self.slot.write()
            && let Some(s) = slot.as_mut()
            && s.version == version
        {
            s.checked = Instant::now();
            s.edits = edits;
            return Ok(s.value.clone());
        }
        let value = Arc::new(load(db.clone()).await?);
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some(Slot {
                version,
                edits,
                checked: Instant::now(),
                value: value.clone(),
            });
        }
        Ok(value)
    }
}
