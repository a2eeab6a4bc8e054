//! Booking admin: any number of breaks per weekday of a specialist's schedule.
//! (`work_schedule.break_starts/ends` holds one; the admin pages write breaks here instead.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Specialist {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScheduleBreak {
    Table,
    Id,
    SpecialistId,
    Weekday,
    Starts,
    Ends,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScheduleBreak::Table)
                    .col(pk_auto(ScheduleBreak::Id))
                    .col(integer(ScheduleBreak::SpecialistId))
                    // 0 = Monday … 6 = Sunday; local "HH:MM".
                    .col(integer(ScheduleBreak::Weekday))
                    .col(string(ScheduleBreak::Starts))
                    .col(string(ScheduleBreak::Ends))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScheduleBreak::Table, ScheduleBreak::SpecialistId)
                            .to(Specialist::Table, Specialist::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_schedule_break_specialist")
                    .table(ScheduleBreak::Table)
                    .col(ScheduleBreak::SpecialistId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScheduleBreak::Table).to_owned())
            .await
    }
}
