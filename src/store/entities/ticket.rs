use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub office_id: i32,
    pub day: String,
    pub number: i32,
    pub letter: String,
    #[sea_orm(unique)]
    pub token: String,
    pub service_id: i32,
    pub priority_class: Option<String>,
    pub status: String,
    pub arrived_at: DateTimeUtc,
    pub booking_id: Option<i32>,
    pub appointment_at: Option<DateTimeUtc>,
    pub desk_id: Option<i32>,
    pub target_desk_id: Option<i32>,
    pub recalls: i32,
    pub called_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub specialist_id: Option<i32>,
    pub staff_user_id: Option<i32>,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
