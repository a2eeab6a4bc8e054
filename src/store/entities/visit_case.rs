//! Table of the case module (migrations m20261125_000040_case, m20261206_000004_visit_case).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_case")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// None until an account is attached (a walk-in visit finished before it was known).
    pub account_id: Option<i32>,
    pub service_code: String,
    pub office_id: Option<i32>,
    pub staff_id: i32,
    pub ticket_id: Option<i32>,
    pub booking_id: Option<i32>,
    pub status: String,
    pub outcome: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome_reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub documents_seen: String,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
