use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "office")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub address: String,
    pub address_en: String,
    pub timezone: String,
    pub slot_minutes: i32,
    pub walk_in_share_pct: i32,
    /// `office` or `contact_center` (added by the booking migration).
    pub kind: String,
    /// `false`: retired, not offered to residents (rows referring to it stay).
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
