//! Booking mail and fair access: the short confirmation code from the mail (its hash and the
//! wrong tries), the manage token sealed with the confirmation token (so confirming can mail
//! the manage link), and one lock row per person so the per-person caps hold under concurrency.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Booking {
    Table,
    ConfirmCodeHash,
    ConfirmFailures,
    ManageTokenSealed,
}

#[derive(DeriveIden)]
enum BookingPerson {
    Table,
    PersonKey,
    TouchedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .add_column(string_null(Booking::ConfirmCodeHash))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .add_column(integer(Booking::ConfirmFailures).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .add_column(string_null(Booking::ManageTokenSealed))
                    .to_owned(),
            )
            .await?;
        // `phone:380…`, `email:…`, `account:…`: the row a booking locks before it counts the
        // person's active bookings.
        manager
            .create_table(
                Table::create()
                    .table(BookingPerson::Table)
                    .col(string(BookingPerson::PersonKey).primary_key())
                    .col(timestamp_with_time_zone(BookingPerson::TouchedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BookingPerson::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .drop_column(Booking::ManageTokenSealed)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .drop_column(Booking::ConfirmFailures)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Booking::Table)
                    .drop_column(Booking::ConfirmCodeHash)
                    .to_owned(),
            )
            .await
    }
}
