//! One case per booking, and idempotency keys that remember their request.
//!
//! `visit_case.booking_id` gets a partial unique index (as `ticket_id` has), replacing the plain
//! one; `idempotency_key` gets `fingerprint`, a digest of the request the key was first used for,
//! so the same key sent with another request is refused instead of answered with the first result.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // why: a booking with two cases (possible before this index) keeps the link on its first
        // case; the later ones keep everything else, and their audit trail still names the booking.
        db.execute_unprepared(
            "UPDATE visit_case SET booking_id = NULL WHERE booking_id IS NOT NULL AND id > \
             (SELECT MIN(v2.id) FROM visit_case v2 WHERE v2.booking_id = visit_case.booking_id)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_visit_case_booking")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_visit_case_booking ON visit_case (booking_id) \
             WHERE booking_id IS NOT NULL",
        )
        .await?;
        // why: NULL for keys stored before: those are taken as matching any request, as they did.
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKey::Table)
                    .add_column(string_null(IdempotencyKey::Fingerprint))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKey::Table)
                    .drop_column(IdempotencyKey::Fingerprint)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ux_visit_case_booking")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_visit_case_booking ON visit_case (booking_id) \
             WHERE booking_id IS NOT NULL",
        )
        .await?;
        Ok(())
    }
}
