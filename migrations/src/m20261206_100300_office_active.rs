//! Booking admin: an office can be retired (`office.active = false`) instead of deleted, since
//! bookings, tickets and cases refer to it. An inactive office is not offered to residents.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Office {
    Table,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Office::Table)
                    .add_column(boolean(Office::Active).default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Office::Table)
                    .drop_column(Office::Active)
                    .to_owned(),
            )
            .await
    }
}
