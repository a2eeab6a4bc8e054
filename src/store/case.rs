//! The case module's use cases: personal accounts, the append-only ledger, the monthly charge run,
//! cases with their audit trail, the operations they perform and the documents they print.
//!
//! The ledger is append-only: this module has no UPDATE or DELETE of `ledger_entry` rows. A
//! correction is a new entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr, Statement,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::entities::{
    account, account_benefit, account_owner, account_service, account_subsidy, building,
    case_audit, case_document, charge_run, idempotency_key, ledger_entry, meter, meter_reading,
    office, specialist, tariff, visit_case,
};
use crate::domain::account::{
    NewAccount, OwnerShare, Reading, Split, SplitFrom, check_reading, check_shares, check_split,
    consumption_since_seal, show_milli,
};
use crate::domain::lang::Text;
use crate::domain::ledger::{self, Basis, ChargeBase, Entry, EntryKind, Tariff};
use crate::domain::money::Money;
use crate::domain::procedure::{
    Operation, OperationKind, Procedures, Topic, document_name, instalments,
};
use crate::domain::rules::RuleSetRegistry;
use crate::domain::rules::absence::{self, AbsenceInput, Charge};
use crate::domain::rules::calendar::{YearMonth, show_date};
use crate::domain::rules::heat::{self, HeatInput, Premise};
use crate::domain::rules::hot_water::{self, HotWaterInput};
use crate::domain::rules::meter_seal::{self, SealInput};
use crate::domain::rules::services::Service;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};
use crate::store::staff::StaffUser;

mod runs;
mod visit;
pub use runs::{ChargeRunRow, list_charge_runs};
pub use visit::{
    VisitRecord, attach_account, case_facts, find_case_of_booking, find_case_of_ticket,
    find_operation_result, open_visit_case,
};

// ---- records -------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerRecord {
    pub name: String,
    pub share_num: i32,
    pub share_den: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenefitRecord {
    pub category: String,
    pub share_pct: i32,
    pub persons: i32,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsidyRecord {
    pub monthly: Money,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub service: String,
    pub basis: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterRecord {
    pub id: i32,
    pub service: String,
    pub serial: String,
    pub sealed_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    pub last_reading: Option<(NaiveDate, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountSummary {
    pub id: i32,
    pub number: String,
    pub owner_name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub id: i32,
    pub number: String,
    pub owner_name: String,
    pub address: String,
    pub building: Option<String>,
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
    pub registered_residents: i32,
    pub owners: Vec<OwnerRecord>,
    pub benefits: Vec<BenefitRecord>,
    pub subsidies: Vec<SubsidyRecord>,
    pub services: Vec<ServiceRecord>,
    pub meters: Vec<MeterRecord>,
    pub balance: Money,
    pub debt: Vec<DebtRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebtRecord {
    pub period: String,
    pub service: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: i32,
    pub account_id: i32,
    pub period: String,
    pub service: String,
    pub kind: String,
    pub amount: Money,
    pub case_id: Option<i32>,
    pub rule_set: Option<String>,
    pub rule_set_version: Option<i32>,
    pub explanation: Option<Text>,
    pub payer: Option<String>,
    pub paid_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub staff_id: i32,
    pub action: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: i32,
    /// None until an account is attached.
    pub account_id: Option<i32>,
    /// Empty until an account is attached.
    pub account_number: String,
    pub service_code: String,
    pub staff_id: i32,
    pub ticket_id: Option<i32>,
    pub booking_id: Option<i32>,
    pub status: String,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub documents_seen: Vec<String>,
    pub notes: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub audit: Vec<AuditRecord>,
    /// The ticket and booking behind the case (by `find_case` only).
    pub visit: Option<VisitRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub token: String,
    /// "17/2026": the number within the office and year.
    pub number: String,
    pub kind: String,
}

/// What an operation did: the entries it posted, the document it issued, the facts it showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    pub kind: String,
    pub entries: Vec<EntryRecord>,
    pub document: Option<DocumentRef>,
    pub facts: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub token: String,
    pub number: String,
    pub kind: String,
    pub case_id: i32,
    pub account_number: String,
    pub issued_on: NaiveDate,
    pub office_name: Text,
    pub body: DocumentBody,
}

/// What a printed document shows, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentBody {
    pub title: Text,
    pub account_number: String,
    pub address: String,
    pub owner: String,
    pub lines: Vec<Text>,
    /// Amount lines: label and amount.
    pub amounts: Vec<(Text, Money)>,
    pub total: Option<Money>,
}

// ---- helpers -------------------------------------------------------------------------------------

fn conflict(uk: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::Conflict(Text::new(uk, en))
}

fn invalid(uk: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid(Text::new(uk, en))
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn period_of(s: &str) -> Option<YearMonth> {
    YearMonth::parse(s).ok()
}

fn explanation_text(raw: &Option<String>) -> Option<Text> {
    raw.as_ref().map(|s| {
        serde_json::from_str::<Text>(s).unwrap_or_else(|_| Text::new(s.clone(), s.clone()))
    })
}

fn to_entry(m: ledger_entry::Model) -> EntryRecord {
    EntryRecord {
        explanation: explanation_text(&m.explanation),
        id: m.id,
        account_id: m.account_id,
        period: m.period,
        service: m.service,
        kind: m.kind,
        amount: Money::from_kopiykas(m.amount_kop),
        case_id: m.case_id,
        rule_set: m.rule_set,
        rule_set_version: m.rule_set_version,
        payer: m.payer,
        paid_on: m.paid_on,
    }
}

fn domain_entries(rows: &[EntryRecord]) -> Vec<Entry> {
    rows.iter()
        .filter_map(|r| {
            Some(Entry {
                period: period_of(&r.period)?,
                service: r.service.clone(),
                kind: EntryKind::parse(&r.kind)?,
                amount: r.amount,
            })
        })
        .collect()
}

fn debt_records(entries: &[Entry]) -> Vec<DebtRecord> {
    ledger::debt(entries)
        .into_iter()
        .map(|l| DebtRecord {
            period: l.period.to_string(),
            service: l.service,
            amount: l.amount,
        })
        .collect()
}

/// A new ledger entry, before it is posted.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub account_id: i32,
    pub period: String,
    pub service: String,
    pub kind: &'static str,
    pub amount_kop: i64,
    pub case_id: Option<i32>,
    pub rule_set: Option<(String, i32)>,
    pub explanation: Option<Text>,
    pub payer: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub unique_key: Option<String>,
}

impl NewEntry {
    fn model(self, now: DateTime<Utc>) -> ledger_entry::ActiveModel {
        ledger_entry::ActiveModel {
            account_id: Set(self.account_id),
            period: Set(self.period),
            service: Set(self.service),
            kind: Set(self.kind.to_string()),
            amount_kop: Set(self.amount_kop),
            case_id: Set(self.case_id),
            rule_set_version: Set(self.rule_set.as_ref().map(|r| r.1)),
            rule_set: Set(self.rule_set.map(|r| r.0)),
            explanation: Set(self
                .explanation
                .map(|t| serde_json::to_string(&t).unwrap_or_default())),
            payer: Set(self.payer),
            paid_on: Set(self.paid_on),
            unique_key: Set(self.unique_key),
            created_at: Set(now),
            ..Default::default()
        }
    }
}

/// Appends one entry. A second entry with the same `unique_key` on the account is a conflict.
pub async fn post_entry(txn: &impl ConnectionTrait, entry: NewEntry) -> AppResult<EntryRecord> {
    match entry.model(super::now()).insert(txn).await {
        Ok(m) => Ok(to_entry(m)),
        Err(e) if is_unique_violation(&e) => Err(conflict(
            "Цю операцію вже проведено: такий запис у рахунку вже є.",
            "This operation was already posted: the account already has such an entry.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The accounts an operation may write to, besides the case's own: the account a found payment
/// is booked on (`attach_payment`) and every premises of the building (`heat_allocation`). Read
/// before the transaction, so that all of them are locked first and in one order.
async fn accounts_touched(
    db: &impl ConnectionTrait,
    account_id: i32,
    op: &Operation,
) -> AppResult<BTreeSet<i32>> {
    let mut ids = BTreeSet::from([account_id]);
    match op {
        Operation::AttachPayment { payment_id } => {
            if let Some(p) = ledger_entry::Entity::find_by_id(*payment_id)
                .one(db)
                .await?
            {
                ids.insert(p.account_id);
            }
        }
        Operation::HeatAllocation { .. } => {
            let building = account::Entity::find_by_id(account_id)
                .one(db)
                .await?
                .and_then(|a| a.building_id);
            if let Some(b) = building {
                ids.extend(building_accounts(db, b).await?);
            }
        }
        _ => {}
    }
    Ok(ids)
}

async fn building_accounts(db: &impl ConnectionTrait, building_id: i32) -> AppResult<Vec<i32>> {
    Ok(account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::BuildingId.eq(building_id))
        .order_by_asc(account::Column::Id)
        .into_tuple::<i32>()
        .all(db)
        .await?)
}

/// Locks every account of `ids` as [`lock_account`] does, in ascending order, so that two
/// operations that touch the same accounts wait for each other instead of deadlocking.
async fn lock_accounts(txn: &impl ConnectionTrait, ids: &BTreeSet<i32>) -> AppResult<()> {
    for id in ids {
        lock_account(txn, *id).await?;
    }
    Ok(())
}

/// An account the operation would write to but did not lock (it changed between the reading
/// and the locking): refused, nothing is written, and a retry locks it.
fn not_locked(ctx: &OpContext<'_>, account_id: i32) -> AppResult<()> {
    if ctx.locked.contains(&account_id) {
        Ok(())
    } else {
        Err(conflict(
            "Рахунки, яких стосується операція, щойно змінилися; повторіть операцію.",
            "The accounts this operation affects have just changed; please repeat the operation.",
        ))
    }
}

/// Serializes operations on one account: the UPDATE takes the account's row lock on PostgreSQL
/// (held to commit) and the write lock on SQLite, and it is the transaction's first statement.
async fn lock_account(txn: &impl ConnectionTrait, account_id: i32) -> AppResult<()> {
    let r = account::Entity::update_many()
        .col_expr(
            account::Column::Version,
            Expr::col(account::Column::Version).add(1),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

async fn audit(
    txn: &impl ConnectionTrait,
    case_id: i32,
    staff_id: i32,
    action: &str,
    detail: String,
) -> AppResult<()> {
    case_audit::ActiveModel {
        case_id: Set(case_id),
        staff_id: Set(staff_id),
        action: Set(action.to_string()),
        detail: Set(detail),
        at: Set(super::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn entries_of(db: &impl ConnectionTrait, account_id: i32) -> AppResult<Vec<EntryRecord>> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::AccountId.eq(account_id))
        .order_by_asc(ledger_entry::Column::Period)
        .order_by_asc(ledger_entry::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_entry)
        .collect())
}

async fn office_timezone(db: &impl ConnectionTrait, office_id: Option<i32>) -> chrono_tz::Tz {
    let Some(id) = office_id else {
        return chrono_tz::Europe::Kyiv;
    };
    office::Entity::find_by_id(id)
        .one(db)
        .await
        .ok()
        .flatten()
        .and_then(|o| o.timezone.parse().ok())
        .unwrap_or(chrono_tz::Europe::Kyiv)
}

fn today_in(tz: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

// ---- accounts and the ledger ---------------------------------------------------------------------

/// Accounts matching every given filter (number prefix, address or owner substring), at most 50.
pub async fn find_accounts(
    db: &impl ConnectionTrait,
    number: Option<&str>,
    address: Option<&str>,
    owner: Option<&str>,
) -> AppResult<Vec<AccountSummary>> {
    let mut q = account::Entity::find();
    if let Some(n) = number.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(account::Column::Number.starts_with(n));
    }
    if let Some(a) = address.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(account::Column::Address.contains(a));
    }
    if let Some(o) = owner.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(account::Column::OwnerName.contains(o));
    }
    Ok(q.order_by_asc(account::Column::Number)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AccountSummary {
            id: a.id,
            number: a.number,
            owner_name: a.owner_name,
            address: a.address,
        })
        .collect())
}

async fn account_by_number(
    db: &impl ConnectionTrait,
    number: &str,
) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Number.eq(number.trim()))
        .one(db)
        .await?)
}

async fn load_account(db: &impl ConnectionTrait, a: account::Model) -> AppResult<AccountRecord> {
    let owners = account_owner::Entity::find()
        .filter(account_owner::Column::AccountId.eq(a.id))
        .order_by_asc(account_owner::Column::Id)
        .all(db)
        .await?;
    let benefits = account_benefit::Entity::find()
        .filter(account_benefit::Column::AccountId.eq(a.id))
        .order_by_asc(account_benefit::Column::Id)
        .all(db)
        .await?;
    let subsidies = account_subsidy::Entity::find()
        .filter(account_subsidy::Column::AccountId.eq(a.id))
        .order_by_asc(account_subsidy::Column::Id)
        .all(db)
        .await?;
    let services = account_service::Entity::find()
        .filter(account_service::Column::AccountId.eq(a.id))
        .order_by_asc(account_service::Column::Id)
        .all(db)
        .await?;
    let meters = meter::Entity::find()
        .filter(meter::Column::AccountId.eq(a.id))
        .order_by_asc(meter::Column::Id)
        .all(db)
        .await?;
    let meter_ids: Vec<i32> = meters.iter().map(|m| m.id).collect();
    let readings = meter_reading::Entity::find()
        .filter(meter_reading::Column::MeterId.is_in(meter_ids))
        .order_by_asc(meter_reading::Column::ReadOn)
        .all(db)
        .await?;
    let mut last: HashMap<i32, (NaiveDate, String)> = HashMap::new();
    for r in readings {
        last.insert(r.meter_id, (r.read_on, show_milli(r.value_milli)));
    }
    let building = match a.building_id {
        Some(id) => building::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|b| b.address),
        None => None,
    };
    let entries = entries_of(db, a.id).await?;
    let dom = domain_entries(&entries);
    Ok(AccountRecord {
        id: a.id,
        balance: ledger::balance(&dom),
        debt: debt_records(&dom),
        number: a.number,
        owner_name: a.owner_name,
        address: a.address,
        building,
        total_area_cm2: a.total_area_cm2,
        heated_area_cm2: a.heated_area_cm2,
        registered_residents: a.registered_residents,
        owners: owners
            .into_iter()
            .map(|o| OwnerRecord {
                name: o.name,
                share_num: o.share_num,
                share_den: o.share_den,
            })
            .collect(),
        benefits: benefits
            .into_iter()
            .map(|b| BenefitRecord {
                category: b.category,
                share_pct: b.share_pct,
                persons: b.persons,
                valid_from: b.valid_from,
                valid_to: b.valid_to,
            })
            .collect(),
        subsidies: subsidies
            .into_iter()
            .map(|s| SubsidyRecord {
                monthly: Money::from_kopiykas(s.monthly_kop),
                valid_from: s.valid_from,
                valid_to: s.valid_to,
            })
            .collect(),
        services: services
            .into_iter()
            .map(|s| ServiceRecord {
                service: s.service,
                basis: s.basis,
                active: s.active,
            })
            .collect(),
        meters: meters
            .into_iter()
            .map(|m| MeterRecord {
                last_reading: last.remove(&m.id),
                id: m.id,
                service: m.service,
                serial: m.serial,
                sealed_on: m.sealed_on,
                verification_due: m.verification_due,
            })
            .collect(),
    })
}

/// The account with its facts, balance and debt.
pub async fn find_account(
    db: &impl ConnectionTrait,
    number: &str,
) -> AppResult<Option<AccountRecord>> {
    match account_by_number(db, number).await? {
        Some(a) => Ok(Some(load_account(db, a).await?)),
        None => Ok(None),
    }
}

/// The account's entries with periods in `from..=to` (either open).
pub async fn list_entries(
    db: &impl ConnectionTrait,
    number: &str,
    from: Option<YearMonth>,
    to: Option<YearMonth>,
) -> AppResult<Option<Vec<EntryRecord>>> {
    let Some(a) = account_by_number(db, number).await? else {
        return Ok(None);
    };
    let mut q = ledger_entry::Entity::find().filter(ledger_entry::Column::AccountId.eq(a.id));
    if let Some(f) = from {
        q = q.filter(ledger_entry::Column::Period.gte(f.to_string()));
    }
    if let Some(t) = to {
        q = q.filter(ledger_entry::Column::Period.lte(t.to_string()));
    }
    Ok(Some(
        q.order_by_asc(ledger_entry::Column::Period)
            .order_by_asc(ledger_entry::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(to_entry)
            .collect(),
    ))
}

// ---- the monthly charge run ----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeRunRecord {
    pub period: String,
    pub status: String,
    /// Entries posted by this run in total (over all its passes).
    pub posted: i64,
    /// Entries posted by this call.
    pub posted_now: i64,
}

fn to_tariff(t: tariff::Model) -> Tariff {
    Tariff {
        service: t.service,
        price: Money::from_kopiykas(t.price_kop),
        norm_milli: t.norm_milli,
        valid_from: t.valid_from,
        valid_to: t.valid_to,
    }
}

fn active_in(from: NaiveDate, to: Option<NaiveDate>, month: YearMonth) -> bool {
    from <= month.last_day() && to.is_none_or(|t| t >= month.first_day())
}

/// The facts of an account the charge run reads: only these columns are selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChargeAccount {
    id: i32,
    residents: i32,
    total_area_cm2: i64,
    heated_area_cm2: i64,
}

