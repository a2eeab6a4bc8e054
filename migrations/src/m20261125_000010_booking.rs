//! Online booking: office kind, closed days, specialist exceptions and walk-in periods,
//! bookings and the claims that make two overlapping bookings of one specialist impossible.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
    Kind,
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
enum OfficeClosure {
    Table,
    Id,
    OfficeId,
    Day,
    Reason,
    ReasonEn,
}

#[derive(DeriveIden)]
enum SpecialistException {
    Table,
    Id,
    SpecialistId,
    Day,
    Kind,
    Starts,
    Ends,
}

#[derive(DeriveIden)]
enum WalkInPeriod {
    Table,
    Id,
    SpecialistId,
    Weekday,
    Starts,
    Ends,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    Id,
    Code,
    OfficeId,
    ServiceId,
    SpecialistId,
    Channel,
    StartsAt,
    EndsAt,
    Status,
    Name,
    Phone,
    Email,
    Account,
    PhoneNorm,
    EmailNorm,
    Lang,
    ManageTokenHash,
    ConfirmTokenHash,
    HoldExpiresAt,
    ReleaseAt,
    LockedUntil,
    ClientIp,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BookingClaim {
    Table,
    SpecialistId,
    Minute,
    BookingId,
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
        // `office` or `contact_center` (call-backs served from the contact center's queue).
        manager
            .alter_table(
                Table::alter()
                    .table(Office::Table)
                    .add_column(string(Office::Kind).default("office"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OfficeClosure::Table)
                    .col(pk_auto(OfficeClosure::Id))
                    .col(integer(OfficeClosure::OfficeId))
                    .col(date(OfficeClosure::Day))
                    .col(string(OfficeClosure::Reason))
                    .col(string(OfficeClosure::ReasonEn))
                    .foreign_key(&mut fk(
                        OfficeClosure::Table,
                        OfficeClosure::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .index(
                        Index::create()
                            .unique()
                            .col(OfficeClosure::OfficeId)
                            .col(OfficeClosure::Day),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SpecialistException::Table)
                    .col(pk_auto(SpecialistException::Id))
                    .col(integer(SpecialistException::SpecialistId))
                    .col(date(SpecialistException::Day))
                    // `leave`, `sick` (time off) or `extra` (an extra shift).
                    .col(string(SpecialistException::Kind))
                    // Local HH:MM; both null means the whole day.
                    .col(string_null(SpecialistException::Starts))
                    .col(string_null(SpecialistException::Ends))
                    .foreign_key(&mut fk(
                        SpecialistException::Table,
                        SpecialistException::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WalkInPeriod::Table)
                    .col(pk_auto(WalkInPeriod::Id))
                    .col(integer(WalkInPeriod::SpecialistId))
                    .col(integer(WalkInPeriod::Weekday))
                    .col(string(WalkInPeriod::Starts))
                    .col(string(WalkInPeriod::Ends))
                    .foreign_key(&mut fk(
                        WalkInPeriod::Table,
                        WalkInPeriod::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Booking::Table)
                    .col(pk_auto(Booking::Id))
                    .col(string(Booking::Code))
                    .col(integer(Booking::OfficeId))
                    .col(integer(Booking::ServiceId))
                    .col(integer(Booking::SpecialistId))
                    .col(string(Booking::Channel))
                    .col(timestamp_with_time_zone(Booking::StartsAt))
                    .col(timestamp_with_time_zone(Booking::EndsAt))
                    .col(string(Booking::Status))
                    .col(string(Booking::Name))
                    .col(string_null(Booking::Phone))
                    .col(string_null(Booking::Email))
                    .col(string_null(Booking::Account))
                    .col(string_null(Booking::PhoneNorm))
                    .col(string_null(Booking::EmailNorm))
                    .col(string(Booking::Lang))
                    .col(string_uniq(Booking::ManageTokenHash))
                    .col(string_null(Booking::ConfirmTokenHash))
                    .col(timestamp_with_time_zone_null(Booking::HoldExpiresAt))
                    .col(timestamp_with_time_zone_null(Booking::ReleaseAt))
                    .col(timestamp_with_time_zone_null(Booking::LockedUntil))
                    .col(string_null(Booking::ClientIp))
                    .col(timestamp_with_time_zone(Booking::CreatedAt))
                    .col(timestamp_with_time_zone(Booking::UpdatedAt))
                    .foreign_key(&mut fk(
                        Booking::Table,
                        Booking::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .foreign_key(&mut fk(
                        Booking::Table,
                        Booking::ServiceId,
                        Service::Table,
                        Service::Id,
                    ))
                    .foreign_key(&mut fk(
                        Booking::Table,
                        Booking::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [(
            "idx_booking_office_code",
            vec![Booking::OfficeId, Booking::Code],
        )] {
            let mut idx = Index::create();
            idx.name(name).table(Booking::Table).unique();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        for (name, cols) in [
            (
                "idx_booking_office_start",
                vec![Booking::OfficeId, Booking::StartsAt],
            ),
            (
                "idx_booking_specialist_start",
                vec![Booking::SpecialistId, Booking::StartsAt],
            ),
            (
                "idx_booking_status",
                vec![Booking::Status, Booking::HoldExpiresAt],
            ),
            ("idx_booking_phone", vec![Booking::PhoneNorm]),
            ("idx_booking_email", vec![Booking::EmailNorm]),
            ("idx_booking_account", vec![Booking::Account]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Booking::Table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }

        // why: one row per (specialist, minute) a live booking occupies, under the primary key.
        // Two overlapping bookings of one specialist would need the same row twice, so the
        // database refuses the second, on SQLite and PostgreSQL, across any number of instances.
        manager
            .create_table(
                Table::create()
                    .table(BookingClaim::Table)
                    .col(integer(BookingClaim::SpecialistId))
                    // Minutes since the Unix epoch (UTC).
                    .col(big_integer(BookingClaim::Minute))
                    .col(integer(BookingClaim::BookingId))
                    .primary_key(
                        Index::create()
                            .name("pk_booking_claim")
                            .col(BookingClaim::SpecialistId)
                            .col(BookingClaim::Minute),
                    )
                    .foreign_key(&mut fk(
                        BookingClaim::Table,
                        BookingClaim::BookingId,
                        Booking::Table,
                        Booking::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_booking_claim_booking")
                    .table(BookingClaim::Table)
                    .col(BookingClaim::BookingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BookingClaim::Table.into_iden(),
            Booking::Table.into_iden(),
            WalkInPeriod::Table.into_iden(),
            SpecialistException::Table.into_iden(),
            OfficeClosure::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Office::Table)
                    .drop_column(Office::Kind)
                    .to_owned(),
            )
            .await
    }
}
