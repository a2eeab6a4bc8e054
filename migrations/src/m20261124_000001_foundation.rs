//! Offices, the service catalog, staff and their sessions, specialists and sample accounts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    Address,
    AddressEn,
    Timezone,
    SlotMinutes,
    WalkInSharePct,
}

#[derive(DeriveIden)]
enum OfficeHours {
    Table,
    Id,
    OfficeId,
    Weekday,
    Opens,
    Closes,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    Id,
    Code,
    Letter,
    Title,
    TitleEn,
    Position,
}

#[derive(DeriveIden)]
enum Service {
    Table,
    Id,
    Code,
    CategoryId,
    Title,
    TitleEn,
    DurationText,
    DurationMin,
    DurationMax,
    ChannelsText,
    Channels,
    PlannedMinutesOverride,
    Active,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffUser {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    DisplayName,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StaffSession {
    Table,
    TokenHash,
    UserId,
    Kind,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Specialist {
    Table,
    Id,
    OfficeId,
    UserId,
    Name,
    WindowLabel,
    Active,
}

#[derive(DeriveIden)]
enum SpecialistSkill {
    Table,
    SpecialistId,
    ServiceId,
}

#[derive(DeriveIden)]
enum WorkSchedule {
    Table,
    Id,
    SpecialistId,
    Weekday,
    Starts,
    Ends,
    BreakStarts,
    BreakEnds,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Number,
    OwnerName,
    Address,
    TotalAreaCm2,
    HeatedAreaCm2,
    RegisteredResidents,
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
                    .table(Setting::Table)
                    .col(string(Setting::Key).primary_key())
                    .col(text(Setting::Value))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Office::Table)
                    .col(pk_auto(Office::Id))
                    .col(string_uniq(Office::Code))
                    .col(string(Office::Name))
                    .col(string(Office::NameEn))
                    .col(string(Office::Address))
                    .col(string(Office::AddressEn))
                    .col(string(Office::Timezone))
                    .col(integer(Office::SlotMinutes))
                    .col(integer(Office::WalkInSharePct))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OfficeHours::Table)
                    .col(pk_auto(OfficeHours::Id))
                    .col(integer(OfficeHours::OfficeId))
                    .col(integer(OfficeHours::Weekday))
                    .col(string(OfficeHours::Opens))
                    .col(string(OfficeHours::Closes))
                    .foreign_key(&mut fk(
                        OfficeHours::Table,
                        OfficeHours::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .index(
                        Index::create()
                            .unique()
                            .col(OfficeHours::OfficeId)
                            .col(OfficeHours::Weekday),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Category::Table)
                    .col(pk_auto(Category::Id))
                    .col(string_uniq(Category::Code))
                    .col(string_uniq(Category::Letter))
                    .col(text(Category::Title))
                    .col(text(Category::TitleEn))
                    .col(integer(Category::Position))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Service::Table)
                    .col(pk_auto(Service::Id))
                    .col(string_uniq(Service::Code))
                    .col(integer(Service::CategoryId))
                    .col(text(Service::Title))
                    .col(text(Service::TitleEn))
                    .col(string(Service::DurationText))
                    .col(integer(Service::DurationMin))
                    .col(integer_null(Service::DurationMax))
                    .col(string(Service::ChannelsText))
                    .col(string(Service::Channels))
                    .col(integer_null(Service::PlannedMinutesOverride))
                    .col(boolean(Service::Active).default(true))
                    .col(integer(Service::Position))
                    .col(timestamp_with_time_zone(Service::UpdatedAt))
                    .foreign_key(&mut fk(
                        Service::Table,
                        Service::CategoryId,
                        Category::Table,
                        Category::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffUser::Table)
                    .col(pk_auto(StaffUser::Id))
                    .col(string_uniq(StaffUser::Username))
                    .col(string(StaffUser::PasswordHash))
                    .col(string(StaffUser::Role))
                    .col(string(StaffUser::DisplayName))
                    .col(boolean(StaffUser::Active).default(true))
                    .col(timestamp_with_time_zone(StaffUser::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffSession::Table)
                    .col(string(StaffSession::TokenHash).primary_key())
                    .col(integer(StaffSession::UserId))
                    .col(string(StaffSession::Kind))
                    .col(timestamp_with_time_zone(StaffSession::CreatedAt))
                    .col(timestamp_with_time_zone(StaffSession::ExpiresAt))
                    .foreign_key(&mut fk(
                        StaffSession::Table,
                        StaffSession::UserId,
                        StaffUser::Table,
                        StaffUser::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Specialist::Table)
                    .col(pk_auto(Specialist::Id))
                    .col(integer(Specialist::OfficeId))
                    .col(integer_null(Specialist::UserId))
                    .col(string(Specialist::Name))
                    .col(string(Specialist::WindowLabel))
                    .col(boolean(Specialist::Active).default(true))
                    .foreign_key(&mut fk(
                        Specialist::Table,
                        Specialist::OfficeId,
                        Office::Table,
                        Office::Id,
                    ))
                    .foreign_key(&mut fk(
                        Specialist::Table,
                        Specialist::UserId,
                        StaffUser::Table,
                        StaffUser::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SpecialistSkill::Table)
                    .col(integer(SpecialistSkill::SpecialistId))
                    .col(integer(SpecialistSkill::ServiceId))
                    .primary_key(
                        Index::create()
                            .col(SpecialistSkill::SpecialistId)
                            .col(SpecialistSkill::ServiceId),
                    )
                    .foreign_key(&mut fk(
                        SpecialistSkill::Table,
                        SpecialistSkill::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .foreign_key(&mut fk(
                        SpecialistSkill::Table,
                        SpecialistSkill::ServiceId,
                        Service::Table,
                        Service::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkSchedule::Table)
                    .col(pk_auto(WorkSchedule::Id))
                    .col(integer(WorkSchedule::SpecialistId))
                    .col(integer(WorkSchedule::Weekday))
                    .col(string(WorkSchedule::Starts))
                    .col(string(WorkSchedule::Ends))
                    .col(string_null(WorkSchedule::BreakStarts))
                    .col(string_null(WorkSchedule::BreakEnds))
                    .foreign_key(&mut fk(
                        WorkSchedule::Table,
                        WorkSchedule::SpecialistId,
                        Specialist::Table,
                        Specialist::Id,
                    ))
                    .index(
                        Index::create()
                            .unique()
                            .col(WorkSchedule::SpecialistId)
                            .col(WorkSchedule::Weekday),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(pk_auto(Account::Id))
                    .col(string_uniq(Account::Number))
                    .col(string(Account::OwnerName))
                    .col(string(Account::Address))
                    .col(big_integer(Account::TotalAreaCm2))
                    .col(big_integer(Account::HeatedAreaCm2))
                    .col(integer(Account::RegisteredResidents))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_service_category")
                    .table(Service::Table)
                    .col(Service::CategoryId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_session_user")
                    .table(StaffSession::Table)
                    .col(StaffSession::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Account::Table.into_iden(),
            WorkSchedule::Table.into_iden(),
            SpecialistSkill::Table.into_iden(),
            Specialist::Table.into_iden(),
            StaffSession::Table.into_iden(),
            StaffUser::Table.into_iden(),
            Service::Table.into_iden(),
            Category::Table.into_iden(),
            OfficeHours::Table.into_iden(),
            Office::Table.into_iden(),
            Setting::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
