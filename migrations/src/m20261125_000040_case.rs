//! The case module: buildings, account facts (owners, benefits, subsidy, services, meters),
//! tariffs, the append-only ledger, cases with their audit trail, idempotency keys, documents and
//! charge runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    BuildingId,
    Version,
}

#[derive(DeriveIden)]
enum Building {
    Table,
    Id,
    Address,
    HeatMeterSerial,
}

#[derive(DeriveIden)]
enum AccountOwner {
    Table,
    Id,
    AccountId,
    Name,
    ShareNum,
    ShareDen,
}

#[derive(DeriveIden)]
enum AccountBenefit {
    Table,
    Id,
    AccountId,
    Category,
    SharePct,
    Persons,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum AccountSubsidy {
    Table,
    Id,
    AccountId,
    MonthlyKop,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum AccountService {
    Table,
    Id,
    AccountId,
    Service,
    Basis,
    Active,
}

#[derive(DeriveIden)]
enum Tariff {
    Table,
    Id,
    Service,
    PriceKop,
    NormMilli,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum Meter {
    Table,
    Id,
    AccountId,
    Service,
    Serial,
    SealedOn,
    VerificationDue,
}

#[derive(DeriveIden)]
enum MeterReading {
    Table,
    Id,
    MeterId,
    ReadOn,
    ValueMilli,
    CaseId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntry {
    Table,
    Id,
    AccountId,
    Period,
    Service,
    Kind,
    AmountKop,
    CaseId,
    RuleSet,
    RuleSetVersion,
    Explanation,
    Payer,
    PaidOn,
    UniqueKey,
    CreatedAt,
}

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
enum CaseAudit {
    Table,
    Id,
    CaseId,
    StaffId,
    Action,
    Detail,
    At,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Id,
    Scope,
    Key,
    Status,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseDocument {
    Table,
    Id,
    Token,
    OfficeId,
    Year,
    Number,
    Kind,
    CaseId,
    AccountNumber,
    IssuedOn,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChargeRun {
    Table,
    Id,
    Period,
    Status,
    LastAccountId,
    Posted,
    StartedAt,
    FinishedAt,
    LockedUntil,
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
                    .table(Building::Table)
                    .col(pk_auto(Building::Id))
                    .col(string(Building::Address))
                    .col(string_null(Building::HeatMeterSerial))
                    .to_owned(),
            )
            .await?;
        // why: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(integer_null(Account::BuildingId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(integer(Account::Version).default(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccountOwner::Table)
                    .col(pk_auto(AccountOwner::Id))
                    .col(integer(AccountOwner::AccountId))
                    .col(string(AccountOwner::Name))
                    .col(integer(AccountOwner::ShareNum))
                    .col(integer(AccountOwner::ShareDen))
                    .foreign_key(&mut fk(
                        AccountOwner::Table,
                        AccountOwner::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountBenefit::Table)
                    .col(pk_auto(AccountBenefit::Id))
                    .col(integer(AccountBenefit::AccountId))
                    .col(string(AccountBenefit::Category))
                    .col(integer(AccountBenefit::SharePct))
                    .col(integer(AccountBenefit::Persons))
                    .col(date(AccountBenefit::ValidFrom))
                    .col(date_null(AccountBenefit::ValidTo))
                    .foreign_key(&mut fk(
                        AccountBenefit::Table,
                        AccountBenefit::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountSubsidy::Table)
                    .col(pk_auto(AccountSubsidy::Id))
                    .col(integer(AccountSubsidy::AccountId))
                    .col(big_integer(AccountSubsidy::MonthlyKop))
                    .col(date(AccountSubsidy::ValidFrom))
                    .col(date_null(AccountSubsidy::ValidTo))
                    .foreign_key(&mut fk(
                        AccountSubsidy::Table,
                        AccountSubsidy::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountService::Table)
                    .col(pk_auto(AccountService::Id))
                    .col(integer(AccountService::AccountId))
                    .col(string(AccountService::Service))
                    .col(string(AccountService::Basis))
                    .col(boolean(AccountService::Active).default(true))
                    .foreign_key(&mut fk(
                        AccountService::Table,
                        AccountService::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .index(
                        Index::create()
                            .unique()
                            .col(AccountService::AccountId)
                            .col(AccountService::Service),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tariff::Table)
                    .col(pk_auto(Tariff::Id))
                    .col(string(Tariff::Service))
                    .col(big_integer(Tariff::PriceKop))
                    // why: a norm-based charge is the unit tariff times the norm per person
                    // (thousandths of m³ or kWh a month), so one tariff serves metered and
                    // unmetered dwellings alike.
                    .col(big_integer(Tariff::NormMilli).default(1000))
                    .col(date(Tariff::ValidFrom))
                    .col(date_null(Tariff::ValidTo))
                    .index(
                        Index::create()
                            .unique()
                            .col(Tariff::Service)
                            .col(Tariff::ValidFrom),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Meter::Table)
                    .col(pk_auto(Meter::Id))
                    .col(integer(Meter::AccountId))
                    .col(string(Meter::Service))
                    .col(string(Meter::Serial))
                    .col(date_null(Meter::SealedOn))
                    .col(date_null(Meter::VerificationDue))
                    .foreign_key(&mut fk(
                        Meter::Table,
                        Meter::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeterReading::Table)
                    .col(pk_auto(MeterReading::Id))
                    .col(integer(MeterReading::MeterId))
                    .col(date(MeterReading::ReadOn))
                    .col(big_integer(MeterReading::ValueMilli))
                    .col(integer_null(MeterReading::CaseId))
                    .col(timestamp_with_time_zone(MeterReading::CreatedAt))
                    .foreign_key(&mut fk(
                        MeterReading::Table,
                        MeterReading::MeterId,
                        Meter::Table,
                        Meter::Id,
                    ))
                    .index(
                        Index::create()
                            .unique()
                            .col(MeterReading::MeterId)
                            .col(MeterReading::ReadOn),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VisitCase::Table)
                    .col(pk_auto(VisitCase::Id))
                    .col(integer(VisitCase::AccountId))
                    .col(string(VisitCase::ServiceCode))
                    .col(integer_null(VisitCase::OfficeId))
                    .col(integer(VisitCase::StaffId))
                    // why: plain integers, no foreign keys yet: tickets and bookings are built on
                    // other branches and linked after the merge.
                    .col(integer_null(VisitCase::TicketId))
                    .col(integer_null(VisitCase::BookingId))
                    .col(string(VisitCase::Status))
                    .col(string_null(VisitCase::Outcome))
                    .col(text_null(VisitCase::OutcomeReason))
                    .col(text(VisitCase::DocumentsSeen))
                    .col(text(VisitCase::Notes))
                    .col(timestamp_with_time_zone(VisitCase::OpenedAt))
                    .col(timestamp_with_time_zone_null(VisitCase::ClosedAt))
                    .foreign_key(&mut fk(
                        VisitCase::Table,
                        VisitCase::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseAudit::Table)
                    .col(pk_auto(CaseAudit::Id))
                    .col(integer(CaseAudit::CaseId))
                    .col(integer(CaseAudit::StaffId))
                    .col(string(CaseAudit::Action))
                    .col(text(CaseAudit::Detail))
                    .col(timestamp_with_time_zone(CaseAudit::At))
                    .foreign_key(&mut fk(
                        CaseAudit::Table,
                        CaseAudit::CaseId,
                        VisitCase::Table,
                        VisitCase::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LedgerEntry::Table)
                    .col(pk_auto(LedgerEntry::Id))
                    .col(integer(LedgerEntry::AccountId))
                    .col(string(LedgerEntry::Period))
                    .col(string(LedgerEntry::Service))
                    .col(string(LedgerEntry::Kind))
                    .col(big_integer(LedgerEntry::AmountKop))
                    .col(integer_null(LedgerEntry::CaseId))
                    .col(string_null(LedgerEntry::RuleSet))
                    .col(integer_null(LedgerEntry::RuleSetVersion))
                    .col(text_null(LedgerEntry::Explanation))
                    .col(string_null(LedgerEntry::Payer))
                    .col(date_null(LedgerEntry::PaidOn))
                    // why: what must be posted at most once (a month's charge of a service, one
                    // absence's reduction of a month and service, a payment attached) carries a
                    // key; the unique index makes a second post a conflict on every database and
                    // under any concurrency. Other entries leave it NULL (NULLs never collide).
                    .col(string_null(LedgerEntry::UniqueKey))
                    .col(timestamp_with_time_zone(LedgerEntry::CreatedAt))
                    .foreign_key(&mut fk(
                        LedgerEntry::Table,
                        LedgerEntry::AccountId,
                        Account::Table,
                        Account::Id,
                    ))
                    .index(
                        Index::create()
                            .name("ux_ledger_entry_key")
                            .unique()
                            .col(LedgerEntry::AccountId)
                            .col(LedgerEntry::UniqueKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_entry_account_period")
                    .table(LedgerEntry::Table)
                    .col(LedgerEntry::AccountId)
                    .col(LedgerEntry::Period)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_entry_paid_on")
                    .table(LedgerEntry::Table)
                    .col(LedgerEntry::PaidOn)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(pk_auto(IdempotencyKey::Id))
                    .col(string(IdempotencyKey::Scope))
                    .col(string(IdempotencyKey::Key))
                    .col(integer(IdempotencyKey::Status))
                    .col(text(IdempotencyKey::Body))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .index(
                        Index::create()
                            .name("ux_idempotency_key")
                            .unique()
                            .col(IdempotencyKey::Scope)
                            .col(IdempotencyKey::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseDocument::Table)
                    .col(pk_auto(CaseDocument::Id))
                    .col(string_uniq(CaseDocument::Token))
                    .col(integer(CaseDocument::OfficeId))
                    .col(integer(CaseDocument::Year))
                    .col(integer(CaseDocument::Number))
                    .col(string(CaseDocument::Kind))
                    .col(integer(CaseDocument::CaseId))
                    .col(string(CaseDocument::AccountNumber))
                    .col(date(CaseDocument::IssuedOn))
                    .col(text(CaseDocument::Body))
                    .col(timestamp_with_time_zone(CaseDocument::CreatedAt))
                    .foreign_key(&mut fk(
                        CaseDocument::Table,
                        CaseDocument::CaseId,
                        VisitCase::Table,
                        VisitCase::Id,
                    ))
                    .index(
                        Index::create()
                            .name("ux_case_document_number")
                            .unique()
                            .col(CaseDocument::OfficeId)
                            .col(CaseDocument::Year)
                            .col(CaseDocument::Number),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChargeRun::Table)
                    .col(pk_auto(ChargeRun::Id))
                    .col(string_uniq(ChargeRun::Period))
                    .col(string(ChargeRun::Status))
                    .col(integer(ChargeRun::LastAccountId).default(0))
                    .col(big_integer(ChargeRun::Posted).default(0))
                    .col(timestamp_with_time_zone(ChargeRun::StartedAt))
                    .col(timestamp_with_time_zone_null(ChargeRun::FinishedAt))
                    .col(timestamp_with_time_zone_null(ChargeRun::LockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ChargeRun::Table.into_iden(),
            CaseDocument::Table.into_iden(),
            IdempotencyKey::Table.into_iden(),
            LedgerEntry::Table.into_iden(),
            CaseAudit::Table.into_iden(),
            VisitCase::Table.into_iden(),
            MeterReading::Table.into_iden(),
            Meter::Table.into_iden(),
            Tariff::Table.into_iden(),
            AccountService::Table.into_iden(),
            AccountSubsidy::Table.into_iden(),
            AccountBenefit::Table.into_iden(),
            AccountOwner::Table.into_iden(),
            Building::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for col in [Account::Version, Account::BuildingId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Account::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