/// A batch of the charge run: the accounts with ids in `after < id <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AccountRange {
    after: i32,
    last: i32,
}

impl AccountRange {
    /// `column` (an account id) lies in the batch.
    fn covers(self, column: impl ColumnTrait) -> sea_orm::Condition {
        sea_orm::Condition::all()
            .add(column.gt(self.after))
            .add(column.lte(self.last))
    }
}

/// The batch of the next `limit` accounts after `after`, by id (None when there are none left).
/// why: a batch is a range of ids, so the batch's services, benefits and subsidies are read by
/// range on their account index instead of an IN list of `limit` bound ids each.
async fn next_batch(
    txn: &impl ConnectionTrait,
    after: i32,
    limit: u64,
) -> AppResult<Option<AccountRange>> {
    let nth: Option<i32> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::Id.gt(after))
        .order_by_asc(account::Column::Id)
        .offset(limit.saturating_sub(1))
        .limit(1)
        .into_tuple()
        .one(txn)
        .await?;
    let last = match nth {
        Some(id) => Some(id),
        // Fewer than `limit` left: the batch runs to the last account.
        None => account::Entity::find()
            .select_only()
            .column_as(account::Column::Id.max(), "last")
            .filter(account::Column::Id.gt(after))
            .into_tuple::<Option<i32>>()
            .one(txn)
            .await?
            .flatten(),
    };
    Ok(last.map(|last| AccountRange { after, last }))
}

/// A batch's active services with their accounts' facts, by account and service id:
/// (account id, service, basis, registered residents, total and heated area in cm²).
type ServiceRow = (i32, String, String, i32, i64, i64);

/// The batch's active services joined with their accounts, as one JSON array in one row.
/// why: the driver hands result rows one at a time from its worker thread, and a batch has five
/// services an account; one aggregated row per batch instead of thousands is most of the charge
/// run's speed-up on SQLite (docs/BENCHMARKS.md).
async fn batch_services(
    txn: &impl ConnectionTrait,
    batch: AccountRange,
) -> AppResult<Vec<ServiceRow>> {
    let backend = txn.get_database_backend();
    let (aggregate, params) = match backend {
        DatabaseBackend::Postgres => (
            "json_agg(json_build_array(s.account_id, s.service, s.basis, a.registered_residents, \
             a.total_area_cm2, a.heated_area_cm2) ORDER BY s.account_id, s.id)::text",
            "$1 AND s.account_id <= $2",
        ),
        _ => (
            "json_group_array(json_array(s.account_id, s.service, s.basis, \
             a.registered_residents, a.total_area_cm2, a.heated_area_cm2) \
             ORDER BY s.account_id, s.id)",
            "? AND s.account_id <= ?",
        ),
    };
    let sql = format!(
        "SELECT {aggregate} FROM account_service s JOIN account a ON a.id = s.account_id \
         WHERE s.active AND s.account_id > {params}"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [batch.after.into(), batch.last.into()],
        ))
        .await?;
    // PostgreSQL's json_agg of no rows is NULL, SQLite's json_group_array is `[]`.
    let json: Option<String> = match row {
        Some(r) => r.try_get_by_index(0)?,
        None => None,
    };
    match json {
        Some(j) => serde_json::from_str(&j).map_err(AppError::internal),
        None => Ok(Vec::new()),
    }
}

/// The month's charges (and benefit and subsidy credits) of a batch of accounts. The batch's
/// services with their accounts' facts (one join), meters, readings, benefits and subsidies are
/// loaded one query each, by the batch's id range, and grouped by account in maps, so each
/// service row is charged without scanning the others.
async fn batch_entries(
    txn: &impl ConnectionTrait,
    batch: AccountRange,
    tariffs: &[Tariff],
    month: YearMonth,
) -> AppResult<Vec<NewEntry>> {
    let rows = batch_services(txn, batch).await?;
    let mut by_id: HashMap<i32, ChargeAccount> = HashMap::new();
    let mut services: Vec<(i32, String, String)> = Vec::with_capacity(rows.len());
    for (id, service, basis, residents, total_area_cm2, heated_area_cm2) in rows {
        by_id.entry(id).or_insert(ChargeAccount {
            id,
            residents,
            total_area_cm2,
            heated_area_cm2,
        });
        services.push((id, service, basis));
    }
    // Meters and readings only when some service of the batch is metered.
    let metered = services.iter().any(|(_, _, b)| b == Basis::PerMeter.code());
    let mut meter_of: HashMap<(i32, String), i32> = HashMap::new();
    let mut readings: HashMap<i32, Vec<(NaiveDate, i64)>> = HashMap::new();
    if metered {
        let meters: Vec<(i32, i32, String)> = meter::Entity::find()
            .select_only()
            .columns([
                meter::Column::Id,
                meter::Column::AccountId,
                meter::Column::Service,
            ])
            .filter(batch.covers(meter::Column::AccountId))
            .order_by_asc(meter::Column::Id)
            .into_tuple()
            .all(txn)
            .await?;
        let meter_ids: Vec<i32> = meters.iter().map(|m| m.0).collect();
        for (id, account_id, service) in meters {
            meter_of.entry((account_id, service)).or_insert(id);
        }
        let rows: Vec<(i32, NaiveDate, i64)> = meter_reading::Entity::find()
            .select_only()
            .columns([
                meter_reading::Column::MeterId,
                meter_reading::Column::ReadOn,
                meter_reading::Column::ValueMilli,
            ])
            .filter(meter_reading::Column::MeterId.is_in(meter_ids))
            .filter(meter_reading::Column::ReadOn.lte(month.last_day()))
            .order_by_asc(meter_reading::Column::ReadOn)
            .into_tuple()
            .all(txn)
            .await?;
        for (meter_id, on, value) in rows {
            readings.entry(meter_id).or_default().push((on, value));
        }
    }
    let mut benefits: HashMap<i32, Vec<account_benefit::Model>> = HashMap::new();
    for b in account_benefit::Entity::find()
        .filter(batch.covers(account_benefit::Column::AccountId))
        .order_by_asc(account_benefit::Column::Id)
        .all(txn)
        .await?
    {
        if active_in(b.valid_from, b.valid_to, month) {
            benefits.entry(b.account_id).or_default().push(b);
        }
    }
    let subsidies = account_subsidy::Entity::find()
        .filter(batch.covers(account_subsidy::Column::AccountId))
        .order_by_asc(account_subsidy::Column::Id)
        .all(txn)
        .await?;
    let mut tariff_of: HashMap<&str, Option<&Tariff>> = HashMap::new();
    let period = month.to_string();
    let mut out = Vec::with_capacity(services.len() + subsidies.len());
    for (account_id, service, basis) in &services {
        let Some(a) = by_id.get(account_id) else {
            continue;
        };
        let Some(basis) = Basis::parse(basis) else {
            continue;
        };
        let tariff = *tariff_of
            .entry(service.as_str())
            .or_insert_with(|| ledger::tariff_for(tariffs, service, month));
        let Some(t) = tariff else {
            continue;
        };
        let consumption_milli = if basis == Basis::PerMeter {
            meter_of
                .get(&(a.id, service.clone()))
                .and_then(|m| readings.get(m))
                .map(|rs| {
                    let before = rs.iter().rfind(|r| r.0 < month.first_day()).or(rs.first());
                    match (before, rs.last()) {
                        (Some(b), Some(e)) => std::cmp::max(e.1 - b.1, 0),
                        _ => 0,
                    }
                })
                .unwrap_or(0)
        } else {
            0
        };
        let base = ChargeBase {
            residents: u32::try_from(a.residents).unwrap_or(0),
            total_area_cm2: a.total_area_cm2,
            heated_area_cm2: a.heated_area_cm2,
            consumption_milli,
        };
        let Some(amount) = ledger::monthly_charge(basis, t, &base) else {
            continue;
        };
        out.push(NewEntry {
            account_id: a.id,
            period: period.clone(),
            service: service.clone(),
            kind: "charge",
            amount_kop: amount.kopiykas(),
            unique_key: Some(format!("charge:{period}:{service}")),
            ..Default::default()
        });
        // A benefit reduces the norm- and area-based charges by its share for its persons.
        if a.residents <= 0 {
            continue;
        }
        for b in benefits.get(&a.id).map(Vec::as_slice).unwrap_or_default() {
            let persons = std::cmp::min(b.persons, a.residents);
            let credit = amount.to_decimal() * Decimal::from(b.share_pct) / Decimal::from(100)
                * Decimal::from(persons)
                / Decimal::from(a.residents);
            let credit = Money::reduction_capped(credit, amount);
            if credit > Money::ZERO {
                out.push(NewEntry {
                    account_id: a.id,
                    period: period.clone(),
                    service: service.clone(),
                    kind: "benefit",
                    amount_kop: -credit.kopiykas(),
                    explanation: Some(Text::new(
                        format!(
                            "Пільга «{}»: {}% для {persons} ос. з {}",
                            b.category, b.share_pct, a.residents
                        ),
                        format!(
                            "Benefit \"{}\": {}% for {persons} of {} persons",
                            b.category, b.share_pct, a.residents
                        ),
                    )),
                    unique_key: Some(format!("benefit:{period}:{service}:{}", b.id)),
                    ..Default::default()
                });
            }
        }
    }
    for s in subsidies
        .iter()
        .filter(|s| active_in(s.valid_from, s.valid_to, month))
    {
        out.push(NewEntry {
            account_id: s.account_id,
            period: period.clone(),
            service: String::new(),
            kind: "subsidy",
            amount_kop: -s.monthly_kop,
            unique_key: Some(format!("subsidy:{period}:{}", s.id)),
            ..Default::default()
        });
    }
    Ok(out)
}

/// Inserts the charge run's entries, skipping any whose unique key is already posted. Returns how
/// many were new. Only the columns such entries have are bound: 7 a row, 8 with an explanation.
async fn insert_entries_once(txn: &impl ConnectionTrait, entries: Vec<NewEntry>) -> AppResult<i64> {
    let now = super::now();
    let (plain, explained): (Vec<NewEntry>, Vec<NewEntry>) =
        entries.into_iter().partition(|e| e.explanation.is_none());
    Ok(insert_rows(txn, plain, false, now).await? + insert_rows(txn, explained, true, now).await?)
}

async fn insert_rows(
    txn: &impl ConnectionTrait,
    rows: Vec<NewEntry>,
    explained: bool,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let columns = if explained { 8 } else { 7 };
    // why: SQLite binds at most 32 766 parameters a statement; statements of equal size (the rows
    // split evenly, not 1000 + 1000 + 500) let the driver reuse one prepared statement per batch size.
    let max_rows = 30_000 / columns;
    let statements = rows.len().div_ceil(max_rows);
    let size = rows.len().div_ceil(statements);
    let backend = txn.get_database_backend();
    let now = sea_orm::Value::from(now);
    let mut posted = 0i64;
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        // why: the statement is written and its values collected directly (no query tree that
        // is then rendered and its values copied again): this loop is the charge run's hot path.
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(size * columns);
        for e in it.by_ref().take(size) {
            values.push(e.account_id.into());
            values.push(e.period.into());
            values.push(e.service.into());
            values.push(e.kind.into());
            values.push(e.amount_kop.into());
            values.push(e.unique_key.into());
            values.push(now.clone());
            if explained {
                values.push(
                    e.explanation
                        .map(|t| serde_json::to_string(&t).unwrap_or_default())
                        .into(),
                );
            }
        }
        let sql = insert_entries_sql(backend, values.len() / columns, columns);
        let n = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected();
        posted += i64::try_from(n).unwrap_or(i64::MAX);
    }
    Ok(posted)
}

/// `INSERT INTO ledger_entry … VALUES (…), … ON CONFLICT (account_id, unique_key) DO NOTHING` of
/// `rows` rows of the charge run's `columns` columns, with the backend's placeholders.
fn insert_entries_sql(backend: DatabaseBackend, rows: usize, columns: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(200 + rows * columns * 6);
    sql.push_str(
        "INSERT INTO ledger_entry (account_id, period, service, kind, amount_kop, unique_key, \
         created_at",
    );
    sql.push_str(if columns == 8 {
        ", explanation) VALUES "
    } else {
        ") VALUES "
    });
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                DatabaseBackend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (account_id, unique_key) DO NOTHING");
    sql
}

