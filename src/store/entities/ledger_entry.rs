//! Table of the case module (migration m20261125_000040_case).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub account_id: i32,
    pub period: String,
    pub service: String,
    pub kind: String,
    pub amount_kop: i64,
    pub case_id: Option<i32>,
    pub rule_set: Option<String>,
    pub rule_set_version: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub explanation: Option<String>,
    pub payer: Option<String>,
    pub paid_on: Option<Date>,
    pub unique_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
