use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub category_id: i32,
    pub title: String,
    pub title_en: String,
    pub duration_text: String,
    pub duration_min: i32,
    pub duration_max: Option<i32>,
    pub channels_text: String,
    /// Channel codes joined by commas, in the published order.
    pub channels: String,
    pub planned_minutes_override: Option<i32>,
    pub active: bool,
    pub position: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
