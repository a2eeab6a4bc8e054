//! Ledger indexes that the charge run does not pay for (issue 7, item 9).
//!
//! - `idx_ledger_entry_paid_on` gives way to the partial `idx_ledger_entry_payment_paid_on`
//!   (`WHERE paid_on IS NOT NULL`): only payments have a payment date, and the payment search (the index's one reader) asks for payments, so charges,
//!   credits and corrections no longer add an entry each to it.
//! - `idx_ledger_entry_account_period` is dropped: every ledger query by account (statement,
//!   period ranges, counts, the charge run's unique keys) is served by the unique
//!   `ux_ledger_entry_key (account_id, unique_key)`, whose first column is the account; one
//!   account's entries (a few hundred over years) are sorted by period after the seek.
//! - `account_benefit`, `account_subsidy` and `meter` get an index on `account_id`: the charge run
//!   reads them by a batch's range of accounts, which without one scans the whole table per batch.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 6] = [
    "CREATE INDEX idx_ledger_entry_payment_paid_on ON ledger_entry (paid_on) \
     WHERE paid_on IS NOT NULL",
    "DROP INDEX idx_ledger_entry_paid_on",
    "DROP INDEX idx_ledger_entry_account_period",
    "CREATE INDEX idx_account_benefit_account ON account_benefit (account_id)",
    "CREATE INDEX idx_account_subsidy_account ON account_subsidy (account_id)",
    "CREATE INDEX idx_meter_account ON meter (account_id)",
];

const DOWN: [&str; 6] = [
    "DROP INDEX idx_meter_account",
    "DROP INDEX idx_account_subsidy_account",
    "DROP INDEX idx_account_benefit_account",
    "CREATE INDEX idx_ledger_entry_account_period ON ledger_entry (account_id, period)",
    "CREATE INDEX idx_ledger_entry_paid_on ON ledger_entry (paid_on)",
    "DROP INDEX idx_ledger_entry_payment_paid_on",
];

// why: one call runs the statements on one connection; on SQLite the migration runs outside a
// transaction on the pool, where a second connection may still read the schema before the drop.
async fn run(manager: &SchemaManager<'_>, sql: &[&str]) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&sql.join(";\n"))
        .await
        .map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &DOWN).await
    }
}
