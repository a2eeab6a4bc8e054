use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_break")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub specialist_id: i32,
    pub weekday: i32,
    pub starts: String,
    pub ends: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
