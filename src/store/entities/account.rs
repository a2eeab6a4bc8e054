use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub number: String,
    pub owner_name: String,
    pub address: String,
    /// Area in square centimetres: exact, integer, and 1 m² = 10 000.
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
    pub registered_residents: i32,
    pub created_at: DateTimeUtc,
    /// Added by the case migration: the building the premises are in.
    pub building_id: Option<i32>,
    /// Added by the case migration: bumped by every case operation, so operations on one
    /// account serialize (the UPDATE takes the row lock).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
