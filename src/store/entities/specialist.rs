use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "specialist")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub office_id: i32,
    pub user_id: Option<i32>,
    pub name: String,
    pub window_label: String,
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