/// Computes every account's charges for `month`, in batches of `batch` accounts, each batch one
/// transaction that also records how far the run got: a crashed run resumes after its last
/// committed batch, and a finished month is never charged twice (and the ledger's unique keys
/// make a second posting of a month's charge impossible anyway).
pub async fn charge_run(
    db: &DatabaseConnection,
    month: YearMonth,
    batch: u64,
) -> AppResult<ChargeRunRecord> {
    let period = month.to_string();
    let now = super::now();
    charge_run::Entity::insert(charge_run::ActiveModel {
        period: Set(period.clone()),
        status: Set("running".into()),
        last_account_id: Set(0),
        posted: Set(0),
        started_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(charge_run::Column::Period)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // Claim the run: one instance at a time; a stale claim (a crashed process) expires.
    let lease = chrono::Duration::minutes(5);
    let claimed = charge_run::Entity::update_many()
        .col_expr(charge_run::Column::LockedUntil, Expr::value(now + lease))
        .filter(charge_run::Column::Period.eq(period.clone()))
        .filter(charge_run::Column::Status.ne("done"))
        .filter(
            sea_orm::Condition::any()
                .add(charge_run::Column::LockedUntil.is_null())
                .add(charge_run::Column::LockedUntil.lt(now)),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let run = charge_run::Entity::find()
        .filter(charge_run::Column::Period.eq(period.clone()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("charge run row vanished"))?;
    if !claimed {
        if run.status == "done" {
            return Ok(ChargeRunRecord {
                period,
                status: run.status,
                posted: run.posted,
                posted_now: 0,
            });
        }
        return Err(conflict(
            format!("Нарахування за {period} вже виконується."),
            format!("The charge run for {period} is already in progress."),
        ));
    }
    let tariffs: Vec<Tariff> = tariff::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(to_tariff)
        .collect();
    let mut last_id = run.last_account_id;
    let mut posted_now = 0i64;
    loop {
        let txn = db.begin().await?;
        let Some(range) = next_batch(&txn, last_id, batch).await? else {
            charge_run::Entity::update_many()
                .col_expr(charge_run::Column::Status, Expr::value("done"))
                .col_expr(charge_run::Column::FinishedAt, Expr::value(super::now()))
                .col_expr(
                    charge_run::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(charge_run::Column::Period.eq(period.clone()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            break;
        };
        let last = range.last;
        let entries = batch_entries(&txn, range, &tariffs, month).await?;
        let n = insert_entries_once(&txn, entries).await?;
        charge_run::Entity::update_many()
            .col_expr(charge_run::Column::LastAccountId, Expr::value(last))
            .col_expr(
                charge_run::Column::Posted,
                Expr::col(charge_run::Column::Posted).add(n),
            )
            .col_expr(
                charge_run::Column::LockedUntil,
                Expr::value(super::now() + lease),
            )
            .filter(charge_run::Column::Period.eq(period.clone()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        posted_now += n;
        last_id = last;
    }
    let run = charge_run::Entity::find()
        .filter(charge_run::Column::Period.eq(period.clone()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("charge run row vanished"))?;
    Ok(ChargeRunRecord {
        period,
        status: run.status,
        posted: run.posted,
        posted_now,
    })
}

// ---- cases ---------------------------------------------------------------------------------------

fn to_case(c: visit_case::Model, number: String, audit: Vec<AuditRecord>) -> CaseRecord {
    CaseRecord {
        id: c.id,
        account_id: c.account_id,
        account_number: number,
        service_code: c.service_code,
        staff_id: c.staff_id,
        ticket_id: c.ticket_id,
        booking_id: c.booking_id,
        status: c.status,
        outcome: c.outcome,
        outcome_reason: c.outcome_reason,
        documents_seen: serde_json::from_str(&c.documents_seen).unwrap_or_default(),
        notes: c.notes,
        opened_at: c.opened_at,
        closed_at: c.closed_at,
        audit,
        visit: None,
    }
}

/// Supervisors and admins see every case; a specialist only their own.
fn may_see(staff: &StaffUser, c: &visit_case::Model) -> bool {
    matches!(staff.role, Role::Admin | Role::Supervisor) || c.staff_id == staff.id
}

pub struct OpenCase<'a> {
    /// The account number; may be empty when the case is opened from a ticket or booking (the
    /// booking's account is taken when it names one, else the account is attached later).
    pub account: &'a str,
    /// The catalog service; may be empty when the case is opened from a ticket or booking.
    pub service: &'a str,
    pub ticket: Option<i32>,
    pub booking: Option<i32>,
    pub notes: &'a str,
}

/// The longest free text a case keeps (notes, reasons).
pub const MAX_NOTES: usize = 2000;

/// Opens a case for a catalog service that has a procedure: directly for an account, or from a
/// called ticket (the staff member's own, unless a supervisor) or a booking, which must exist and
/// may not have their case yet.
pub async fn open_case(
    db: &DatabaseConnection,
    procedures: &Procedures,
    staff: &StaffUser,
    req: OpenCase<'_>,
) -> AppResult<CaseRecord> {
    let source = visit::check_source(db, staff, req.ticket, req.booking).await?;
    let service = match req.service.trim() {
        "" => source.service_code.clone().unwrap_or_default(),
        s => s.to_string(),
    };
    if procedures.get(&service).is_none() {
        return Err(AppError::Invalid {
            message: Text::new("Невідома послуга.", "Unknown service."),
            fields: vec![crate::error::FieldError::new(
                "service",
                Text::new(
                    format!("Послуги «{service}» немає в каталозі."),
                    format!("There is no service \"{service}\" in the catalog."),
                ),
            )],
        });
    }
    if req.notes.chars().count() > MAX_NOTES {
        return Err(AppError::invalid_fields(vec![
            crate::error::FieldError::new(
                "notes",
                Text::new(
                    format!("Нотатки — не довше {MAX_NOTES} символів."),
                    format!("Notes may be at most {MAX_NOTES} characters."),
                ),
            ),
        ]));
    }
    let account = match req.account.trim() {
        "" if source.ticket.is_some() || source.booking.is_some() => source.account.clone(),
        n => Some(
            account_by_number(db, n)
                .await?
                .ok_or_else(|| AppError::Invalid {
                    message: Text::new("Рахунок не знайдено.", "Account not found."),
                    fields: vec![crate::error::FieldError::new(
                        "account",
                        Text::new(
                            format!("Особового рахунку «{n}» немає."),
                            format!("There is no account \"{n}\"."),
                        ),
                    )],
                })?,
        ),
    };
    let office_id = match &source.ticket {
        Some(t) => Some(t.office_id),
        None => match &source.booking {
            Some(b) => Some(b.office_id),
            None => specialist::Entity::find()
                .filter(specialist::Column::UserId.eq(staff.id))
                .one(db)
                .await?
                .map(|s| s.office_id),
        },
    };
    let office_id = match office_id {
        Some(id) => Some(id),
        None => office::Entity::find()
            .order_by_asc(office::Column::Id)
            .one(db)
            .await?
            .map(|o| o.id),
    };
    let txn = db.begin().await?;
    let inserted = visit_case::ActiveModel {
        account_id: Set(account.as_ref().map(|a| a.id)),
        service_code: Set(service.clone()),
        office_id: Set(office_id),
        staff_id: Set(staff.id),
        ticket_id: Set(source.ticket.as_ref().map(|t| t.id)),
        booking_id: Set(source.booking.as_ref().map(|b| b.id)),
        status: Set("open".into()),
        documents_seen: Set("[]".into()),
        notes: Set(req.notes.to_string()),
        opened_at: Set(super::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let c = match inserted {
        Ok(c) => c,
        Err(e) if is_unique_violation(&e) => {
            // why: another request opened the case of this ticket or booking between the check
            // and the insert; the unique index let only one in, and the answer names it.
            drop(txn);
            if let Some(t) = &source.ticket
                && let Some(existing) = find_case_of_ticket(db, t.id).await?
            {
                return Err(visit::already_opened(
                    existing,
                    &format!("талона №{}", t.id),
                    &format!("ticket #{}", t.id),
                ));
            }
            if let Some(b) = &source.booking
                && let Some(existing) = find_case_of_booking(db, b.id).await?
            {
                return Err(visit::booking_taken(existing, b.id));
            }
            return Err(conflict(
                "Справу цього талона або запису вже відкрито.",
                "A case was already opened for this ticket or booking.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit(
        &txn,
        c.id,
        staff.id,
        "open",
        format!(
            "account {} service {service}{}{}",
            account.as_ref().map(|a| a.number.as_str()).unwrap_or("-"),
            c.ticket_id
                .map(|t| format!(" ticket #{t}"))
                .unwrap_or_default(),
            c.booking_id
                .map(|b| format!(" booking #{b}"))
                .unwrap_or_default(),
        ),
    )
    .await?;
    txn.commit().await?;
    find_case(db, staff, c.id)
        .await?
        .ok_or_else(|| AppError::internal("case vanished"))
}

/// The case with its audit trail, when the staff member may see it.
pub async fn find_case(
    db: &impl ConnectionTrait,
    staff: &StaffUser,
    id: i32,
) -> AppResult<Option<CaseRecord>> {
    let Some(c) = visit_case::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if !may_see(staff, &c) {
        return Err(AppError::Forbidden);
    }
    let number = match c.account_id {
        Some(id) => account::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|a| a.number)
            .unwrap_or_default(),
        None => String::new(),
    };
    let visit = visit::load_visit(db, &c).await?;
    let trail = case_audit::Entity::find()
        .filter(case_audit::Column::CaseId.eq(id))
        .order_by_asc(case_audit::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AuditRecord {
            staff_id: a.staff_id,
            action: a.action,
            detail: a.detail,
            at: a.at,
        })
        .collect();
    let mut record = to_case(c, number, trail);
    record.visit = visit;
    Ok(Some(record))
}

/// The cases the staff member may see, newest first (at most 200).
pub async fn list_cases(
    db: &impl ConnectionTrait,
    staff: &StaffUser,
) -> AppResult<Vec<CaseRecord>> {
    let mut q = visit_case::Entity::find();
    if !matches!(staff.role, Role::Admin | Role::Supervisor) {
        q = q.filter(visit_case::Column::StaffId.eq(staff.id));
    }
    let cases = q
        .order_by_desc(visit_case::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let ids: BTreeSet<i32> = cases.iter().filter_map(|c| c.account_id).collect();
    let numbers: HashMap<i32, String> = account::Entity::find()
        .filter(account::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.number))
        .collect();
    Ok(cases
        .into_iter()
        .map(|c| {
            let n = c
                .account_id
                .and_then(|id| numbers.get(&id).cloned())
                .unwrap_or_default();
            to_case(c, n, Vec::new())
        })
        .collect())
}

/// How a case ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused(String),
    Referred(String),
}

/// Closes an open case with its outcome.
pub async fn close_case(
    db: &DatabaseConnection,
    staff: &StaffUser,
    id: i32,
    outcome: Outcome,
) -> AppResult<CaseRecord> {
    let c = visit_case::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !may_see(staff, &c) {
        return Err(AppError::Forbidden);
    }
    let (code, reason) = match &outcome {
        Outcome::Done => ("done", None),
        Outcome::Refused(r) => ("refused", Some(r.clone())),
        Outcome::Referred(r) => ("referred", Some(r.clone())),
    };
    let txn = db.begin().await?;
    if let Some(account_id) = c.account_id {
        lock_account(&txn, account_id).await?;
    }
    let r = visit_case::Entity::update_many()
        .col_expr(visit_case::Column::Status, Expr::value("closed"))
        .col_expr(visit_case::Column::Outcome, Expr::value(code))
        .col_expr(
            visit_case::Column::OutcomeReason,
            Expr::value(reason.clone()),
        )
        .col_expr(visit_case::Column::ClosedAt, Expr::value(super::now()))
        .filter(visit_case::Column::Id.eq(id))
        .filter(visit_case::Column::Status.eq("open"))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(conflict(
            "Справу вже закрито.",
            "The case is already closed.",
        ));
    }
    audit(
        &txn,
        id,
        staff.id,
        "close",
        format!(
            "{code}{}",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        ),
    )
    .await?;
    txn.commit().await?;
    find_case(db, staff, id)
        .await?
        .ok_or_else(|| AppError::internal("case vanished"))
}

// ---- operations ----------------------------------------------------------------------------------

/// Everything an operation needs inside its transaction.
struct OpContext<'a> {
    case: &'a visit_case::Model,
    account: account::Model,
    /// Every account the transaction locked (ascending): an operation writes to no other.
    locked: &'a BTreeSet<i32>,
    rules: &'a RuleSetRegistry,
    staff: &'a StaffUser,
    today: NaiveDate,
    /// The facts a consultation of the case's service shows.
    topic: Topic,
}

/// Performs an operation of an open case in one transaction: the account is locked first, the
/// ledger entries, account changes, document and audit row are written together, and with an
/// idempotency key the first result is stored beside them, so a repeated request returns it and
/// writes nothing more.
///
/// The documents of the procedure's checklist must have been seen: recorded on the case by an
/// earlier operation, or ticked with this one (see [`perform_seen`]).
pub async fn perform(
    db: &DatabaseConnection,
    rules: &RuleSetRegistry,
    procedures: &Procedures,
    staff: &StaffUser,
    case_id: i32,
    op: Operation,
    idempotency_key: Option<&str>,
) -> AppResult<OperationRecord> {
    perform_seen(
        db,
        rules,
        procedures,
        staff,
        case_id,
        op,
        &[],
        idempotency_key,
    )
    .await
}

/// [`perform`], recording `documents` (ids of the procedure's checklist) as seen with the
/// operation, in its transaction. An operation whose checklist is not all seen is refused (422).
#[allow(clippy::too_many_arguments)]
pub async fn perform_seen(
    db: &DatabaseConnection,
    rules: &RuleSetRegistry,
    procedures: &Procedures,
    staff: &StaffUser,
    case_id: i32,
    op: Operation,
    documents: &[String],
    idempotency_key: Option<&str>,
) -> AppResult<OperationRecord> {
    let case = visit_case::Entity::find_by_id(case_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !may_see(staff, &case) {
        return Err(AppError::Forbidden);
    }
    let Some(account_id) = case.account_id else {
        return Err(visit::no_account());
    };
    let scope = format!("case-op:{}", staff.id);
    let fingerprint = request_fingerprint(case_id, &op, documents);
    if let Some(key) = idempotency_key
        && let Some(stored) = stored_result(db, &scope, key, Some(&fingerprint)).await?
    {
        return Ok(stored);
    }
    let kind = op.kind();
    let procedure = procedures
        .get(&case.service_code)
        .ok_or_else(|| AppError::internal("case of a service without a procedure"))?;
    if !procedure.allows(kind) {
        let allowed: Vec<&str> = procedure.operations.iter().map(|o| o.code()).collect();
        return Err(invalid(
            format!(
                "Послуга «{}» не передбачає операції «{}»; можливі: {}.",
                case.service_code,
                kind.code(),
                allowed.join(", ")
            ),
            format!(
                "The service \"{}\" has no operation \"{}\"; allowed: {}.",
                case.service_code,
                kind.code(),
                allowed.join(", ")
            ),
        ));
    }
    let tz = office_timezone(db, case.office_id).await;
    let touched = accounts_touched(db, account_id, &op).await?;
    let txn = db.begin().await?;
    lock_accounts(&txn, &touched).await?;
    if let Some(key) = idempotency_key
        && let Some(stored) = stored_result(&txn, &scope, key, Some(&fingerprint)).await?
    {
        return Ok(stored);
    }
    let current = visit_case::Entity::find_by_id(case_id)
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if current.status != "open" {
        return Err(conflict(
            "Справу закрито: операції вже неможливі.",
            "The case is closed: no more operations.",
        ));
    }
    let seen = visit::documents_after(procedure, &current.documents_seen, documents)?;
    if !documents.is_empty() {
        set_documents_seen(&txn, case_id, &seen).await?;
    }
    let current = visit_case::Model {
        documents_seen: serde_json::to_string(&seen).unwrap_or_else(|_| "[]".into()),
        ..current
    };
    let account = account::Entity::find_by_id(account_id)
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ctx = OpContext {
        case: &current,
        account,
        locked: &touched,
        rules,
        staff,
        today: today_in(tz),
        topic: procedure.topic,
    };
    let record = run_operation(&txn, &ctx, op).await?;
    audit(
        &txn,
        case_id,
        staff.id,
        kind.code(),
        format!(
            "{} entries{}",
            record.entries.len(),
            record
                .document
                .as_ref()
                .map(|d| format!(", document {}", d.number))
                .unwrap_or_default()
        ),
    )
    .await?;
    if let Some(key) = idempotency_key {
        let body = serde_json::to_string(&record).map_err(AppError::internal)?;
        let inserted = idempotency_key::ActiveModel {
            scope: Set(scope.clone()),
            key: Set(key.to_string()),
            status: Set(201),
            body: Set(body),
            fingerprint: Set(Some(fingerprint.clone())),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        if let Err(e) = inserted {
            if is_unique_violation(&e) {
                // why: the same key won a race in another transaction; ours rolls back and the
                // first result is returned.
                drop(txn);
                return stored_result(db, &scope, key, Some(&fingerprint))
                    .await?
                    .ok_or_else(|| AppError::internal("idempotency key vanished"));
            }
            return Err(e.into());
        }
    }
    txn.commit().await?;
    Ok(record)
}

/// What makes two requests under one idempotency key the same request: the case, the parsed
/// operation with its parameters, and the documents ticked with it.
///
/// why: the parsed operation, not the raw body, so that key order, spacing or `"1.5"` against
/// `1.5` do not make a replay look like another request; its `Debug` form prints every field.
fn request_fingerprint(case_id: i32, op: &Operation, documents: &[String]) -> String {
    use sha2::Digest;
    let docs: BTreeSet<&str> = documents.iter().map(String::as_str).collect();
    let docs: Vec<&str> = docs.into_iter().collect();
    let text = format!("case {case_id}\nop {op:?}\ndocuments {}", docs.join(","));
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The first result stored under the key. Given the request's fingerprint, a key first used for
/// another request is refused (422) rather than answered with that request's result; without
/// one (showing a result again after the page's redirect) the result is read as it is.
async fn stored_result(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: Option<&str>,
) -> AppResult<Option<OperationRecord>> {
    let Some(row) = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if let (Some(stored), Some(asked)) = (row.fingerprint.as_deref(), fingerprint)
        && stored != asked
    {
        return Err(AppError::Invalid {
            message: Text::new(
                "Цей ключ повторного надсилання (Idempotency-Key) вже використано для іншого запиту (іншої справи, операції чи параметрів). Для нового запиту потрібен новий ключ.",
                "This Idempotency-Key was already used for another request (another case, operation or parameters). A new request needs a new key.",
            ),
            fields: vec![crate::error::FieldError::new(
                "idempotency_key",
                Text::new(
                    "Ключ уже використано для іншого запиту.",
                    "The key was already used for another request.",
                ),
            )],
        });
    }
    serde_json::from_str(&row.body)
        .map(Some)
        .map_err(AppError::internal)
}

fn record(kind: OperationKind) -> OperationRecord {
    OperationRecord {
        kind: kind.code().to_string(),
        entries: Vec::new(),
        document: None,
        facts: serde_json::Value::Null,
    }
}

/// The days each service of the account was already reduced for temporary absence, read from
/// the absence adjustments' keys (`absence:{from}:{to}:{period}:{service}`) and counted as the
/// rule set they were posted under counts days.
async fn credited_absences(
    txn: &impl ConnectionTrait,
    rules: &RuleSetRegistry,
    account_id: i32,
) -> AppResult<Vec<absence::Credited>> {
    use crate::domain::rules::rule_set::DayCount;
    let rows = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::AccountId.eq(account_id))
        .filter(ledger_entry::Column::Kind.eq("adjustment"))
        .filter(ledger_entry::Column::UniqueKey.starts_with("absence:"))
        .order_by_asc(ledger_entry::Column::Id)
        .all(txn)
        .await?;
    let mut out: Vec<absence::Credited> = Vec::new();
    for r in rows {
        let Some(key) = r.unique_key.as_deref() else {
            continue;
        };
        let parts: Vec<&str> = key.split(':').collect();
        let [_, from, to, _, service] = parts.as_slice() else {
            continue;
        };
        let (Ok(from), Ok(to), Some(service)) = (
            NaiveDate::parse_from_str(from, "%Y-%m-%d"),
            NaiveDate::parse_from_str(to, "%Y-%m-%d"),
            Service::parse(service),
        ) else {
            continue;
        };
        // why: the rule set's day count decides which of the documented days were reduced; the
        // departure and arrival days of an `exclusive` rule set were not, and stay creditable.
        // A late earlier application reduced only from its quarter's start, which the key does
        // not record: its earlier days count as reduced too, erring on the side of never twice.
        let exclusive = r
            .rule_set
            .as_deref()
            .and_then(|id| rules.get(id).ok())
            .is_some_and(|rs| rs.absence.day_count == DayCount::Exclusive);
        let (start, end) = if exclusive {
            (from.succ_opt().unwrap_or(from), to.pred_opt().unwrap_or(to))
        } else {
            (from, to)
        };
        let (f, t) = (show_date(from), show_date(to));
        let case = r
            .case_id
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let source = Text::new(
            format!("справа №{case}, відсутність {}–{}", f.uk, t.uk),
            format!("case #{case}, absence {}–{}", f.en, t.en),
        );
        let k = absence::Credited {
            service,
            from: start,
            to: end,
            source,
        };
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

/// Records documents as seen on the case, beside those recorded before.
async fn set_documents_seen(
    txn: &impl ConnectionTrait,
    case_id: i32,
    docs: &[String],
) -> AppResult<()> {
    let mut all: Vec<String> = visit_case::Entity::find_by_id(case_id)
        .one(txn)
        .await?
        .and_then(|c| serde_json::from_str(&c.documents_seen).ok())
        .unwrap_or_default();
    for d in docs {
        if !all.contains(d) {
            all.push(d.clone());
        }
    }
    let docs = &all;
    visit_case::Entity::update_many()
        .col_expr(
            visit_case::Column::DocumentsSeen,
            Expr::value(serde_json::to_string(docs).unwrap_or_else(|_| "[]".into())),
        )
        .filter(visit_case::Column::Id.eq(case_id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn run_operation(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    op: Operation,
) -> AppResult<OperationRecord> {
    let kind = op.kind();
    let mut out = record(kind);
    let acc = &ctx.account;
    match op {
        Operation::TemporaryAbsence {
            rule_set,
            application_date,
            from,
            to,
            ground,
            certificate_issued,
            absent_persons,
            documents,
        } => {
            let rs = ctx.rules.get(&rule_set).map_err(|e| AppError::Invalid {
                message: e.text(),
                fields: vec![crate::error::FieldError::new("rule_set", e.text())],
            })?;
            let entries = entries_of(txn, acc.id).await?;
            let services = account_service::Entity::find()
                .filter(account_service::Column::AccountId.eq(acc.id))
                .all(txn)
                .await?;
            let basis_of: HashMap<&str, &str> = services
                .iter()
                .map(|s| (s.service.as_str(), s.basis.as_str()))
                .collect();
            // The account's own charges of the absent months, by month and service.
            let first = YearMonth::of(from);
            let last = YearMonth::of(to);
            let mut sums: BTreeMap<(YearMonth, Service), Money> = BTreeMap::new();
            for e in entries.iter().filter(|e| e.kind == "charge") {
                let (Some(p), Some(s)) = (period_of(&e.period), Service::parse(&e.service)) else {
                    continue;
                };
                if p < first || p > last {
                    continue;
                }
                let slot = sums.entry((p, s)).or_default();
                *slot = *slot + e.amount;
            }
            let charges: Vec<Charge> = sums
                .into_iter()
                .map(|((month, service), amount)| Charge {
                    month,
                    service,
                    amount,
                    metered: basis_of
                        .get(service.id())
                        .is_none_or(|b| Basis::parse(b).is_none_or(|b| !b.is_norm())),
                })
                .collect();
            if charges.is_empty() {
                return Err(invalid(
                    "За місяці відсутності на рахунку немає нарахувань.",
                    "The account has no charges for the months of absence.",
                ));
            }
            let input = AbsenceInput {
                application_date,
                from,
                to,
                ground,
                certificate_issued,
                documents_seen: Some(documents.clone()),
                registered_persons: u32::try_from(acc.registered_residents).unwrap_or(0),
                absent_persons,
                charges,
            };
            // why: an absence overlapping one already recalculated on this account (a longer
            // or shifted certificate, a repeated application) is the household's absence
            // continued, not a second one: a specialist credits the days not yet credited and
            // never a day twice. The new application is still judged on its whole documented
            // absence (its own period, certificate and deadline), so an extension that would be
            // too short on its own is not lost; only when every day it would reduce was already
            // reduced is it refused (409), naming the earlier case. The account's lock, taken
            // first in the transaction, makes two such requests at once run one after the other,
            // so the second sees the first's entries.
            let credited = credited_absences(txn, ctx.rules, acc.id).await?;
            let result = absence::calculate_credited(rs, &input, &credited)
                .map_err(AppError::invalid_fields)?;
            if !result.eligible {
                let uk: Vec<&str> = result.reasons.iter().map(|t| t.uk.as_str()).collect();
                let en: Vec<&str> = result.reasons.iter().map(|t| t.en.as_str()).collect();
                return Err(invalid(
                    format!("Перерахунок неможливий: {}", uk.join(" ")),
                    format!("No recalculation: {}", en.join(" ")),
                ));
            }
            if result.total == Money::ZERO && !credited.is_empty() {
                let plain = absence::calculate(rs, &input).map_err(AppError::invalid_fields)?;
                if plain.total > Money::ZERO {
                    let mut earlier: Vec<&Text> = Vec::new();
                    for k in credited.iter().filter(|k| k.from <= to && from <= k.to) {
                        if !earlier.contains(&&k.source) {
                            earlier.push(&k.source);
                        }
                    }
                    let uk: Vec<&str> = earlier.iter().map(|t| t.uk.as_str()).collect();
                    let en: Vec<&str> = earlier.iter().map(|t| t.en.as_str()).collect();
                    return Err(conflict(
                        format!(
                            "Усі дні цієї відсутності вже зменшено попереднім перерахунком ({}); повторно їх не зменшують.",
                            uk.join("; ")
                        ),
                        format!(
                            "Every day of this absence was already reduced by an earlier recalculation ({}); days are not reduced twice.",
                            en.join("; ")
                        ),
                    ));
                }
            }
            set_documents_seen(txn, ctx.case.id, &documents).await?;
            for line in result.lines.iter().filter(|l| l.amount > Money::ZERO) {
                let period = line.month.to_string();
                let service = line.service.id();
                out.entries.push(
                    post_entry(
                        txn,
                        NewEntry {
                            account_id: acc.id,
                            period: period.clone(),
                            service: service.to_string(),
                            kind: "adjustment",
                            amount_kop: -line.amount.kopiykas(),
                            case_id: Some(ctx.case.id),
                            rule_set: Some((
                                result.rule_set.clone(),
                                i32::try_from(result.version).unwrap_or(0),
                            )),
                            explanation: Some(line.explanation.clone()),
                            // why: one absence reduces a month's service once, whichever case
                            // or clerk posts it.
                            unique_key: Some(format!("absence:{from}:{to}:{period}:{service}")),
                            ..Default::default()
                        },
                    )
                    .await?,
                );
            }
            let mut body = document_body(
                acc,
                Text::new(
                    "Розрахунок перерахунку за тимчасової відсутності",
                    "Temporary absence recalculation statement",
                ),
            );
            body.lines = result.explanation.clone();
            for line in &result.lines {
                body.lines.push(line.explanation.clone());
            }
            body.amounts = result
                .lines
                .iter()
                .map(|l| {
                    let n = l.service.name();
                    (
                        Text::new(
                            format!("{} {}", l.month, n.uk),
                            format!("{} {}", l.month, n.en),
                        ),
                        l.amount,
                    )
                })
                .collect();
            body.total = Some(result.total);
            out.document = Some(issue_document(txn, ctx, "recalculation_statement", body).await?);
            out.facts = serde_json::json!({
                "rule_set": result.rule_set,
                "version": result.version,
                "counted_days": result.counted_days,
                "total": result.total,
            });
        }
        Operation::PaymentSearch {
            from,
            to,
            amount,
            payer,
        } => {
            // why: `paid_on IS NOT NULL` (every payment has its date) lets the search use the
            // partial index on payment dates, which holds no charges.
            let mut q = ledger_entry::Entity::find()
                .filter(ledger_entry::Column::Kind.eq("payment"))
                .filter(ledger_entry::Column::PaidOn.is_not_null());
            if let Some(f) = from {
                q = q.filter(ledger_entry::Column::PaidOn.gte(f));
            }
            if let Some(t) = to {
                q = q.filter(ledger_entry::Column::PaidOn.lte(t));
            }
            if let Some(a) = amount {
                q = q.filter(ledger_entry::Column::AmountKop.eq(-a.kopiykas().abs()));
            }
            if let Some(p) = payer.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                q = q.filter(ledger_entry::Column::Payer.contains(p));
            }
            let found: Vec<EntryRecord> = q
                .order_by_desc(ledger_entry::Column::PaidOn)
                .limit(50)
                .all(txn)
                .await?
                .into_iter()
                .map(to_entry)
                .collect();
            let ids: BTreeSet<i32> = found.iter().map(|e| e.account_id).collect();
            let numbers: HashMap<i32, String> = account::Entity::find()
                .filter(account::Column::Id.is_in(ids))
                .all(txn)
                .await?
                .into_iter()
                .map(|a| (a.id, a.number))
                .collect();
            out.facts = serde_json::json!({
                "payments": found.iter().map(|e| serde_json::json!({
                    "id": e.id,
                    "account": numbers.get(&e.account_id),
                    "paid_on": e.paid_on,
                    "amount": Money::from_kopiykas(-e.amount.kopiykas()),
                    "payer": e.payer,
                    "period": e.period,
                })).collect::<Vec<_>>()
            });
        }
        Operation::AttachPayment { payment_id } => {
            let p = ledger_entry::Entity::find_by_id(payment_id)
                .one(txn)
                .await?
                .filter(|p| p.kind == "payment")
                .ok_or_else(|| {
                    invalid(
                        format!("Платежу №{payment_id} немає."),
                        format!("There is no payment #{payment_id}."),
                    )
                })?;
            if p.account_id == acc.id {
                return Err(conflict(
                    "Цей платіж уже зараховано на цей рахунок.",
                    "This payment is already on this account.",
                ));
            }
            not_locked(ctx, p.account_id)?;
            // why: the payment stays where it was booked; a correction there and a payment here
            // move it, and the unique key on the source account lets it move only once.
            let amount = p.amount_kop;
            let source = post_entry(
                txn,
                NewEntry {
                    account_id: p.account_id,
                    period: p.period.clone(),
                    service: p.service.clone(),
                    kind: "correction",
                    amount_kop: -amount,
                    case_id: Some(ctx.case.id),
                    explanation: Some(Text::new(
                        format!("Платіж №{payment_id} перенесено на рахунок {}", acc.number),
                        format!("Payment #{payment_id} moved to account {}", acc.number),
                    )),
                    unique_key: Some(format!("moved:{payment_id}")),
                    ..Default::default()
                },
            )
            .await?;
            let target = post_entry(
                txn,
                NewEntry {
                    account_id: acc.id,
                    period: p.period.clone(),
                    service: p.service.clone(),
                    kind: "payment",
                    amount_kop: amount,
                    case_id: Some(ctx.case.id),
                    payer: p.payer.clone(),
                    paid_on: p.paid_on,
                    explanation: Some(Text::new(
                        format!("Знайдений платіж №{payment_id}"),
                        format!("Found payment #{payment_id}"),
                    )),
                    unique_key: Some(format!("attached:{payment_id}")),
                    ..Default::default()
                },
            )
            .await?;
            out.entries = vec![source, target];
        }
        Operation::InvoiceDuplicate { month } => {
            let entries = entries_of(txn, acc.id).await?;
            let period = month.to_string();
            let of_month: Vec<&EntryRecord> =
                entries.iter().filter(|e| e.period == period).collect();
            if of_month.is_empty() {
                return Err(invalid(
                    format!("За {period} на рахунку немає записів."),
                    format!("The account has no entries for {period}."),
                ));
            }
            let before: Money = entries
                .iter()
                .filter(|e| e.period < period)
                .map(|e| e.amount)
                .sum();
            let mut body = document_body(
                acc,
                Text::new(
                    format!("Дублікат рахунку за {period}"),
                    format!("Invoice duplicate for {period}"),
                ),
            );
            body.lines.push(Text::new(
                format!("Борг (переплата) на початок місяця: {before}"),
                format!("Debt (overpayment) at the start of the month: {before}"),
            ));
            body.amounts = of_month
                .iter()
                .map(|e| {
                    let k = EntryKind::parse(&e.kind)
                        .map(|k| k.name())
                        .unwrap_or_else(|| Text::new(e.kind.clone(), e.kind.clone()));
                    let s = service_name(&e.service);
                    (
                        Text::new(format!("{} {}", k.uk, s.uk), format!("{} {}", k.en, s.en)),
                        e.amount,
                    )
                })
                .collect();
            let total = before + of_month.iter().map(|e| e.amount).sum::<Money>();
            body.total = Some(total);
            out.facts = serde_json::json!({"to_pay": total});
            out.document = Some(issue_document(txn, ctx, "invoice_duplicate", body).await?);
        }
        Operation::Debt => {
            let entries = domain_entries(&entries_of(txn, acc.id).await?);
            let debt = debt_records(&entries);
            let total: Money = debt.iter().map(|d| d.amount).sum();
            out.facts = serde_json::json!({
                "balance": ledger::balance(&entries),
                "debt": total,
                "from": debt.first().map(|d| d.period.clone()),
                "to": debt.last().map(|d| d.period.clone()),
                "lines": debt,
            });
            let mut body = document_body(
                acc,
                Text::new("Довідка про заборгованість", "Debt statement"),
            );
            body.amounts = debt
                .iter()
                .map(|d| {
                    let s = service_name(&d.service);
                    (
                        Text::new(
                            format!("{} {}", d.period, s.uk),
                            format!("{} {}", d.period, s.en),
                        ),
                        d.amount,
                    )
                })
                .collect();
            body.total = Some(total);
            out.document = Some(issue_document(txn, ctx, "debt_statement", body).await?);
        }
        Operation::NoDebtCertificate => {
            let entries = domain_entries(&entries_of(txn, acc.id).await?);
            let bal = ledger::balance(&entries);
            if bal > Money::ZERO {
                return Err(AppError::Conflict(Text::new(
                    format!("Довідку не видано: на рахунку борг {bal} грн."),
                    format!("No certificate: the account owes UAH {bal}."),
                )));
            }
            let mut body = document_body(
                acc,
                Text::new(
                    "Довідка про відсутність заборгованості",
                    "No-debt certificate",
                ),
            );
            body.lines.push(Text::new(
                format!(
                    "Станом на {} заборгованості за житлово-комунальні послуги немає.",
                    show_date(ctx.today).uk
                ),
                format!(
                    "As of {} the account owes nothing for housing and communal services.",
                    show_date(ctx.today).en
                ),
            ));
            body.total = Some(bal);
            out.document = Some(issue_document(txn, ctx, "no_debt_certificate", body).await?);
        }
        Operation::CertificateF2 => {
            let full = load_account(txn, acc.clone()).await?;
            let entries = entries_of(txn, acc.id).await?;
            let mut body = document_body(
                acc,
                Text::new(
                    "Довідка Ф-2 про склад сім'ї та нарахування й оплату",
                    "Certificate F-2: family composition, charges and payments",
                ),
            );
            body.lines.push(Text::new(
                format!("Зареєстровано осіб: {}", acc.registered_residents),
                format!("Registered residents: {}", acc.registered_residents),
            ));
            for o in &full.owners {
                body.lines.push(Text::new(
                    format!("Власник: {} ({}/{})", o.name, o.share_num, o.share_den),
                    format!("Owner: {} ({}/{})", o.name, o.share_num, o.share_den),
                ));
            }
            let mut by_period: BTreeMap<&str, (Money, Money)> = BTreeMap::new();
            for e in &entries {
                let slot = by_period.entry(e.period.as_str()).or_default();
                if e.kind == "payment" {
                    slot.1 = slot.1 + Money::from_kopiykas(-e.amount.kopiykas());
                } else {
                    slot.0 = slot.0 + e.amount;
                }
            }
            for (p, (charged, paid)) in by_period.iter().rev().take(6).rev() {
                body.amounts.push((
                    Text::new(format!("{p} нараховано"), format!("{p} charged")),
                    *charged,
                ));
                body.amounts.push((
                    Text::new(format!("{p} сплачено"), format!("{p} paid")),
                    *paid,
                ));
            }
            body.total = Some(full.balance);
            out.document = Some(issue_document(txn, ctx, "certificate_f2", body).await?);
        }
        Operation::BenefitUseCertificate => {
            let full = load_account(txn, acc.clone()).await?;
            if full.benefits.is_empty() {
                return Err(invalid(
                    "На рахунку немає пільг.",
                    "The account has no benefits.",
                ));
            }
            let entries = entries_of(txn, acc.id).await?;
            let mut body = document_body(
                acc,
                Text::new("Довідка про використання пільги", "Benefit use certificate"),
            );
            for b in &full.benefits {
                body.lines.push(Text::new(
                    format!(
                        "Пільга «{}»: {}%, осіб {}, з {}{}",
                        b.category,
                        b.share_pct,
                        b.persons,
                        b.valid_from,
                        b.valid_to.map(|d| format!(" по {d}")).unwrap_or_default()
                    ),
                    format!(
                        "Benefit \"{}\": {}%, {} persons, from {}{}",
                        b.category,
                        b.share_pct,
                        b.persons,
                        b.valid_from,
                        b.valid_to.map(|d| format!(" to {d}")).unwrap_or_default()
                    ),
                ));
            }
            let mut by_period: BTreeMap<&str, Money> = BTreeMap::new();
            for e in entries.iter().filter(|e| e.kind == "benefit") {
                let slot = by_period.entry(e.period.as_str()).or_default();
                *slot = *slot + Money::from_kopiykas(-e.amount.kopiykas());
            }
            body.amounts = by_period
                .iter()
                .map(|(p, m)| (Text::new(p.to_string(), p.to_string()), *m))
                .collect();
            body.total = Some(by_period.values().copied().sum());
            out.document = Some(issue_document(txn, ctx, "benefit_use_certificate", body).await?);
        }
        Operation::AreaChange {
            from,
            total_area_cm2,
            heated_area_cm2,
        } => {
            if total_area_cm2 <= 0 || heated_area_cm2 < 0 || heated_area_cm2 > total_area_cm2 {
                return Err(invalid(
                    "Площа має бути додатною, опалювана — не більшою за загальну.",
                    "The area must be positive and the heated area no larger than the total.",
                ));
            }
            let services = account_service::Entity::find()
                .filter(account_service::Column::AccountId.eq(acc.id))
                .all(txn)
                .await?;
            let entries = entries_of(txn, acc.id).await?;
            let tariffs: Vec<Tariff> = tariff::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(to_tariff)
                .collect();
            let old = ChargeBase {
                residents: 0,
                total_area_cm2: acc.total_area_cm2,
                heated_area_cm2: acc.heated_area_cm2,
                consumption_milli: 0,
            };
            let new = ChargeBase {
                total_area_cm2,
                heated_area_cm2,
                ..old
            };
            let from_s = from.to_string();
            let periods: BTreeSet<&str> = entries
                .iter()
                .filter(|e| e.kind == "charge" && e.period.as_str() >= from_s.as_str())
                .map(|e| e.period.as_str())
                .collect();
            for s in &services {
                let Some(basis) = Basis::parse(&s.basis) else {
                    continue;
                };
                if !matches!(basis, Basis::PerArea | Basis::PerHeatedArea) {
                    continue;
                }
                for p in &periods {
                    let Some(month) = period_of(p) else { continue };
                    if !entries
                        .iter()
                        .any(|e| e.kind == "charge" && e.period == *p && e.service == s.service)
                    {
                        continue;
                    }
                    let Some(t) = ledger::tariff_for(&tariffs, &s.service, month) else {
                        continue;
                    };
                    let (Some(was), Some(now)) = (
                        ledger::monthly_charge(basis, t, &old),
                        ledger::monthly_charge(basis, t, &new),
                    ) else {
                        continue;
                    };
                    let diff = now - was;
                    if diff == Money::ZERO {
                        continue;
                    }
                    out.entries.push(
                        post_entry(
                            txn,
                            NewEntry {
                                account_id: acc.id,
                                period: p.to_string(),
                                service: s.service.clone(),
                                kind: "adjustment",
                                amount_kop: diff.kopiykas(),
                                case_id: Some(ctx.case.id),
                                explanation: Some(Text::new(
                                    format!("Зміна площі з {from_s}: {} замість {} грн", now, was),
                                    format!(
                                        "Area change from {from_s}: {} instead of {}",
                                        now, was
                                    ),
                                )),
                                ..Default::default()
                            },
                        )
                        .await?,
                    );
                }
            }
            account::Entity::update_many()
                .col_expr(account::Column::TotalAreaCm2, Expr::value(total_area_cm2))
                .col_expr(account::Column::HeatedAreaCm2, Expr::value(heated_area_cm2))
                .filter(account::Column::Id.eq(acc.id))
                .exec(txn)
                .await?;
        }
        Operation::OwnerChange { owners } => {
            check_shares(&owners).map_err(AppError::invalid)?;
            replace_owners(txn, acc.id, &owners).await?;
            let names: Vec<&str> = owners.iter().map(|o| o.name.as_str()).collect();
            account::Entity::update_many()
                .col_expr(account::Column::OwnerName, Expr::value(names.join(", ")))
                .filter(account::Column::Id.eq(acc.id))
                .exec(txn)
                .await?;
            out.facts = serde_json::json!({"owners": names});
        }
        Operation::MeterReading {
            serial,
            date,
            value_milli,
        } => {
            let m = meter::Entity::find()
                .filter(meter::Column::AccountId.eq(acc.id))
                .filter(meter::Column::Serial.eq(serial.trim()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    invalid(
                        format!("На рахунку немає лічильника «{serial}»."),
                        format!("The account has no meter \"{serial}\"."),
                    )
                })?;
            let prev = meter_reading::Entity::find()
                .filter(meter_reading::Column::MeterId.eq(m.id))
                .order_by_desc(meter_reading::Column::ReadOn)
                .one(txn)
                .await?
                .map(|r| Reading {
                    on: r.read_on,
                    value_milli: r.value_milli,
                });
            // why: 5 m³ (or kWh ×1000 / 200) a day is far beyond any household; the check
            // catches a misplaced decimal point.
            let max_per_day = if m.service == "electricity" {
                200_000
            } else {
                5_000
            };
            let used = check_reading(
                prev,
                Reading {
                    on: date,
                    value_milli,
                },
                max_per_day,
                m.verification_due,
            )
            .map_err(AppError::invalid)?;
            meter_reading::ActiveModel {
                meter_id: Set(m.id),
                read_on: Set(date),
                value_milli: Set(value_milli),
                case_id: Set(Some(ctx.case.id)),
                created_at: Set(super::now()),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    conflict(
                        "Показник на цю дату вже внесено.",
                        "A reading for this date is already recorded.",
                    )
                } else {
                    e.into()
                }
            })?;
            out.facts = serde_json::json!({"consumption": show_milli(used)});
        }
        Operation::MeterSealStop {
            rule_set,
            service,
            serial,
            seal_date,
        } => {
            let rs = ctx
                .rules
                .get(&rule_set)
                .map_err(|e| AppError::invalid(e.text()))?;
            let month = YearMonth::of(seal_date);
            let period = month.to_string();
            let charge: Money = entries_of(txn, acc.id)
                .await?
                .iter()
                .filter(|e| e.kind == "charge" && e.period == period && e.service == service.id())
                .map(|e| e.amount)
                .sum();
            if charge <= Money::ZERO {
                return Err(invalid(
                    format!("За {period} немає нарахування за нормою для цієї послуги."),
                    format!("There is no norm-based charge of this service for {period}."),
                ));
            }
            let result = meter_seal::calculate(
                rs,
                &SealInput {
                    month,
                    charge,
                    seal_date,
                },
            )
            .map_err(AppError::invalid_fields)?;
            // From now on the service is charged by the meter.
            let existing = meter::Entity::find()
                .filter(meter::Column::AccountId.eq(acc.id))
                .filter(meter::Column::Serial.eq(serial.trim()))
                .one(txn)
                .await?;
            match existing {
                Some(m) => {
                    meter::Entity::update_many()
                        .col_expr(meter::Column::SealedOn, Expr::value(seal_date))
                        .filter(meter::Column::Id.eq(m.id))
                        .exec(txn)
                        .await?;
                }
                None => {
                    meter::ActiveModel {
                        account_id: Set(acc.id),
                        service: Set(service.id().to_string()),
                        serial: Set(serial.trim().to_string()),
                        sealed_on: Set(Some(seal_date)),
                        verification_due: Set(seal_date.with_year(seal_date.year() + 8)),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                }
            }
            account_service::Entity::update_many()
                .col_expr(
                    account_service::Column::Basis,
                    Expr::value(Basis::PerMeter.code()),
                )
                .filter(account_service::Column::AccountId.eq(acc.id))
                .filter(account_service::Column::Service.eq(service.id()))
                .exec(txn)
                .await?;
            out.entries.push(
                post_entry(
                    txn,
                    NewEntry {
                        account_id: acc.id,
                        period: period.clone(),
                        service: service.id().to_string(),
                        kind: "adjustment",
                        amount_kop: -result.credit.kopiykas(),
                        case_id: Some(ctx.case.id),
                        rule_set: Some((
                            result.rule_set.clone(),
                            i32::try_from(result.version).unwrap_or(0),
                        )),
                        explanation: Some(result.explanation.clone()),
                        unique_key: Some(format!("seal:{period}:{}", service.id())),
                        ..Default::default()
                    },
                )
                .await?,
            );
        }
        Operation::Restructuring { months, first_due } => {
            if months == 0 || months > 60 {
                return Err(invalid(
                    "Кількість місяців — від 1 до 60.",
                    "The number of months is 1 to 60.",
                ));
            }
            let entries = domain_entries(&entries_of(txn, acc.id).await?);
            let owed = ledger::balance(&entries);
            if owed <= Money::ZERO {
                return Err(invalid(
                    "На рахунку немає боргу для реструктуризації.",
                    "The account has no debt to restructure.",
                ));
            }
            let parts = instalments(owed, months);
            let mut body = document_body(
                acc,
                Text::new(
                    "Договір про реструктуризацію заборгованості",
                    "Debt restructuring agreement",
                ),
            );
            body.lines.push(Text::new(
                format!("Борг {owed} грн сплачується частинами протягом {months} міс."),
                format!("The debt of UAH {owed} is paid in {months} monthly instalments."),
            ));
            let mut due = first_due;
            let mut schedule = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                body.amounts.push((
                    Text::new(
                        format!("{}. до {}", i + 1, due),
                        format!("{}. by {}", i + 1, due),
                    ),
                    *p,
                ));
                schedule.push(serde_json::json!({"due": due, "amount": p}));
                due = due
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(due);
            }
            body.total = Some(parts.iter().copied().sum());
            out.facts = serde_json::json!({"debt": owed, "schedule": schedule});
            out.document = Some(issue_document(txn, ctx, "agreement", body).await?);
        }
        Operation::QualityClaimAct {
            service,
            from,
            to,
            description,
        } => {
            if to < from || description.trim().is_empty() {
                return Err(invalid(
                    "Вкажіть опис і період (кінець не раніше початку).",
                    "Give a description and a period (the end not before the start).",
                ));
            }
            let s = service.name();
            let mut body = document_body(
                acc,
                Text::new("Акт-претензія щодо якості послуги", "Quality claim act"),
            );
            body.lines.push(Text::new(
                format!(
                    "Послуга: {}; з {} по {}.",
                    s.uk,
                    show_date(from).uk,
                    show_date(to).uk
                ),
                format!(
                    "Service: {}; from {} to {}.",
                    s.en,
                    show_date(from).en,
                    show_date(to).en
                ),
            ));
            body.lines.push(Text::new(description.clone(), description));
            out.document = Some(issue_document(txn, ctx, "act", body).await?);
        }
        Operation::HeatAllocation {
            rule_set,
            month,
            heat_gcal,
            tariff_per_gcal,
        } => {
            let rs = ctx
                .rules
                .get(&rule_set)
                .map_err(|e| AppError::invalid(e.text()))?;
            let Some(building_id) = acc.building_id else {
                return Err(invalid(
                    "Рахунок не прив'язаний до будинку.",
                    "The account is not linked to a building.",
                ));
            };
            let premises = account::Entity::find()
                .filter(account::Column::BuildingId.eq(building_id))
                .order_by_asc(account::Column::Id)
                .all(txn)
                .await?;
            for p in &premises {
                not_locked(ctx, p.id)?;
            }
            let ids: Vec<i32> = premises.iter().map(|p| p.id).collect();
            let heated: BTreeSet<i32> = account_service::Entity::find()
                .filter(account_service::Column::AccountId.is_in(ids))
                .filter(account_service::Column::Service.eq("heating"))
                .filter(account_service::Column::Basis.eq(Basis::BuildingHeatMeter.code()))
                .filter(account_service::Column::Active.eq(true))
                .all(txn)
                .await?
                .into_iter()
                .map(|s| s.account_id)
                .collect();
            let input = HeatInput {
                heat_gcal,
                tariff_per_gcal,
                common_share: None,
                premises: premises
                    .iter()
                    .map(|p| Premise {
                        id: p.number.clone(),
                        area_m2: Decimal::new(p.heated_area_cm2, 4),
                        connected: heated.contains(&p.id),
                    })
                    .collect(),
            };
            let result = heat::calculate(rs, &input).map_err(AppError::invalid_fields)?;
            let period = month.to_string();
            for (p, line) in premises.iter().zip(result.premises.iter()) {
                if line.charge == Money::ZERO {
                    continue;
                }
                out.entries.push(
                    post_entry(
                        txn,
                        NewEntry {
                            account_id: p.id,
                            period: period.clone(),
                            service: "heating".into(),
                            kind: "charge",
                            amount_kop: line.charge.kopiykas(),
                            case_id: Some(ctx.case.id),
                            rule_set: Some((
                                result.rule_set.clone(),
                                i32::try_from(result.version).unwrap_or(0),
                            )),
                            explanation: Some(line.explanation.clone()),
                            unique_key: Some(format!("charge:{period}:heating")),
                            ..Default::default()
                        },
                    )
                    .await?,
                );
            }
            out.facts = serde_json::json!({"total_charge": result.total_charge, "premises": out.entries.len()});
        }
        Operation::SealedMeterFix {
            rule_set,
            service,
            serial,
            seal_date,
            readings,
        } => {
            sealed_meter_fix(
                txn, ctx, &mut out, &rule_set, service, &serial, seal_date, readings,
            )
            .await?
        }
        Operation::HotWaterQuality {
            rule_set,
            month,
            readings,
            interruptions,
            registered_at,
            restored_at,
            signatories,
        } => {
            hot_water_quality(
                txn,
                ctx,
                &mut out,
                QualityClaim {
                    rule_set,
                    month,
                    readings,
                    interruptions,
                    registered_at,
                    restored_at,
                    signatories,
                },
            )
            .await?
        }
        Operation::AccountOpening(new) => account_opening(txn, ctx, &mut out, new).await?,
        Operation::AccountSplit(split) => account_split(txn, ctx, &mut out, split).await?,
        Operation::Consultation => {
            out.facts = visit::consultation_facts(txn, acc, ctx.topic).await?;
        }
    }
    Ok(out)
}

// ---- sealed meter, hot water quality, account opening and split ---------------------------------

fn rule_set_of<'a>(
    rules: &'a RuleSetRegistry,
    id: &str,
) -> AppResult<&'a crate::domain::rules::RuleSet> {
    rules.get(id).map_err(|e| AppError::Invalid {
        message: e.text(),
        fields: vec![crate::error::FieldError::new("rule_set", e.text())],
    })
}

fn field_error(name: &str, uk: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid_fields(vec![crate::error::FieldError::new(name, Text::new(uk, en))])
}

/// Which of `keys` the account's ledger already holds: checked before posting, because on
/// PostgreSQL a failed insert aborts the whole transaction.
async fn posted_keys(
    txn: &impl ConnectionTrait,
    account_id: i32,
    keys: Vec<String>,
) -> AppResult<BTreeSet<String>> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::AccountId.eq(account_id))
        .filter(ledger_entry::Column::UniqueKey.is_in(keys))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|e| e.unique_key)
        .collect())
}

async fn all_tariffs(txn: &impl ConnectionTrait) -> AppResult<Vec<Tariff>> {
    Ok(tariff::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(to_tariff)
        .collect())
}

async fn meter_readings(txn: &impl ConnectionTrait, meter_id: i32) -> AppResult<Vec<Reading>> {
    Ok(meter_reading::Entity::find()
        .filter(meter_reading::Column::MeterId.eq(meter_id))
        .order_by_asc(meter_reading::Column::ReadOn)
        .all(txn)
        .await?
        .into_iter()
        .map(|r| Reading {
            on: r.read_on,
            value_milli: r.value_milli,
        })
        .collect())
}

fn max_per_day(service: &str) -> i64 {
    // why: as for a single reading, 5 m³ (or 200 kWh) a day is far beyond any household.
    if service == "electricity" {
        200_000
    } else {
        5_000
    }
}

/// Corrects the invoices of a meter sealed while the account went on being charged by the norm.
#[allow(clippy::too_many_arguments)]
async fn sealed_meter_fix(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    out: &mut OperationRecord,
    rule_set: &str,
    service: Service,
    serial: &str,
    seal_date: Option<NaiveDate>,
    readings: Vec<Reading>,
) -> AppResult<()> {
    let acc = &ctx.account;
    let rs = rule_set_of(ctx.rules, rule_set)?;
    let sid = service.id();
    if account_service::Entity::find()
        .filter(account_service::Column::AccountId.eq(acc.id))
        .filter(account_service::Column::Service.eq(sid))
        .one(txn)
        .await?
        .is_none()
    {
        return Err(field_error(
            "service",
            format!("Рахунок не має послуги «{sid}»."),
            format!("The account has no service \"{sid}\"."),
        ));
    }
    let existing = meter::Entity::find()
        .filter(meter::Column::AccountId.eq(acc.id))
        .filter(meter::Column::Serial.eq(serial))
        .one(txn)
        .await?;
    let (meter_id, sealed_on) = match existing {
        Some(m) => {
            if m.service != sid {
                return Err(field_error(
                    "serial",
                    format!("Лічильник «{serial}» — для послуги «{}».", m.service),
                    format!(
                        "The meter \"{serial}\" is for the service \"{}\".",
                        m.service
                    ),
                ));
            }
            let sealed = match (m.sealed_on, seal_date) {
                (Some(a), Some(b)) if a != b => {
                    return Err(field_error(
                        "seal_date",
                        format!("Лічильник опломбовано {a}, а не {b}."),
                        format!("The meter was sealed on {a}, not {b}."),
                    ));
                }
                (Some(a), _) => a,
                (None, Some(b)) => {
                    meter::Entity::update_many()
                        .col_expr(meter::Column::SealedOn, Expr::value(b))
                        .filter(meter::Column::Id.eq(m.id))
                        .exec(txn)
                        .await?;
                    b
                }
                (None, None) => {
                    return Err(field_error(
                        "seal_date",
                        "Вкажіть дату пломбування з акта.",
                        "Give the seal date from the seal act.",
                    ));
                }
            };
            (m.id, sealed)
        }
        None => {
            let Some(b) = seal_date else {
                return Err(field_error(
                    "seal_date",
                    "Вкажіть дату пломбування з акта: лічильника ще немає на рахунку.",
                    "Give the seal date from the seal act: the account has no such meter yet.",
                ));
            };
            let m = meter::ActiveModel {
                account_id: Set(acc.id),
                service: Set(sid.to_string()),
                serial: Set(serial.to_string()),
                sealed_on: Set(Some(b)),
                verification_due: Set(b.with_year(b.year() + 8)),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            (m.id, b)
        }
    };
    if sealed_on > ctx.today {
        return Err(field_error(
            "seal_date",
            "Дата пломбування ще не настала.",
            "The seal date is in the future.",
        ));
    }
    // The readings brought along join the meter's, each checked against the one before it.
    let mut known = meter_readings(txn, meter_id).await?;
    let mut brought = readings;
    brought.sort_by_key(|r| r.on);
    for (i, r) in brought.iter().enumerate() {
        if let Some(same) = known.iter().find(|k| k.on == r.on) {
            if same.value_milli == r.value_milli {
                continue;
            }
            return Err(conflict(
                format!("Показник на {} уже внесено інший.", r.on),
                format!("A different reading for {} is already recorded.", r.on),
            ));
        }
        let prev = known.iter().rev().find(|k| k.on < r.on).copied();
        let next = known.iter().find(|k| k.on > r.on).copied();
        check_reading(prev, *r, max_per_day(sid), None)
            .and_then(|_| match next {
                Some(n) if n.value_milli < r.value_milli => Err(Text::new(
                    format!("Показник більший за пізніший ({}).", n.on),
                    format!("The reading is above a later one ({}).", n.on),
                )),
                _ => Ok(0),
            })
            .map_err(|t| {
                AppError::invalid_fields(vec![crate::error::FieldError::new(
                    format!("readings[{i}]"),
                    t,
                )])
            })?;
        meter_reading::ActiveModel {
            meter_id: Set(meter_id),
            read_on: Set(r.on),
            value_milli: Set(r.value_milli),
            case_id: Set(Some(ctx.case.id)),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        known.push(*r);
        known.sort_by_key(|k| k.on);
    }
    let entries = entries_of(txn, acc.id).await?;
    let charges_of = |period: &str| -> Money {
        entries
            .iter()
            .filter(|e| e.kind == "charge" && e.service == sid && e.period == period)
            .map(|e| e.amount)
            .sum()
    };
    let Some(last) = entries
        .iter()
        .filter(|e| e.kind == "charge" && e.service == sid)
        .filter_map(|e| period_of(&e.period))
        .max()
    else {
        return Err(invalid(
            "Нарахувань за цією послугою ще не було: виправляти нічого.",
            "This service has not been charged yet: nothing to correct.",
        ));
    };
    let seal_month = YearMonth::of(sealed_on);
    let months = consumption_since_seal(&known, sealed_on, last);
    if months.is_empty() {
        return Err(field_error(
            "readings",
            "Немає показників лічильника від дати пломбування.",
            "There are no meter readings from the seal date on.",
        ));
    }
    let tariffs = all_tariffs(txn).await?;
    let mut keys: Vec<String> = months
        .iter()
        .map(|(m, _)| format!("sealfix:{m}:{sid}"))
        .collect();
    keys.push(format!("seal:{seal_month}:{sid}"));
    let taken = posted_keys(txn, acc.id, keys).await?;
    let version = i32::try_from(rs.version).unwrap_or(0);
    let seal_text = show_date(sealed_on);
    let mut skipped = 0;
    let mut lines: Vec<(Text, Money)> = Vec::new();
    for (m, used) in months {
        let period = m.to_string();
        let key = format!("sealfix:{period}:{sid}");
        if taken.contains(&key) {
            skipped += 1;
            continue;
        }
        let posted = charges_of(&period);
        let Some(t) = ledger::tariff_for(&tariffs, sid, m) else {
            continue;
        };
        let base = ChargeBase {
            consumption_milli: used,
            ..Default::default()
        };
        let Some(metered) = ledger::monthly_charge(Basis::PerMeter, t, &base) else {
            continue;
        };
        let amount = if m == seal_month {
            // The seal month: the norm charge stops on the seal day (RULES.md §4), unless
            // `meter_seal_stop` already credited it, and what the meter counted from then is owed.
            let seal_key = format!("seal:{period}:{sid}");
            if posted > Money::ZERO && !taken.contains(&seal_key) {
                let r = meter_seal::calculate(
                    rs,
                    &SealInput {
                        month: m,
                        charge: posted,
                        seal_date: sealed_on,
                    },
                )
                .map_err(AppError::invalid_fields)?;
                lines.push((r.explanation.clone(), Money::ZERO - r.credit));
                out.entries.push(
                    post_entry(
                        txn,
                        NewEntry {
                            account_id: acc.id,
                            period: period.clone(),
                            service: sid.to_string(),
                            kind: "adjustment",
                            amount_kop: -r.credit.kopiykas(),
                            case_id: Some(ctx.case.id),
                            rule_set: Some((r.rule_set.clone(), version)),
                            explanation: Some(r.explanation),
                            unique_key: Some(seal_key),
                            ..Default::default()
                        },
                    )
                    .await?,
                );
            }
            metered
        } else {
            // why: a month the charge run has not charged yet is charged by the meter when it runs
            // (the basis switches below); only months charged by the norm need correcting.
            if posted == Money::ZERO {
                continue;
            }
            metered - posted
        };
        if amount == Money::ZERO {
            continue;
        }
        let used_text = show_milli(used);
        let explanation = if m == seal_month {
            Text::new(
                format!(
                    "Лічильник опломбовано {}: з цього дня до кінця {period} спожито {used_text} × {} = {metered} грн.",
                    seal_text.uk, t.price
                ),
                format!(
                    "The meter was sealed on {}: from then to the end of {period}, {used_text} × {} = UAH {metered} was used.",
                    seal_text.en, t.price
                ),
            )
        } else {
            Text::new(
                format!(
                    "За {period} нараховано за нормою {posted} грн, а за лічильником (опломбовано {}) спожито {used_text} × {} = {metered} грн; виправлення {amount} грн.",
                    seal_text.uk, t.price
                ),
                format!(
                    "{period} was charged UAH {posted} by the norm, but the meter (sealed on {}) counted {used_text} × {} = UAH {metered}; correction UAH {amount}.",
                    seal_text.en, t.price
                ),
            )
        };
        lines.push((explanation.clone(), amount));
        out.entries.push(
            post_entry(
                txn,
                NewEntry {
                    account_id: acc.id,
                    period,
                    service: sid.to_string(),
                    kind: "correction",
                    amount_kop: amount.kopiykas(),
                    case_id: Some(ctx.case.id),
                    rule_set: Some((rs.id.clone(), version)),
                    explanation: Some(explanation),
                    unique_key: Some(key),
                    ..Default::default()
                },
            )
            .await?,
        );
    }
    if out.entries.is_empty() {
        return Err(if skipped > 0 {
            conflict(
                "Рахунки за цим лічильником уже виправлено.",
                "The invoices of this meter are already corrected.",
            )
        } else {
            invalid(
                "Нарахування вже відповідають показникам лічильника: виправляти нічого.",
                "The charges already match the meter's readings: nothing to correct.",
            )
        });
    }
    // From now on the charge run charges the service by its meter.
    account_service::Entity::update_many()
        .col_expr(
            account_service::Column::Basis,
            Expr::value(Basis::PerMeter.code()),
        )
        .filter(account_service::Column::AccountId.eq(acc.id))
        .filter(account_service::Column::Service.eq(sid))
        .exec(txn)
        .await?;
    let total: Money = out.entries.iter().map(|e| e.amount).sum();
    let name = service.name();
    let mut body = document_body(
        acc,
        Text::new(
            format!(
                "Виправлення рахунків за опломбованим лічильником: {}",
                name.uk
            ),
            format!("Sealed meter invoice correction: {}", name.en),
        ),
    );
    body.lines.push(Text::new(
        format!("Лічильник {serial}, опломбовано {}.", seal_text.uk),
        format!("Meter {serial}, sealed on {}.", seal_text.en),
    ));
    body.lines.extend(lines.iter().map(|(t, _)| t.clone()));
    body.amounts = out
        .entries
        .iter()
        .map(|e| {
            let k = EntryKind::parse(&e.kind)
                .map(|k| k.name())
                .unwrap_or_else(|| Text::new(e.kind.clone(), e.kind.clone()));
            (
                Text::new(
                    format!("{} {}", e.period, k.uk),
                    format!("{} {}", e.period, k.en),
                ),
                e.amount,
            )
        })
        .collect();
    body.total = Some(total);
    out.document = Some(issue_document(txn, ctx, "meter_correction", body).await?);
    out.facts = serde_json::json!({
        "rule_set": rs.id,
        "version": rs.version,
        "sealed_on": sealed_on,
        "total": total,
    });
    Ok(())
}

/// A hot-water quality claim, parsed.
struct QualityClaim {
    rule_set: String,
    month: YearMonth,
    readings: Vec<hot_water::Reading>,
    interruptions: Vec<hot_water::Interruption>,
    registered_at: Option<chrono::NaiveDateTime>,
    restored_at: Option<chrono::NaiveDateTime>,
    signatories: Vec<String>,
}

/// The month's hot-water volume: by the meter when the account has one with readings of the
/// month, else the norm for the registered residents. In thousandths of a m³.
async fn hot_water_volume(
    txn: &impl ConnectionTrait,
    acc: &account::Model,
    norm_milli: i64,
    month: YearMonth,
) -> AppResult<i64> {
    let metered = account_service::Entity::find()
        .filter(account_service::Column::AccountId.eq(acc.id))
        .filter(account_service::Column::Service.eq("hot_water"))
        .filter(account_service::Column::Basis.eq(Basis::PerMeter.code()))
        .one(txn)
        .await?
        .is_some();
    if metered
        && let Some(m) = meter::Entity::find()
            .filter(meter::Column::AccountId.eq(acc.id))
            .filter(meter::Column::Service.eq("hot_water"))
            .one(txn)
            .await?
    {
        let rs = meter_readings(txn, m.id).await?;
        let start = rs.iter().rev().find(|r| r.on < month.first_day());
        let end = rs.iter().rev().find(|r| r.on <= month.last_day());
        if let (Some(a), Some(b)) = (start, end) {
            return Ok(std::cmp::max(b.value_milli - a.value_milli, 0));
        }
    }
    Ok(norm_milli * i64::from(std::cmp::max(acc.registered_residents, 0)))
}

/// Reduces the account's own hot-water charge of the month for poor quality (RULES.md §2).
async fn hot_water_quality(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    out: &mut OperationRecord,
    claim: QualityClaim,
) -> AppResult<()> {
    let acc = &ctx.account;
    let rs = rule_set_of(ctx.rules, &claim.rule_set)?;
    let month = claim.month;
    let period = month.to_string();
    let charge: Money = entries_of(txn, acc.id)
        .await?
        .iter()
        .filter(|e| e.kind == "charge" && e.service == "hot_water" && e.period == period)
        .map(|e| e.amount)
        .sum();
    if charge <= Money::ZERO {
        return Err(field_error(
            "month",
            format!("За {period} на рахунку немає нарахування за гарячу воду."),
            format!("The account has no hot-water charge for {period}."),
        ));
    }
    let tariffs = all_tariffs(txn).await?;
    let (Some(hot), Some(cold)) = (
        ledger::tariff_for(&tariffs, "hot_water", month),
        ledger::tariff_for(&tariffs, "cold_water", month),
    ) else {
        return Err(field_error(
            "month",
            format!("Немає тарифів на гарячу й холодну воду за {period}."),
            format!("There are no hot and cold water tariffs for {period}."),
        ));
    };
    let volume_milli = hot_water_volume(txn, acc, hot.norm_milli, month).await?;
    // why: the violation counts from its registration to the registration of restored service
    // (RULES.md §2): an hour counts when it overlaps that window; interruptions are clipped to it.
    let from = claim.registered_at;
    let to = claim.restored_at;
    let hour = chrono::Duration::hours(1);
    let readings: Vec<hot_water::Reading> = claim
        .readings
        .into_iter()
        .filter(|r| from.is_none_or(|f| r.hour + hour > f) && to.is_none_or(|t| r.hour < t))
        .collect();
    let interruptions: Vec<hot_water::Interruption> = claim
        .interruptions
        .into_iter()
        .filter_map(|mut it| {
            if let Some(f) = from {
                it.start = std::cmp::max(it.start, f);
            }
            if let Some(t) = to {
                it.end = std::cmp::min(it.end, t);
            }
            (it.end > it.start).then_some(it)
        })
        .collect();
    let input = HotWaterInput {
        month,
        timezone: rs.timezone,
        charge,
        hot_tariff: hot.price,
        cold_tariff: cold.price,
        volume_m3: Decimal::new(volume_milli, 3),
        readings,
        interruptions,
    };
    let result = hot_water::calculate(rs, &input).map_err(AppError::invalid_fields)?;
    if result.total == Money::ZERO {
        return Err(invalid(
            "За поданими даними якість у межах норм: перерахунку немає.",
            "By the data given the quality was within the norms: nothing to recalculate.",
        ));
    }
    let uk: Vec<&str> = result
        .lines
        .iter()
        .filter(|l| l.amount > Money::ZERO)
        .map(|l| l.explanation.uk.as_str())
        .collect();
    let en: Vec<&str> = result
        .lines
        .iter()
        .filter(|l| l.amount > Money::ZERO)
        .map(|l| l.explanation.en.as_str())
        .collect();
    out.entries.push(
        post_entry(
            txn,
            NewEntry {
                account_id: acc.id,
                period: period.clone(),
                service: "hot_water".into(),
                kind: "adjustment",
                amount_kop: -result.total.kopiykas(),
                case_id: Some(ctx.case.id),
                rule_set: Some((
                    result.rule_set.clone(),
                    i32::try_from(result.version).unwrap_or(0),
                )),
                explanation: Some(Text::new(uk.join(" "), en.join(" "))),
                // why: one quality recalculation per account and month, whichever claim or clerk
                // posts it; a second claim of the month is a conflict.
                unique_key: Some(format!("hot_water_quality:{period}")),
                ..Default::default()
            },
        )
        .await?,
    );
    let mut body = document_body(
        acc,
        Text::new(
            "Розрахунок перерахунку за неякісну гарячу воду",
            "Hot water quality recalculation statement",
        ),
    );
    if let Some(f) = from {
        body.lines.push(Text::new(
            format!("Порушення зареєстровано: {}", f.format("%d.%m.%Y %H:%M")),
            format!("Violation registered: {}", f.format("%d.%m.%Y %H:%M")),
        ));
    }
    if let Some(t) = to {
        body.lines.push(Text::new(
            format!("Відновлення зареєстровано: {}", t.format("%d.%m.%Y %H:%M")),
            format!(
                "Restored service registered: {}",
                t.format("%d.%m.%Y %H:%M")
            ),
        ));
    }
    if !claim.signatories.is_empty() {
        let names = claim.signatories.join(", ");
        body.lines.push(Text::new(
            format!("Акт підписали: {names}"),
            format!("The act was signed by: {names}"),
        ));
    }
    body.lines.extend(result.explanation.iter().cloned());
    body.lines
        .extend(result.lines.iter().map(|l| l.explanation.clone()));
    body.amounts = result
        .lines
        .iter()
        .map(|l| {
            let name = match l.kind {
                hot_water::LineKind::Temperature => Text::new("Температура", "Temperature"),
                hot_water::LineKind::Below40 => Text::new("Нижче 40 °C", "Below 40 °C"),
                hot_water::LineKind::Pressure => Text::new("Тиск", "Pressure"),
                hot_water::LineKind::Interruptions => Text::new("Перерви", "Interruptions"),
            };
            (name, l.amount)
        })
        .collect();
    body.total = Some(result.total);
    out.document = Some(issue_document(txn, ctx, "recalculation_statement", body).await?);
    out.facts = serde_json::json!({
        "rule_set": result.rule_set,
        "version": result.version,
        "charge": charge,
        "hot_tariff": hot.price,
        "cold_tariff": cold.price,
        "volume_m3": show_milli(volume_milli),
        "timezone": rs.timezone.name(),
        "total": result.total,
        "signatories": claim.signatories,
    });
    Ok(())
}

async fn new_account_number_free(txn: &impl ConnectionTrait, number: &str) -> AppResult<()> {
    if account_by_number(txn, number).await?.is_some() {
        return Err(conflict(
            format!("Рахунок № {number} уже існує."),
            format!("Account No. {number} already exists."),
        ));
    }
    Ok(())
}

fn owner_names(owners: &[OwnerShare]) -> String {
    owners
        .iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts a new account row; a number taken meanwhile is a conflict.
async fn insert_account(
    txn: &impl ConnectionTrait,
    model: account::ActiveModel,
) -> AppResult<account::Model> {
    model.insert(txn).await.map_err(|e| {
        if is_unique_violation(&e) {
            conflict(
                "Номер рахунку щойно зайнято.",
                "The account number was just taken.",
            )
        } else {
            e.into()
        }
    })
}

/// Opens a new personal account; the case stays on its own account and records the new one.
async fn account_opening(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    out: &mut OperationRecord,
    new: NewAccount,
) -> AppResult<()> {
    let building_id = match &new.building {
        Some(address) => Some(
            building::Entity::find()
                .filter(building::Column::Address.eq(address.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    field_error(
                        "building",
                        format!("Будинку «{address}» немає в переліку."),
                        format!("There is no building \"{address}\"."),
                    )
                })?
                .id,
        ),
        None => None,
    };
    new_account_number_free(txn, &new.number).await?;
    let created = insert_account(
        txn,
        account::ActiveModel {
            number: Set(new.number.clone()),
            owner_name: Set(owner_names(&new.owners)),
            address: Set(new.address.clone()),
            total_area_cm2: Set(new.total_area_cm2),
            heated_area_cm2: Set(new.heated_area_cm2),
            registered_residents: Set(i32::try_from(new.residents).unwrap_or(0)),
            created_at: Set(super::now()),
            building_id: Set(building_id),
            version: Set(0),
            ..Default::default()
        },
    )
    .await?;
    replace_owners(txn, created.id, &new.owners).await?;
    for (service, basis) in &new.services {
        account_service::ActiveModel {
            account_id: Set(created.id),
            service: Set(service.id().to_string()),
            basis: Set(basis.code().to_string()),
            active: Set(true),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    for m in &new.meters {
        let row = meter::ActiveModel {
            account_id: Set(created.id),
            service: Set(m.service.id().to_string()),
            serial: Set(m.serial.clone()),
            sealed_on: Set(Some(m.sealed_on)),
            verification_due: Set(m.sealed_on.with_year(m.sealed_on.year() + 8)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        meter_reading::ActiveModel {
            meter_id: Set(row.id),
            read_on: Set(m.sealed_on),
            value_milli: Set(m.value_milli),
            case_id: Set(Some(ctx.case.id)),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    audit(
        txn,
        ctx.case.id,
        ctx.staff.id,
        "account_opened",
        format!(
            "account {} opened (case of account {})",
            created.number, ctx.account.number
        ),
    )
    .await?;
    let mut body = document_body(
        &created,
        Text::new(
            "Довідка про відкриття особового рахунку",
            "Personal account opening certificate",
        ),
    );
    body.lines.push(Text::new(
        format!(
            "Відкрито особовий рахунок № {} з {}.",
            created.number,
            show_date(ctx.today).uk
        ),
        format!(
            "Personal account No. {} is opened from {}.",
            created.number,
            show_date(ctx.today).en
        ),
    ));
    for o in &new.owners {
        body.lines.push(Text::new(
            format!("Власник: {} ({}/{})", o.name, o.numerator, o.denominator),
            format!("Owner: {} ({}/{})", o.name, o.numerator, o.denominator),
        ));
    }
    body.lines.push(Text::new(
        format!(
            "Загальна площа {} м², опалювана {} м²; зареєстровано осіб: {}.",
            Money::from_kopiykas(new.total_area_cm2 / 100),
            Money::from_kopiykas(new.heated_area_cm2 / 100),
            new.residents
        ),
        format!(
            "Total area {} m², heated {} m²; registered residents: {}.",
            Money::from_kopiykas(new.total_area_cm2 / 100),
            Money::from_kopiykas(new.heated_area_cm2 / 100),
            new.residents
        ),
    ));
    for (s, b) in &new.services {
        let n = s.name();
        body.lines.push(Text::new(
            format!("Послуга: {} ({})", n.uk, b.code()),
            format!("Service: {} ({})", n.en, b.code()),
        ));
    }
    out.document =
        Some(issue_document_for(txn, ctx, &created.number, "account_opening", body).await?);
    out.facts = serde_json::json!({
        "account": created.number,
        "owners": owner_names(&new.owners),
        "services": new.services.iter().map(|(s, b)| serde_json::json!({"service": s.id(), "basis": b.code()})).collect::<Vec<_>>(),
        "meters": new.meters.len(),
    });
    Ok(())
}

/// Splits the case's account: a new account takes residents, area, owners and services; nothing
/// is posted, past entries stay where they were charged.
async fn account_split(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    out: &mut OperationRecord,
    split: Split,
) -> AppResult<()> {
    let acc = &ctx.account;
    let from = SplitFrom {
        residents: u32::try_from(acc.registered_residents).unwrap_or(0),
        total_area_cm2: acc.total_area_cm2,
        heated_area_cm2: acc.heated_area_cm2,
    };
    let errors = check_split(&split, from);
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let services = account_service::Entity::find()
        .filter(account_service::Column::AccountId.eq(acc.id))
        .filter(account_service::Column::Active.eq(true))
        .all(txn)
        .await?;
    let mut copied: Vec<(Service, String)> = Vec::new();
    for (i, s) in split.services.iter().enumerate() {
        let Some(row) = services.iter().find(|r| r.service == s.id()) else {
            return Err(field_error(
                &format!("services[{i}]"),
                format!("Рахунок не має послуги «{}».", s.id()),
                format!("The account has no service \"{}\".", s.id()),
            ));
        };
        // why: a metered service needs its own meter; only a moved one takes the old meter along.
        if row.basis == Basis::PerMeter.code() && !split.moved.contains(s) {
            return Err(field_error(
                &format!("services[{i}]"),
                format!(
                    "Послуга «{}» — за лічильником: її можна лише перенести разом із лічильником.",
                    s.id()
                ),
                format!(
                    "The service \"{}\" is metered: it can only move with its meter.",
                    s.id()
                ),
            ));
        }
        copied.push((*s, row.basis.clone()));
    }
    new_account_number_free(txn, &split.number).await?;
    let residents = i32::try_from(split.residents).unwrap_or(0);
    let created = insert_account(
        txn,
        account::ActiveModel {
            number: Set(split.number.clone()),
            owner_name: Set(owner_names(&split.owners)),
            address: Set(split.address.clone()),
            total_area_cm2: Set(split.total_area_cm2),
            heated_area_cm2: Set(split.heated_area_cm2),
            registered_residents: Set(residents),
            created_at: Set(super::now()),
            building_id: Set(acc.building_id),
            version: Set(0),
            ..Default::default()
        },
    )
    .await?;
    replace_owners(txn, created.id, &split.owners).await?;
    replace_owners(txn, acc.id, &split.remaining_owners).await?;
    account::Entity::update_many()
        .col_expr(
            account::Column::OwnerName,
            Expr::value(owner_names(&split.remaining_owners)),
        )
        .col_expr(
            account::Column::TotalAreaCm2,
            Expr::value(acc.total_area_cm2 - split.total_area_cm2),
        )
        .col_expr(
            account::Column::HeatedAreaCm2,
            Expr::value(acc.heated_area_cm2 - split.heated_area_cm2),
        )
        .col_expr(
            account::Column::RegisteredResidents,
            Expr::value(acc.registered_residents - residents),
        )
        .filter(account::Column::Id.eq(acc.id))
        .exec(txn)
        .await?;
    for (s, basis) in &copied {
        account_service::ActiveModel {
            account_id: Set(created.id),
            service: Set(s.id().to_string()),
            basis: Set(basis.clone()),
            active: Set(true),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    let moved: Vec<&str> = split.moved.iter().map(|s| s.id()).collect();
    if !moved.is_empty() {
        account_service::Entity::update_many()
            .col_expr(account_service::Column::Active, Expr::value(false))
            .filter(account_service::Column::AccountId.eq(acc.id))
            .filter(account_service::Column::Service.is_in(moved.clone()))
            .exec(txn)
            .await?;
        meter::Entity::update_many()
            .col_expr(meter::Column::AccountId, Expr::value(created.id))
            .filter(meter::Column::AccountId.eq(acc.id))
            .filter(meter::Column::Service.is_in(moved.clone()))
            .exec(txn)
            .await?;
    }
    // why: benefits and subsidies are granted to persons on their own application; they stay on
    // the old account until the persons apply for the new one.
    let services: Vec<&str> = copied.iter().map(|(s, _)| s.id()).collect();
    let area = |cm2: i64| Money::from_kopiykas(cm2 / 100);
    audit(
        txn,
        ctx.case.id,
        ctx.staff.id,
        "account_split",
        format!(
            "account {}: residents {} -> {}, area {} -> {} m², owners {}; services moved away [{}]",
            acc.number,
            acc.registered_residents,
            acc.registered_residents - residents,
            area(acc.total_area_cm2),
            area(acc.total_area_cm2 - split.total_area_cm2),
            owner_names(&split.remaining_owners),
            moved.join(", ")
        ),
    )
    .await?;
    audit(
        txn,
        ctx.case.id,
        ctx.staff.id,
        "account_opened",
        format!(
            "account {} split from {}: residents {residents}, area {} m², owners {}, services [{}]",
            created.number,
            acc.number,
            area(split.total_area_cm2),
            owner_names(&split.owners),
            services.join(", ")
        ),
    )
    .await?;
    let mut body = document_body(
        &created,
        Text::new(
            "Довідка про поділ особового рахунку",
            "Account split certificate",
        ),
    );
    body.lines.push(Text::new(
        format!(
            "Від рахунку № {} з {} відокремлено рахунок № {}: осіб {residents}, площа {} м² (опалювана {} м²).",
            acc.number,
            show_date(ctx.today).uk,
            created.number,
            area(split.total_area_cm2),
            area(split.heated_area_cm2)
        ),
        format!(
            "From {} account No. {} is split off account No. {}: {residents} residents, {} m² (heated {} m²).",
            show_date(ctx.today).en,
            acc.number,
            created.number,
            area(split.total_area_cm2),
            area(split.heated_area_cm2)
        ),
    ));
    body.lines.push(Text::new(
        format!("Послуги нового рахунку: {}.", services.join(", ")),
        format!("Services of the new account: {}.", services.join(", ")),
    ));
    out.document =
        Some(issue_document_for(txn, ctx, &created.number, "account_split", body).await?);
    out.facts = serde_json::json!({
        "account": created.number,
        "from": acc.number,
        "residents": residents,
        "services": services,
        "moved": moved,
    });
    Ok(())
}

fn service_name(id: &str) -> Text {
    match Service::parse(id) {
        Some(s) => s.name(),
        None if id.is_empty() => Text::new("усі послуги", "all services"),
        None => Text::new(id, id),
    }
}

fn document_body(acc: &account::Model, title: Text) -> DocumentBody {
    DocumentBody {
        title,
        account_number: acc.number.clone(),
        address: acc.address.clone(),
        owner: acc.owner_name.clone(),
        lines: Vec::new(),
        amounts: Vec::new(),
        total: None,
    }
}

async fn replace_owners(
    txn: &impl ConnectionTrait,
    account_id: i32,
    owners: &[OwnerShare],
) -> AppResult<()> {
    account_owner::Entity::delete_many()
        .filter(account_owner::Column::AccountId.eq(account_id))
        .exec(txn)
        .await?;
    for o in owners {
        account_owner::ActiveModel {
            account_id: Set(account_id),
            name: Set(o.name.trim().to_string()),
            share_num: Set(i32::try_from(o.numerator).unwrap_or(1)),
            share_den: Set(i32::try_from(o.denominator).unwrap_or(1)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Issues a document with the next number of the case's office in the current year. On
/// PostgreSQL the office row is locked for the numbering (SQLite has one writer); the unique
/// index (office, year, number) backs it on both.
async fn issue_document(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    kind: &str,
    body: DocumentBody,
) -> AppResult<DocumentRef> {
    issue_document_for(txn, ctx, &ctx.account.number, kind, body).await
}

/// As `issue_document`, for another account than the case's (a new account the case opened).
async fn issue_document_for(
    txn: &impl ConnectionTrait,
    ctx: &OpContext<'_>,
    account_number: &str,
    kind: &str,
    body: DocumentBody,
) -> AppResult<DocumentRef> {
    let office_id = ctx.case.office_id.unwrap_or(0);
    let year = ctx.today.year();
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM office WHERE id = $1 FOR UPDATE",
            [office_id.into()],
        ))
        .await?;
    }
    let last = case_document::Entity::find()
        .filter(case_document::Column::OfficeId.eq(office_id))
        .filter(case_document::Column::Year.eq(year))
        .order_by_desc(case_document::Column::Number)
        .one(txn)
        .await?
        .map(|d| d.number)
        .unwrap_or(0);
    let number = last + 1;
    let token = crate::security::random_token()[..20].to_string();
    case_document::ActiveModel {
        token: Set(token.clone()),
        office_id: Set(office_id),
        year: Set(year),
        number: Set(number),
        kind: Set(kind.to_string()),
        case_id: Set(ctx.case.id),
        account_number: Set(account_number.to_string()),
        issued_on: Set(ctx.today),
        body: Set(serde_json::to_string(&body).map_err(AppError::internal)?),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            conflict(
                "Номер документа щойно зайнято; повторіть дію.",
                "The document number was just taken; please repeat the action.",
            )
        } else {
            e.into()
        }
    })?;
    let _ = ctx.staff;
    Ok(DocumentRef {
        token,
        number: format!("{number}/{year}"),
        kind: kind.to_string(),
    })
}

/// A document by its public token.
pub async fn find_document(
    db: &impl ConnectionTrait,
    token: &str,
) -> AppResult<Option<DocumentRecord>> {
    let Some(d) = case_document::Entity::find()
        .filter(case_document::Column::Token.eq(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let office_name = office::Entity::find_by_id(d.office_id)
        .one(db)
        .await?
        .map(|o| Text::new(o.name, o.name_en))
        .unwrap_or_else(|| Text::new("Центр комунального сервісу", "Communal Service Center"));
    Ok(Some(DocumentRecord {
        body: serde_json::from_str(&d.body).map_err(AppError::internal)?,
        token: d.token,
        number: format!("{}/{}", d.number, d.year),
        kind: d.kind,
        case_id: d.case_id,
        account_number: d.account_number,
        issued_on: d.issued_on,
        office_name,
    }))
}

/// The documents of a case.
pub async fn list_case_documents(
    db: &impl ConnectionTrait,
    case_id: i32,
) -> AppResult<Vec<DocumentRef>> {
    Ok(case_document::Entity::find()
        .filter(case_document::Column::CaseId.eq(case_id))
        .order_by_asc(case_document::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|d| DocumentRef {
            token: d.token,
            number: format!("{}/{}", d.number, d.year),
            kind: d.kind,
        })
        .collect())
}

/// The checklist of documents for a service, for the case page.
pub fn checklist(procedures: &Procedures, service: &str) -> Vec<(String, Text)> {
    procedures
        .get(service)
        .map(|p| {
            p.checklist
                .iter()
                .map(|id| (id.clone(), document_name(id)))
                .collect()
        })
        .unwrap_or_default()
}

/// Number of ledger entries of an account (tests and benchmarks).
pub async fn count_entries(db: &impl ConnectionTrait, account_id: Option<i32>) -> AppResult<u64> {
    let mut q = ledger_entry::Entity::find();
    if let Some(id) = account_id {
        q = q.filter(ledger_entry::Column::AccountId.eq(id));
    }
    Ok(q.count(db).await?)
}

// ---- demo data -----------------------------------------------------------------------------------

/// Demo data of the case module, inside the demo's transaction: buildings, the demo accounts'
/// owners, services on every basis, tariffs, benefits, a subsidy, meters with readings, and six
/// months of charges and payments before `today`, so every operation can be tried on first start.
pub async fn load_demo(txn: &impl ConnectionTrait, today: NaiveDate) -> Result<(), DbErr> {
    let custom = |e: AppError| DbErr::Custom(e.to_string());
    let now = super::now();
    let mut buildings = Vec::new();
    for (address, meter) in [
        ("вул. Прикладна, 10", Some("ТЛ-100277")),
        ("вул. Прикладна, 12", None),
        ("просп. Демонстраційний, 7", None),
    ] {
        let b = building::ActiveModel {
            address: Set(address.into()),
            heat_meter_serial: Set(meter.map(str::to_string)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        buildings.push(b.id);
    }
    // Two more accounts beside the three of the foundation demo.
    for (number, owner, address, total, heated, residents) in [
        (
            "1000000004",
            "Бондар Марія Олексіївна",
            "вул. Прикладна, 10, кв. 6",
            612_000,
            550_000,
            4,
        ),
        (
            "1000000005",
            "Ткаченко Ігор Миколайович",
            "просп. Демонстраційний, 7, кв. 12",
            450_000,
            450_000,
            2,
        ),
    ] {
        account::ActiveModel {
            number: Set(number.into()),
            owner_name: Set(owner.into()),
            address: Set(address.into()),
            total_area_cm2: Set(total),
            heated_area_cm2: Set(heated),
            registered_residents: Set(residents),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    let accounts = account::Entity::find()
        .order_by_asc(account::Column::Id)
        .all(txn)
        .await?;
    let id_of = |n: &str| accounts.iter().find(|a| a.number == n).map(|a| a.id);
    let building_of = [
        ("1000000001", buildings[0]),
        ("1000000004", buildings[0]),
        ("1000000002", buildings[1]),
        ("1000000003", buildings[2]),
        ("1000000005", buildings[2]),
    ];
    for (n, b) in building_of {
        if let Some(id) = id_of(n) {
            account::Entity::update_many()
                .col_expr(account::Column::BuildingId, Expr::value(b))
                .filter(account::Column::Id.eq(id))
                .exec(txn)
                .await?;
        }
    }

    // Tariffs: a year ago and a rise three months ago, so validity periods matter.
    let start = YearMonth::of(today);
    let mut first = start;
    for _ in 0..6 {
        first = prev_month(first);
    }
    let year_ago = today.with_year(today.year() - 1).unwrap_or(today);
    let rise = {
        let mut m = start;
        for _ in 0..3 {
            m = prev_month(m);
        }
        m.first_day()
    };
    for (service, old, new, norm) in [
        ("cold_water", 3_070, 3_250, 3_500),
        ("hot_water", 10_540, 11_200, 1_700),
        ("sewerage", 2_390, 2_540, 5_200),
        ("gas", 799, 799, 9_400),
        ("electricity", 432, 432, 100_000),
        ("waste", 4_520, 4_980, 1_000),
        ("maintenance", 620, 680, 1_000),
        ("heating", 3_870, 3_870, 1_000),
    ] {
        let day_before = rise.pred_opt().unwrap_or(rise);
        for (price, from, to) in [(old, year_ago, Some(day_before)), (new, rise, None)] {
            tariff::ActiveModel {
                service: Set(service.into()),
                price_kop: Set(price),
                norm_milli: Set(norm),
                valid_from: Set(from),
                valid_to: Set(to),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }

    let services: [(&str, &[(&str, Basis)]); 5] = [
        (
            "1000000001",
            &[
                ("cold_water", Basis::PerPerson),
                ("hot_water", Basis::PerPerson),
                ("sewerage", Basis::PerPerson),
                ("gas", Basis::PerPerson),
                ("waste", Basis::PerPerson),
                ("maintenance", Basis::PerArea),
                ("electricity", Basis::PerMeter),
                ("heating", Basis::BuildingHeatMeter),
            ],
        ),
        (
            "1000000002",
            &[
                ("cold_water", Basis::PerPerson),
                ("hot_water", Basis::PerPerson),
                ("sewerage", Basis::PerPerson),
                ("gas", Basis::PerMeter),
                ("waste", Basis::PerPerson),
                ("maintenance", Basis::PerArea),
                ("heating", Basis::PerHeatedArea),
            ],
        ),
        (
            "1000000003",
            &[
                ("cold_water", Basis::PerMeter),
                ("electricity", Basis::PerPerson),
                ("gas", Basis::PerPerson),
                ("maintenance", Basis::PerArea),
                ("heating", Basis::PerHeatedArea),
            ],
        ),
        (
            "1000000004",
            &[
                ("cold_water", Basis::PerMeter),
                ("electricity", Basis::PerPerson),
                ("waste", Basis::PerPerson),
                ("maintenance", Basis::PerArea),
                ("heating", Basis::BuildingHeatMeter),
            ],
        ),
        (
            "1000000005",
            &[
                ("cold_water", Basis::PerPerson),
                ("electricity", Basis::PerPerson),
                ("maintenance", Basis::PerArea),
                ("heating", Basis::PerHeatedArea),
            ],
        ),
    ];
    for (n, list) in services {
        let Some(id) = id_of(n) else { continue };
        for (service, basis) in list {
            account_service::ActiveModel {
                account_id: Set(id),
                service: Set(service.to_string()),
                basis: Set(basis.code().into()),
                active: Set(true),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            if *basis == Basis::PerMeter {
                let m = meter::ActiveModel {
                    account_id: Set(id),
                    service: Set(service.to_string()),
                    serial: Set(format!("{}-{}", &service[..2].to_uppercase(), n)),
                    sealed_on: Set(year_ago.with_day(10)),
                    verification_due: Set(today.with_year(today.year() + 4)),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                // Monthly readings from seven months back: steady consumption.
                let step = if *service == "electricity" {
                    180_000
                } else {
                    4_200
                };
                let mut month = prev_month(first);
                let mut value = 1_000_000;
                for _ in 0..7 {
                    meter_reading::ActiveModel {
                        meter_id: Set(m.id),
                        read_on: Set(month.last_day()),
                        value_milli: Set(value),
                        case_id: Set(None),
                        created_at: Set(now),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    value += step;
                    month = month.next();
                }
            }
        }
    }
    type Owners<'a> = &'a [(&'a str, u32, u32)];
    let owners: [(&str, Owners); 5] = [
        ("1000000001", &[("Іваненко Петро Васильович", 1, 1)]),
        (
            "1000000002",
            &[
                ("Сидоренко Ганна Іванівна", 1, 2),
                ("Сидоренко Іван Петрович", 1, 2),
            ],
        ),
        ("1000000003", &[("Мельник Олег Петрович", 1, 1)]),
        ("1000000004", &[("Бондар Марія Олексіївна", 1, 1)]),
        ("1000000005", &[("Ткаченко Ігор Миколайович", 1, 1)]),
    ];
    for (n, list) in owners {
        let Some(id) = id_of(n) else { continue };
        let shares: Vec<OwnerShare> = list
            .iter()
            .map(|(name, a, b)| OwnerShare {
                name: name.to_string(),
                numerator: *a,
                denominator: *b,
            })
            .collect();
        replace_owners(txn, id, &shares).await.map_err(custom)?;
    }
    if let Some(id) = id_of("1000000001") {
        account_benefit::ActiveModel {
            account_id: Set(id),
            category: Set("ветеран праці".into()),
            share_pct: Set(50),
            persons: Set(1),
            valid_from: Set(year_ago),
            valid_to: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    if let Some(id) = id_of("1000000002") {
        account_subsidy::ActiveModel {
            account_id: Set(id),
            monthly_kop: Set(50_000),
            valid_from: Set(year_ago),
            valid_to: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }

    // Six months of charges, and payments of each month's invoice in the next month; account
    // …03 stopped paying three months ago (a debt), …05 pays ahead.
    let tariffs: Vec<Tariff> = tariff::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(to_tariff)
        .collect();
    // The demo's accounts are all the accounts there are: one batch of every id.
    let all = AccountRange {
        after: 0,
        last: accounts.last().map_or(0, |a| a.id),
    };
    let mut month = first;
    for i in 0..6 {
        let entries = batch_entries(txn, all, &tariffs, month)
            .await
            .map_err(custom)?;
        let mut owed: HashMap<i32, i64> = HashMap::new();
        for e in &entries {
            *owed.entry(e.account_id).or_default() += e.amount_kop;
        }
        insert_entries_once(txn, entries).await.map_err(custom)?;
        let pay_month = month.next();
        for a in &accounts {
            let due = owed.get(&a.id).copied().unwrap_or(0);
            let amount = match a.number.as_str() {
                "1000000003" if i >= 3 => continue,
                "1000000005" => due + 20_000,
                _ => due,
            };
            if amount <= 0 || pay_month > start {
                continue;
            }
            // why: the last month's invoice is paid by today even early in the month, so the
            // demo's balances (no debt on …01, a credit on …05) do not depend on today's day.
            let paid_on = std::cmp::min(pay_month.first_day() + chrono::Days::new(14), today);
            NewEntry {
                account_id: a.id,
                period: pay_month.to_string(),
                service: String::new(),
                kind: "payment",
                amount_kop: -amount,
                payer: Some(a.owner_name.clone()),
                paid_on: Some(paid_on),
                ..Default::default()
            }
            .model(now)
            .insert(txn)
            .await?;
        }
        month = month.next();
    }
    Ok(())
}

fn prev_month(m: YearMonth) -> YearMonth {
    if m.month() == 1 {
        YearMonth::new(m.year() - 1, 12).unwrap_or(m)
    } else {
        YearMonth::new(m.year(), m.month() - 1).unwrap_or(m)
    }
}
