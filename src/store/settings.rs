//! Key/value settings kept in the database (the center's contacts, first-start markers).

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::setting;

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .map(|s| s.value))
}

/// Several settings in one read, in the order of `keys` (none where unset).
pub async fn get_many(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<Vec<Option<String>>, DbErr> {
    let rows: std::collections::HashMap<String, String> = setting::Entity::find()
        .filter(setting::Column::Key.is_in(keys.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.key, s.value))
        .collect();
    Ok(keys.iter().map(|k| rows.get(k).cloned()).collect())
}

pub async fn put(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
