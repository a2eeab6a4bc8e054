//! The catalog in the database: import (matched by code, so references survive), listing, edits.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use std::collections::HashSet;

use super::entities::{category, service};
use super::{cache, settings};
use crate::domain::catalog::{
    Catalog, Category, Center, Channel, DurationRange, ImportPlan, Service, parse_channels,
    plan_import,
};
use crate::domain::lang::Text;

/// The name of the catalog's cache and of its version setting (`version.catalog`).
pub const CACHE_NAME: &str = "catalog";

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRecord {
    pub id: i32,
    pub code: String,
    pub letter: String,
    pub title: Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRecord {
    pub id: i32,
    pub code: String,
    pub category: CategoryRecord,
    pub title: Text,
    pub duration: DurationRange,
    pub duration_text: String,
    pub channels: Vec<Channel>,
    pub channels_text: String,
    pub planned_override: Option<u32>,
    pub active: bool,
}

impl ServiceRecord {
    /// The booking length: the admin's override, else derived from the published duration.
    pub fn planned_minutes(&self, grid_minutes: u32, open_ended_factor: u32) -> u32 {
        self.planned_override.unwrap_or_else(|| {
            self.duration
                .planned_minutes(grid_minutes, open_ended_factor)
        })
    }

    pub fn has_channel(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub categories: usize,
    pub added: usize,
    pub updated: usize,
    pub deactivated: usize,
}

/// What an admin may change on a service. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServiceEdit {
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub channels: Option<Vec<Channel>>,
    /// `Some(None)` clears the override.
    pub planned_override: Option<Option<u32>>,
    pub active: Option<bool>,
}

impl From<crate::domain::catalog::ServiceChange> for ServiceEdit {
    /// A validated change sets every field it holds.
    fn from(c: crate::domain::catalog::ServiceChange) -> Self {
        ServiceEdit {
            title: Some(c.title),
            title_en: Some(c.title_en),
            channels: Some(c.channels),
            planned_override: Some(c.planned_override),
            active: Some(c.active),
        }
    }
}

impl ImportReport {
    fn from_plan(categories: usize, plan: &ImportPlan) -> ImportReport {
        ImportReport {
            categories,
            added: plan.added.len(),
            updated: plan.changed.len(),
            deactivated: plan.deactivated.len(),
        }
    }
}

/// The whole catalog as the pages and the API read it, kept in memory (`store::cache`).
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    /// In catalog order.
    pub categories: Vec<CategoryRecord>,
    /// In catalog order, active or not.
    pub services: Vec<ServiceRecord>,
    pub center: Option<Center>,
}

impl CatalogSnapshot {
    pub fn active_services(&self) -> impl Iterator<Item = &ServiceRecord> {
        self.services.iter().filter(|s| s.active)
    }

    pub fn service(&self, code: &str) -> Option<&ServiceRecord> {
        self.services.iter().find(|s| s.code == code)
    }
}

/// Reads the whole catalog (three queries), for the cache.
pub async fn load_snapshot(db: DatabaseConnection) -> Result<CatalogSnapshot, DbErr> {
    Ok(CatalogSnapshot {
        categories: list_categories(&db).await?,
        services: list_services(&db, true).await?,
        center: center(&db).await?,
    })
}

/// The catalog from memory, reloaded when an edit or import changed it (here or elsewhere).
pub async fn snapshot(
    caches: &cache::Caches,
    db: &DatabaseConnection,
) -> Result<std::sync::Arc<CatalogSnapshot>, DbErr> {
    caches.catalog.get(db, load_snapshot).await
}

const CENTER_KEY: &str = "center";

fn channels_to_db(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(",")
}

fn channels_from_db(s: &str) -> Vec<Channel> {
    s.split(',').filter_map(Channel::from_code).collect()
}

fn to_category(m: category::Model) -> CategoryRecord {
    CategoryRecord {
        id: m.id,
        code: m.code,
        letter: m.letter,
        title: Text::new(m.title, m.title_en),
    }
}

