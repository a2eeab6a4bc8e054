//! The live queue: desks, tickets, the per-office-day ticket counter, and the numbered board
//! events with their per-office sequence.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Specialist {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Service {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Desk {
    Table,
    Id,
    OfficeId,
    WindowLabel,
    SpecialistId,
    /// The staff user signed in at the desk.
    UserId,
    PausedReason,
    /// Priority tickets called in a row, for the ratio of call-next.
    PriorityStreak,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Ticket {
    Table,
    Id,
    OfficeId,
    /// Local day of issue, `YYYY-MM-DD` in the office's zone.
    Day,
    Number,
    Letter,
    Token,
    ServiceId,
    PriorityClass,
    Status,
    ArrivedAt,
    BookingId,
    AppointmentAt,
    DeskId,
    /// Set by a transfer to a desk: only that desk calls it.
    TargetDeskId,
    Recalls,
    CalledAt,
    StartedAt,
    FinishedAt,
    SpecialistId,
    StaffUserId,
    Outcome,
    Notes,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketCounter {
    Table,
    OfficeId,
    Day,
    LastNumber,
}

#[derive(DeriveIden)]
enum BoardSeq {
    Table,
    OfficeId,
    LastSeq,
}

#[derive(DeriveIden)]
enum BoardEvent {
    Table,
    Id,
    OfficeId,
    Seq,
    Kind,
    Payload,
    CreatedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Desk::Table)
                    .col(pk_auto(Desk::Id))
                    .col(integer(Desk::OfficeId))
                    .col(string(Desk::WindowLabel))
                    .col(integer_null(Desk::SpecialistId))
                    .col(integer_null(Desk::UserId))
                    .col(string_null(Desk::PausedReason))
                    .col(integer(Desk::PriorityStreak).default(0))
                    .col(timestamp_with_time_zone(Desk::UpdatedAt))
                    .foreign_key(&mut fk(
                        Desk::Table,
                        Desk::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .foreign_key(&mut fk(
                        Desk::Table,
                        Desk::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("desk_office_window")
                    .table(Desk::Table)
                    .col(Desk::OfficeId)
                    .col(Desk::WindowLabel)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Ticket::Table)
                    .col(pk_auto(Ticket::Id))
                    .col(integer(Ticket::OfficeId))
                    .col(string(Ticket::Day))
                    .col(integer(Ticket::Number))
                    .col(string(Ticket::Letter))
                    .col(string_uniq(Ticket::Token))
                    .col(integer(Ticket::ServiceId))
                    .col(string_null(Ticket::PriorityClass))
                    .col(string(Ticket::Status))
                    .col(timestamp_with_time_zone(Ticket::ArrivedAt))
                    // why: no foreign key yet; the booking table comes from another branch.
                    .col(integer_null(Ticket::BookingId))
                    .col(timestamp_with_time_zone_null(Ticket::AppointmentAt))
                    .col(integer_null(Ticket::DeskId))
                    .col(integer_null(Ticket::TargetDeskId))
                    .col(integer(Ticket::Recalls).default(0))
                    .col(timestamp_with_time_zone_null(Ticket::CalledAt))
                    .col(timestamp_with_time_zone_null(Ticket::StartedAt))
                    .col(timestamp_with_time_zone_null(Ticket::FinishedAt))
                    .col(integer_null(Ticket::SpecialistId))
                    .col(integer_null(Ticket::StaffUserId))
                    .col(string_null(Ticket::Outcome))
                    .col(text_null(Ticket::Notes))
                    .col(timestamp_with_time_zone(Ticket::UpdatedAt))
                    .foreign_key(&mut fk(
                        Ticket::Table,
                        Ticket::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .foreign_key(&mut fk(
                        Ticket::Table,
                        Ticket::ServiceId,
                        Service::Table,
                        Service::Id,
                    ))
                    .foreign_key(&mut fk(
                        Ticket::Table,
                        Ticket::DeskId,
                        Desk::Table,
                        Desk::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ticket_office_day_number")
                    .table(Ticket::Table)
                    .col(Ticket::OfficeId)
                    .col(Ticket::Day)
                    .col(Ticket::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ticket_office_status")
                    .table(Ticket::Table)
                    .col(Ticket::OfficeId)
                    .col(Ticket::Status)
                    .to_owned(),
            )
            .await?;
        // why: the database, not a check before the update, keeps a desk to one ticket at a
        // time. Partial indexes read the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ticket_one_per_desk ON ticket (desk_id) \
                 WHERE status IN ('called', 'in_service')",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketCounter::Table)
                    .col(integer(TicketCounter::OfficeId))
                    .col(string(TicketCounter::Day))
                    .col(integer(TicketCounter::LastNumber))
                    .primary_key(
                        Index::create()
                            .col(TicketCounter::OfficeId)
                            .col(TicketCounter::Day),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BoardSeq::Table)
                    .col(integer(BoardSeq::OfficeId).primary_key())
                    .col(big_integer(BoardSeq::LastSeq))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BoardEvent::Table)
                    .col(pk_auto(BoardEvent::Id))
                    .col(integer(BoardEvent::OfficeId))
                    .col(big_integer(BoardEvent::Seq))
                    .col(string(BoardEvent::Kind))
                    .col(text(BoardEvent::Payload))
                    .col(timestamp_with_time_zone(BoardEvent::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("board_event_office_seq")
                    .table(BoardEvent::Table)
                    .col(BoardEvent::OfficeId)
                    .col(BoardEvent::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BoardEvent::Table.into_iden(),
            BoardSeq::Table.into_iden(),
            TicketCounter::Table.into_iden(),
            Ticket::Table.into_iden(),
            Desk::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
