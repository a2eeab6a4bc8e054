use sea_orm::entity::prelude::*;

/// One row per person key (`phone:…`, `email:…`, `account:…`), locked by a booking
/// transaction while it counts that person's active bookings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_key: String,
    pub touched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