fn to_service(m: service::Model, category: CategoryRecord) -> ServiceRecord {
    ServiceRecord {
        id: m.id,
        code: m.code,
        category,
        title: Text::new(m.title, m.title_en),
        duration: DurationRange {
            min: u32::try_from(m.duration_min).unwrap_or(0),
            max: m.duration_max.and_then(|v| u32::try_from(v).ok()),
        },
        duration_text: m.duration_text,
        channels: channels_from_db(&m.channels),
        channels_text: m.channels_text,
        planned_override: m
            .planned_minutes_override
            .and_then(|v| u32::try_from(v).ok()),
        active: m.active,
    }
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The catalog in the database as a file would say it, and the codes of inactive services.
/// Channels edited in the admin are written in the published words, so a re-import keeps them.
async fn current_catalog(db: &impl ConnectionTrait) -> Result<(Catalog, HashSet<String>), DbErr> {
    let categories = list_categories(db).await?;
    let services = list_services(db, true).await?;
    let center = center(db).await?.unwrap_or_else(|| Center {
        name: Text::new("", ""),
        phone: String::new(),
        website: String::new(),
        email: String::new(),
        address: Text::new("", ""),
    });
    let inactive = services
        .iter()
        .filter(|s| !s.active)
        .map(|s| s.code.clone())
        .collect();
    let catalog = Catalog {
        center,
        categories: categories
            .into_iter()
            .map(|c| Category {
                letter: c.letter.chars().next().unwrap_or('?'),
                code: c.code,
                title: c.title,
            })
            .collect(),
        services: services
            .into_iter()
            .map(|s| {
                let channels_text =
                    if parse_channels(&s.channels_text).ok().as_ref() == Some(&s.channels) {
                        s.channels_text
                    } else {
                        s.channels
                            .iter()
                            .map(|c| c.label().uk.to_lowercase())
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                Service {
                    code: s.code,
                    category: s.category.code,
                    title: s.title,
                    duration: s.duration,
                    duration_text: s.duration_text,
                    channels: s.channels,
                    channels_text,
                }
            })
            .collect(),
    };
    Ok((catalog, inactive))
}

/// The catalog in the database in the file format (`data/catalog.toml`): the active services,
/// with the titles and channels as edited. Importing it unchanged changes nothing.
pub async fn export(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let (mut catalog, inactive) = current_catalog(db).await?;
    catalog.services.retain(|s| !inactive.contains(&s.code));
    Ok(crate::domain::catalog::to_toml(&catalog))
}

/// What importing `catalog` would change, without changing anything.
pub async fn plan(db: &impl ConnectionTrait, catalog: &Catalog) -> Result<ImportPlan, DbErr> {
    let (current, inactive) = current_catalog(db).await?;
    Ok(plan_import(&current, &inactive, catalog))
}

/// Loads a catalog in one transaction. Categories and services are matched by code: an existing
/// service keeps its id (bookings and history keep pointing at it) and its admin override; a
/// service missing from the file is deactivated, never deleted. Only what differs is written;
/// the report counts what changed.
pub async fn import(db: &DatabaseConnection, catalog: &Catalog) -> Result<ImportReport, DbErr> {
    let txn = db.begin().await?;
    let plan = plan(&txn, catalog).await?;
    let report = ImportReport::from_plan(catalog.categories.len(), &plan);
    if plan.is_empty() {
        txn.commit().await?;
        return Ok(report);
    }
    let changed: HashSet<&str> = plan.changed.iter().map(|s| s.code.as_str()).collect();
    let existing: HashMap<String, category::Model> = category::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect();
    // Letters are unique; a file may swap two of them, so free the ones being reassigned first.
    for c in &catalog.categories {
        if let Some(old) = existing.get(&c.code) {
            let mut am = old.clone().into_active_model();
            am.letter = Set(format!("~{}", old.id));
            am.update(&txn).await?;
        }
    }
    let mut category_ids = HashMap::new();
    for (pos, c) in catalog.categories.iter().enumerate() {
        let model = match existing.get(&c.code) {
            Some(old) => {
                let mut am = old.clone().into_active_model();
                am.letter = Set(c.letter.to_string());
                am.title = Set(c.title.uk.clone());
                am.title_en = Set(c.title.en.clone());
                am.position = Set(pos as i32);
                am.update(&txn).await?
            }
            None => {
                category::ActiveModel {
                    code: Set(c.code.clone()),
                    letter: Set(c.letter.to_string()),
                    title: Set(c.title.uk.clone()),
                    title_en: Set(c.title.en.clone()),
                    position: Set(pos as i32),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };
        category_ids.insert(c.code.clone(), model.id);
    }

    let mut services: HashMap<String, service::Model> = service::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let now = super::now();
    for (pos, s) in catalog.services.iter().enumerate() {
        let category_id = *category_ids
            .get(&s.category)
            .ok_or_else(|| DbErr::Custom(format!("category {} not imported", s.category)))?;
        let mut am = match services.remove(&s.code) {
            Some(old) if !changed.contains(s.code.as_str()) && old.position == pos as i32 => {
                continue;
            }
            Some(old) => old.into_active_model(),
            None => service::ActiveModel {
                code: Set(s.code.clone()),
                planned_minutes_override: Set(None),
                ..Default::default()
            },
        };
        am.category_id = Set(category_id);
        am.title = Set(s.title.uk.clone());
        am.title_en = Set(s.title.en.clone());
        am.duration_text = Set(s.duration_text.clone());
        am.duration_min = Set(to_i32(s.duration.min));
        am.duration_max = Set(s.duration.max.map(to_i32));
        am.channels_text = Set(s.channels_text.clone());
        am.channels = Set(channels_to_db(&s.channels));
        am.active = Set(true);
        am.position = Set(pos as i32);
        am.updated_at = Set(now);
        am.save(&txn).await?;
    }
    for (_, old) in services {
        if old.active {
            let mut am = old.into_active_model();
            am.active = Set(false);
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
    }
    let center =
        serde_json::to_string(&catalog.center).map_err(|e| DbErr::Custom(e.to_string()))?;
    settings::put(&txn, CENTER_KEY, &center).await?;
    cache::bump_version(&txn, CACHE_NAME).await?;
    // why: until the admin saves contacts of their own, the home page shows the file's `[center]`.
    cache::bump_version(&txn, cache::CENTER).await?;
    txn.commit().await?;
    Ok(report)
}

pub async fn center(db: &impl ConnectionTrait) -> Result<Option<Center>, DbErr> {
    Ok(settings::get(db, CENTER_KEY)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(service::Entity::find().one(db).await?.is_none())
}

async fn categories_by_id(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, CategoryRecord>, DbErr> {
    Ok(category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, to_category(c)))
        .collect())
}

/// Categories in catalog order.
pub async fn list_categories(db: &impl ConnectionTrait) -> Result<Vec<CategoryRecord>, DbErr> {
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(to_category)
        .collect())
}

/// Services in catalog order (categories first, then the published order within each).
pub async fn list_services(
    db: &impl ConnectionTrait,
    include_inactive: bool,
) -> Result<Vec<ServiceRecord>, DbErr> {
    let categories = categories_by_id(db).await?;
    let mut query = service::Entity::find().order_by_asc(service::Column::Position);
    if !include_inactive {
        query = query.filter(service::Column::Active.eq(true));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            let cat = categories.get(&s.category_id)?.clone();
            Some(to_service(s, cat))
        })
        .collect())
}

async fn service_model(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::Code.eq(code))
        .one(db)
        .await
}

pub async fn find_service(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<ServiceRecord>, DbErr> {
    let Some(s) = service_model(db, code).await? else {
        return Ok(None);
    };
    let Some(cat) = category::Entity::find_by_id(s.category_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(to_service(s, to_category(cat))))
}

/// Applies an admin's edit in one transaction, marking the catalog changed for every instance.
pub async fn update_service(
    db: &DatabaseConnection,
    code: &str,
    edit: ServiceEdit,
) -> Result<Option<ServiceRecord>, DbErr> {
    let txn = db.begin().await?;
    let Some(s) = service_model(&txn, code).await? else {
        return Ok(None);
    };
    let mut am = s.into_active_model();
    if let Some(t) = edit.title {
        am.title = Set(t);
    }
    if let Some(t) = edit.title_en {
        am.title_en = Set(t);
    }
    if let Some(ch) = edit.channels {
        am.channels = Set(channels_to_db(&ch));
    }
    if let Some(p) = edit.planned_override {
        am.planned_minutes_override = Set(p.map(to_i32));
    }
    if let Some(a) = edit.active {
        am.active = Set(a);
    }
    am.updated_at = Set(super::now());
    am.update(&txn).await?;
    cache::bump_version(&txn, CACHE_NAME).await?;
    let updated = find_service(&txn, code).await?;
    txn.commit().await?;
    Ok(updated)
}
