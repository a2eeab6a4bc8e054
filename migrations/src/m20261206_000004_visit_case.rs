//! A visit's case: finishing a ticket opens (or completes) its case, which may not know the
//! account yet. `visit_case.account_id` becomes nullable, `ticket_id` and `booking_id` get their
//! foreign keys, and one ticket has at most one case.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VisitCase {
    Table,
    Id,
    AccountId,
    ServiceCode,
    OfficeId,
    StaffId,
    TicketId,
    BookingId,
    Status,
    Outcome,
    OutcomeReason,
    DocumentsSeen,
    Notes,
    OpenedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Ticket {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    Id,
}

const COLUMNS: &str = "id, account_id, service_code, office_id, staff_id, ticket_id, booking_id, \
     status, outcome, outcome_reason, documents_seen, notes, opened_at, closed_at";

/// References that cannot hold once the keys exist: a ticket or booking id that names no row
/// (cases were opened before tickets and bookings were checked), and a second case of one ticket.
const CLEAN: [&str; 3] = [
    "UPDATE visit_case SET ticket_id = NULL WHERE ticket_id IS NOT NULL \
     AND ticket_id NOT IN (SELECT id FROM ticket)",
    "UPDATE visit_case SET booking_id = NULL WHERE booking_id IS NOT NULL \
     AND booking_id NOT IN (SELECT id FROM booking)",
    "UPDATE visit_case SET ticket_id = NULL WHERE ticket_id IS NOT NULL AND id > \
     (SELECT MIN(v2.id) FROM visit_case v2 WHERE v2.ticket_id = visit_case.ticket_id)",
];

fn new_table() -> TableCreateStatement {
    Table::create()
        .table(VisitCase::Table)
        .col(pk_auto(VisitCase::Id))
        .col(integer_null(VisitCase::AccountId))
        .col(string(VisitCase::ServiceCode))
        .col(integer_null(VisitCase::OfficeId))
        .col(integer(VisitCase::StaffId))
        .col(integer_null(VisitCase::TicketId))
        .col(integer_null(VisitCase::BookingId))
        .col(string(VisitCase::Status))
        .col(string_null(VisitCase::Outcome))
        .col(text_null(VisitCase::OutcomeReason))
        .col(text(VisitCase::DocumentsSeen))
        .col(text(VisitCase::Notes))
        .col(timestamp_with_time_zone(VisitCase::OpenedAt))
        .col(timestamp_with_time_zone_null(VisitCase::ClosedAt))
        .foreign_key(
            ForeignKey::create()
                .from(VisitCase::Table, VisitCase::AccountId)
                .to(Account::Table, Account::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(VisitCase::Table, VisitCase::TicketId)
                .to(Ticket::Table, Ticket::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(VisitCase::Table, VisitCase::BookingId)
                .to(Booking::Table, Booking::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // why: the SQLite table rebuild below must be all or nothing, and `defer_foreign_keys` only
    // lasts for one transaction.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in CLEAN {
            db.execute_unprepared(sql).await?;
        }
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // why: SQLite cannot drop NOT NULL or add a foreign key to an existing column, so
                // the table is rebuilt. Renaming it away would also rename the references of
                // case_audit and case_document, so the rows are copied aside instead; deferring
                // the foreign keys lets the children point at no row between the DROP and the
                // copy back, and the commit checks that each of them found its row again.
                db.execute_unprepared("PRAGMA defer_foreign_keys = ON")
                    .await?;
                db.execute_unprepared("CREATE TABLE visit_case_copy AS SELECT * FROM visit_case")
                    .await?;
                db.execute_unprepared("DROP TABLE visit_case").await?;
                manager.create_table(new_table()).await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO visit_case ({COLUMNS}) SELECT {COLUMNS} FROM visit_case_copy"
                ))
                .await?;
                db.execute_unprepared("DROP TABLE visit_case_copy").await?;
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE visit_case ALTER COLUMN account_id DROP NOT NULL",
                )
                .await?;
                for (name, col, table) in [
                    ("fk_visit_case_ticket", "ticket_id", "ticket"),
                    ("fk_visit_case_booking", "booking_id", "booking"),
                ] {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE visit_case ADD CONSTRAINT {name} FOREIGN KEY ({col}) \
                         REFERENCES {table} (id) ON DELETE RESTRICT"
                    ))
                    .await?;
                }
            }
        }
        // why: a partial index, so that the many cases opened without a ticket never meet in it;
        // both databases accept the same statement.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_visit_case_ticket ON visit_case (ticket_id) \
             WHERE ticket_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_visit_case_booking ON visit_case (booking_id) \
             WHERE booking_id IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_visit_case_booking")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ux_visit_case_ticket")
            .await?;
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            for name in ["fk_visit_case_ticket", "fk_visit_case_booking"] {
                db.execute_unprepared(&format!(
                    "ALTER TABLE visit_case DROP CONSTRAINT IF EXISTS {name}"
                ))
                .await?;
            }
        }
        // why: cases without an account may exist by now; NOT NULL is not restored.
        Ok(())
    }
}
