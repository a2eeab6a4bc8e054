use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_attachment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub outbox_id: i32,
    pub filename: String,
    pub content_type: String,
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
