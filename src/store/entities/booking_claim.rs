use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_claim")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub specialist_id: i32,
    /// Minutes since the Unix epoch (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub minute: i64,
    pub booking_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
