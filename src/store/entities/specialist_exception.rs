use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "specialist_exception")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub specialist_id: i32,
    pub day: Date,
    /// `leave`, `sick` or `extra`.
    pub kind: String,
    pub starts: Option<String>,
    pub ends: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
