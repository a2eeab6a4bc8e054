//! A desk belongs to one active specialist of its office, by a partial unique index.
//!
//! why: the store checked it with a read before the write, which on PostgreSQL two admins saving
//! at once could both pass. Retired specialists keep their old label and may share it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // why: two active specialists already on one desk (possible before this index): the
        // later ones get the label marked with their id, for the admin to fix, rather than the
        // migration failing or one of them being retired unasked.
        db.execute_unprepared(
            "UPDATE specialist SET window_label = window_label || ' #' || CAST(id AS VARCHAR(12)) \
             WHERE active AND id > (SELECT MIN(s2.id) FROM specialist s2 \
             WHERE s2.office_id = specialist.office_id \
             AND s2.window_label = specialist.window_label AND s2.active)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_specialist_active_desk ON specialist (office_id, window_label) \
             WHERE active",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ux_specialist_active_desk")
            .await?;
        Ok(())
    }
}
