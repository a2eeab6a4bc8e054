//! Check-in: one ticket per booking. A booking checked in twice (a double tap at the kiosk, two
//! kiosks, the call-back worker on two instances) finds the ticket already there.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // why: the database, not a read before the insert, keeps a booking to one ticket.
        // Partial indexes read the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ticket_one_per_booking ON ticket (booking_id) \
                 WHERE booking_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ticket_one_per_booking")
            .await?;
        Ok(())
    }
}
