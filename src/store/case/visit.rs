//! The case of a visit: a ticket finished at a desk (or a booking served) opens its case, or
//! completes the one the specialist opened while serving; a case opened before the account is
//! known gets it attached later. Also the two checks every operation passes (an account is
//! attached, the procedure's documents are seen) and the facts a consultation shows.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::{
    CaseRecord, EntryRecord, account_by_number, audit, conflict, entries_of, find_case,
    is_unique_violation, load_account, may_see,
};
use crate::domain::lang::Text;
use crate::domain::money::Money;
use crate::domain::procedure::{Procedure, Topic, document_name};
use crate::domain::queue::TicketNumber;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::entities::{
    account, booking, desk, service, specialist, tariff, ticket, visit_case,
};
use crate::store::staff::StaffUser;

/// The visit behind a case, read through its ticket and booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRecord {
    /// "A-017".
    pub ticket_number: Option<String>,
    pub ticket_status: Option<String>,
    pub window: Option<String>,
    pub specialist: Option<String>,
    pub called_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The desk's outcome of the visit (`served`, `referred`, `declined`).
    pub ticket_outcome: Option<String>,
    pub booking_code: Option<String>,
    /// The account number the resident gave when booking (it may name no account).
    pub booking_account: Option<String>,
}

fn is_lead(staff: &StaffUser) -> bool {
    matches!(staff.role, Role::Admin | Role::Supervisor)
}

fn field(name: &str, uk: String, en: String) -> AppError {
    AppError::Invalid {
        message: Text::new(uk.clone(), en.clone()),
        fields: vec![FieldError::new(name, Text::new(uk, en))],
    }
}

fn label(t: &ticket::Model) -> String {
    TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label()
}

/// The account the booking names, when it names one that exists.
async fn booking_account(
    db: &impl ConnectionTrait,
    b: Option<&booking::Model>,
) -> AppResult<Option<account::Model>> {
    match b.and_then(|b| b.account.as_deref()).map(str::trim) {
        Some(n) if !n.is_empty() => account_by_number(db, n).await,
        _ => Ok(None),
    }
}

async fn service_code(db: &impl ConnectionTrait, service_id: i32) -> AppResult<String> {
    Ok(service::Entity::find_by_id(service_id)
        .one(db)
        .await?
        .map(|s| s.code)
        .unwrap_or_default())
}

pub(super) fn already_opened(case_id: i32, what_uk: &str, what_en: &str) -> AppError {
    AppError::CaseExists {
        message: Text::new(
            format!("Для {what_uk} справу вже відкрито: №{case_id}."),
            format!("A case was already opened for {what_en}: #{case_id}."),
        ),
        case: case_id,
    }
}

/// The conflict for a second case of a booking, naming the first.
pub(super) fn booking_taken(case_id: i32, booking_id: i32) -> AppError {
    already_opened(
        case_id,
        &format!("запису №{booking_id}"),
        &format!("booking #{booking_id}"),
    )
}

/// What a case is opened from, checked: the ticket must be the staff member's own called or
/// in-service ticket (a supervisor or admin may open one for any ticket that is not over), the
/// booking must exist, and neither may already have its case.
pub(super) struct Source {
    pub ticket: Option<ticket::Model>,
    pub booking: Option<booking::Model>,
    pub service_code: Option<String>,
    pub account: Option<account::Model>,
}

pub(super) async fn check_source(
    db: &impl ConnectionTrait,
    staff: &StaffUser,
    ticket_id: Option<i32>,
    booking_id: Option<i32>,
) -> AppResult<Source> {
    let ticket = match ticket_id {
        None => None,
        Some(id) => {
            let t = ticket::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| {
                    field(
                        "ticket",
                        format!("Талона №{id} немає."),
                        format!("There is no ticket #{id}."),
                    )
                })?;
            let at_desk = matches!(t.status.as_str(), "called" | "in_service");
            let lead = is_lead(staff);
            // A supervisor may open the case of a waiting or finished ticket too.
            let lead_may = lead && t.status != "no_show";
            if !(at_desk || lead_may) {
                return Err(conflict(
                    format!(
                        "Талон {} не викликаний і не обслуговується: справу відкривають з талона, який обслуговують.",
                        label(&t)
                    ),
                    format!(
                        "Ticket {} is neither called nor in service: a case is opened from the ticket being served.",
                        label(&t)
                    ),
                ));
            }
            if !lead && t.staff_user_id != Some(staff.id) {
                return Err(conflict(
                    format!("Талон {} обслуговує інший працівник.", label(&t)),
                    format!("Ticket {} is served by another member of staff.", label(&t)),
                ));
            }
            if let Some(c) = visit_case::Entity::find()
                .filter(visit_case::Column::TicketId.eq(t.id))
                .one(db)
                .await?
            {
                return Err(already_opened(
                    c.id,
                    &format!("талона {}", label(&t)),
                    &format!("ticket {}", label(&t)),
                ));
            }
            Some(t)
        }
    };
    let booking_id = booking_id.or(ticket.as_ref().and_then(|t| t.booking_id));
    let booking = match booking_id {
        None => None,
        Some(id) => Some(
            booking::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| {
                    field(
                        "booking",
                        format!("Запису №{id} немає."),
                        format!("There is no booking #{id}."),
                    )
                })?,
        ),
    };
    // why: one booking is one visit and has one case (a unique index backs this check against
    // two requests at once); the desk's finish completes that case with the ticket.
    if let Some(b) = &booking
        && let Some(existing) = find_case_of_booking(db, b.id).await?
    {
        return Err(booking_taken(existing, b.id));
    }
    let service_code = match (&ticket, &booking) {
        (Some(t), _) => Some(service_code(db, t.service_id).await?),
        (None, Some(b)) => Some(service_code(db, b.service_id).await?),
        _ => None,
    };
    let account = booking_account(db, booking.as_ref()).await?;
    Ok(Source {
        ticket,
        booking,
        service_code,
        account,
    })
}

/// The case already opened from this booking, if any.
pub async fn find_case_of_booking(
    db: &impl ConnectionTrait,
    booking_id: i32,
) -> AppResult<Option<i32>> {
    Ok(visit_case::Entity::find()
        .filter(visit_case::Column::BookingId.eq(booking_id))
        .order_by_asc(visit_case::Column::Id)
        .one(db)
        .await?
        .map(|c| c.id))
}

/// The case already opened from this ticket, if any.
pub async fn find_case_of_ticket(
    db: &impl ConnectionTrait,
    ticket_id: i32,
) -> AppResult<Option<i32>> {
    Ok(visit_case::Entity::find()
        .filter(visit_case::Column::TicketId.eq(ticket_id))
        .one(db)
        .await?
        .map(|c| c.id))
}

/// The case's outcome for the desk's outcome of the visit.
fn case_outcome(ticket_outcome: &str) -> &'static str {
    match ticket_outcome {
        "referred" => "referred",
        "declined" | "refused" => "refused",
        _ => "done",
    }
}

/// Opens the case of a visit that was just finished at a desk, inside the desk's transaction
/// (`store::queue::act_on_ticket`), from the ticket row as that transaction left it. A case the
/// specialist already opened for this ticket (or for its booking, before the check-in) is
/// completed instead: it gets the visit's outcome and notes, and the ticket. The account is the
/// booking's when it names one.
///
/// why: the case stays open: the visit is over, but the work it started (an account to attach,
/// documents to check, a recalculation to post) is the case module's and may follow it; the
/// specialist closes the case when that is done.
pub async fn open_visit_case(
    txn: &impl ConnectionTrait,
    ticket_id: i32,
    actor: &StaffUser,
) -> AppResult<i32> {
    let t = ticket::Entity::find_by_id(ticket_id)
        .one(txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let b = match t.booking_id {
        Some(id) => booking::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let outcome = t.outcome.clone().unwrap_or_else(|| "served".into());
    let notes = t.notes.clone().unwrap_or_default();
    let detail = format!(
        "ticket {} finished: {outcome}{}",
        label(&t),
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({notes})")
        }
    );
    let mut existing = visit_case::Entity::find()
        .filter(visit_case::Column::TicketId.eq(t.id))
        .one(txn)
        .await?;
    if existing.is_none()
        && let Some(bid) = t.booking_id
    {
        existing = visit_case::Entity::find()
            .filter(visit_case::Column::BookingId.eq(bid))
            .filter(visit_case::Column::TicketId.is_null())
            .order_by_asc(visit_case::Column::Id)
            .one(txn)
            .await?;
    }
    let staff_id = t.staff_user_id.unwrap_or(actor.id);
    let case_id = match existing {
        Some(c) => {
            let account_id = match c.account_id {
                Some(id) => Some(id),
                None => booking_account(txn, b.as_ref()).await?.map(|a| a.id),
            };
            let notes = match (c.notes.trim().is_empty(), notes.is_empty()) {
                (_, true) => c.notes.clone(),
                (true, false) => notes.clone(),
                (false, false) => format!("{}\n{notes}", c.notes),
            };
            // why: the ticket's booking goes to this case only when no other case has it (one
            // case per booking), so the desk's finish never trips the unique index.
            let booking_id = match (c.booking_id, t.booking_id) {
                (Some(own), _) => Some(own),
                (None, Some(bid)) => match find_case_of_booking(txn, bid).await? {
                    None => Some(bid),
                    Some(other) if other == c.id => Some(bid),
                    Some(_) => None,
                },
                (None, None) => None,
            };
            let r = visit_case::Entity::update_many()
                .col_expr(visit_case::Column::TicketId, Expr::value(t.id))
                .col_expr(visit_case::Column::BookingId, Expr::value(booking_id))
                .col_expr(visit_case::Column::AccountId, Expr::value(account_id))
                .col_expr(
                    visit_case::Column::Outcome,
                    Expr::value(case_outcome(&outcome)),
                )
                .col_expr(visit_case::Column::Notes, Expr::value(notes))
                .filter(visit_case::Column::Id.eq(c.id))
                .exec(txn)
                .await;
            match r {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(already_opened(
                        c.id,
                        &format!("талона {}", label(&t)),
                        &format!("ticket {}", label(&t)),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            audit(txn, c.id, actor.id, "visit_finished", detail).await?;
            c.id
        }
        None => {
            let account = booking_account(txn, b.as_ref()).await?;
            // why: the booking's own case (one per booking, unique index) belongs to another
            // ticket already; this visit's case keeps the ticket alone rather than failing the
            // desk's transaction.
            let booking_id = match t.booking_id {
                Some(bid) if find_case_of_booking(txn, bid).await?.is_none() => Some(bid),
                _ => None,
            };
            let inserted = visit_case::ActiveModel {
                account_id: Set(account.as_ref().map(|a| a.id)),
                service_code: Set(service_code(txn, t.service_id).await?),
                office_id: Set(Some(t.office_id)),
                staff_id: Set(staff_id),
                ticket_id: Set(Some(t.id)),
                booking_id: Set(booking_id),
                status: Set("open".into()),
                outcome: Set(Some(case_outcome(&outcome).into())),
                documents_seen: Set("[]".into()),
                notes: Set(notes),
                opened_at: Set(crate::store::now()),
                ..Default::default()
            }
            .insert(txn)
            .await;
            let c = match inserted {
                Ok(c) => c,
                Err(e) if is_unique_violation(&e) => {
                    return Err(conflict(
                        format!("Справу талона {} вже відкрито.", label(&t)),
                        format!("The case of ticket {} is already open.", label(&t)),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            audit(
                txn,
                c.id,
                actor.id,
                "open",
                format!(
                    "{detail}; account {}",
                    account.map(|a| a.number).unwrap_or_else(|| "-".into())
                ),
            )
            .await?;
            c.id
        }
    };
    Ok(case_id)
}

/// Attaches the account to a case opened without one.
pub async fn attach_account(
    db: &DatabaseConnection,
    staff: &StaffUser,
    case_id: i32,
    number: &str,
) -> AppResult<CaseRecord> {
    let c = visit_case::Entity::find_by_id(case_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !may_see(staff, &c) {
        return Err(AppError::Forbidden);
    }
    let number = number.trim();
    if number.is_empty() {
        return Err(field(
            "account",
            "Вкажіть номер особового рахунку.".into(),
            "Give the account number.".into(),
        ));
    }
    let Some(a) = account_by_number(db, number).await? else {
        return Err(field(
            "account",
            format!("Особового рахунку «{number}» немає."),
            format!("There is no account \"{number}\"."),
        ));
    };
    let txn = db.begin().await?;
    let r = visit_case::Entity::update_many()
        .col_expr(visit_case::Column::AccountId, Expr::value(a.id))
        .filter(visit_case::Column::Id.eq(case_id))
        .filter(visit_case::Column::AccountId.is_null())
        .filter(visit_case::Column::Status.eq("open"))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(conflict(
            "До справи вже прив'язано рахунок, або її закрито.",
            "The case already has an account, or it is closed.",
        ));
    }
    audit(
        &txn,
        case_id,
        staff.id,
        "attach_account",
        format!("account {}", a.number),
    )
    .await?;
    txn.commit().await?;
    find_case(db, staff, case_id)
        .await?
        .ok_or_else(|| AppError::internal("case vanished"))
}

/// The refusal of an operation on a case that has no account yet.
pub(super) fn no_account() -> AppError {
    conflict(
        "До справи ще не прив'язано особовий рахунок: спершу вкажіть рахунок.",
        "The case has no account yet: attach the account first.",
    )
}

/// The documents seen after this operation (those recorded on the case and those ticked now),
/// or a refusal naming the procedure's documents still missing.
pub(super) fn documents_after(
    procedure: &Procedure,
    recorded: &str,
    ticked: &[String],
) -> AppResult<Vec<String>> {
    let mut seen: Vec<String> = serde_json::from_str(recorded).unwrap_or_default();
    for d in ticked {
        let d = d.trim();
        if !d.is_empty() && !seen.iter().any(|s| s == d) {
            seen.push(d.to_string());
        }
    }
    let missing: Vec<&String> = procedure
        .checklist
        .iter()
        .filter(|d| !seen.contains(d))
        .collect();
    if missing.is_empty() {
        return Ok(seen);
    }
    let uk: Vec<String> = missing.iter().map(|d| document_name(d).uk).collect();
    let en: Vec<String> = missing.iter().map(|d| document_name(d).en).collect();
    Err(field(
        "documents",
        format!(
            "Не відмічено документи, без яких операцію не проводять: {}.",
            uk.join(", ")
        ),
        format!(
            "Documents this operation requires are not ticked: {}.",
            en.join(", ")
        ),
    ))
}

/// The visit behind a case, for its page and the API.
pub(super) async fn load_visit(
    db: &impl ConnectionTrait,
    c: &visit_case::Model,
) -> AppResult<Option<VisitRecord>> {
    if c.ticket_id.is_none() && c.booking_id.is_none() {
        return Ok(None);
    }
    let t = match c.ticket_id {
        Some(id) => ticket::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let b = match c.booking_id.or(t.as_ref().and_then(|t| t.booking_id)) {
        Some(id) => booking::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let window = match t.as_ref().and_then(|t| t.desk_id) {
        Some(id) => desk::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.window_label),
        None => None,
    };
    let specialist = match t.as_ref().and_then(|t| t.specialist_id) {
        Some(id) => specialist::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| s.name),
        None => None,
    };
    Ok(Some(VisitRecord {
        ticket_number: t.as_ref().map(label),
        ticket_status: t.as_ref().map(|t| t.status.clone()),
        window,
        specialist,
        called_at: t.as_ref().and_then(|t| t.called_at),
        started_at: t.as_ref().and_then(|t| t.started_at),
        finished_at: t.as_ref().and_then(|t| t.finished_at),
        ticket_outcome: t.as_ref().and_then(|t| t.outcome.clone()),
        booking_code: b.as_ref().map(|b| b.code.clone()),
        booking_account: b.and_then(|b| b.account),
    }))
}

// ---- consultations -------------------------------------------------------------------------------

fn entry_fact(e: &EntryRecord) -> serde_json::Value {
    serde_json::json!({
        "period": e.period,
        "service": e.service,
        "kind": e.kind,
        "amount": e.amount,
        "rule_set": e.rule_set,
        "explanation": e.explanation,
    })
}

/// The account facts a consultation of `topic` is about, e.g. the benefit lines of the last
/// charge for `benefits`, or the past adjustments with their explanations for `adjustments`.
pub(super) async fn consultation_facts(
    db: &impl ConnectionTrait,
    acc: &account::Model,
    topic: Topic,
) -> AppResult<serde_json::Value> {
    let full = load_account(db, acc.clone()).await?;
    let entries = entries_of(db, acc.id).await?;
    let last_charge = entries
        .iter()
        .filter(|e| e.kind == "charge")
        .map(|e| e.period.clone())
        .max();
    let of_last = |kinds: &[&str]| -> Vec<serde_json::Value> {
        entries
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()) && Some(&e.period) == last_charge.as_ref())
            .map(entry_fact)
            .collect()
    };
    Ok(match topic {
        Topic::Benefits => serde_json::json!({
            "topic": "benefits",
            "period": last_charge,
            "benefits": full.benefits,
            "charges": of_last(&["charge"]),
            "benefit_lines": of_last(&["benefit"]),
        }),
        Topic::Adjustments => serde_json::json!({
            "topic": "adjustments",
            "adjustments": entries
                .iter()
                .filter(|e| e.kind == "adjustment" || e.kind == "correction")
                .map(entry_fact)
                .collect::<Vec<_>>(),
        }),
        Topic::Payments => {
            let payments: Vec<serde_json::Value> = entries
                .iter()
                .rev()
                .filter(|e| e.kind == "payment")
                .take(12)
                .map(|e| {
                    serde_json::json!({
                        "paid_on": e.paid_on,
                        "period": e.period,
                        "amount": Money::from_kopiykas(-e.amount.kopiykas()),
                        "payer": e.payer,
                    })
                })
                .collect();
            serde_json::json!({"topic": "payments", "balance": full.balance, "payments": payments})
        }
        Topic::Debt => serde_json::json!({
            "topic": "debt",
            "balance": full.balance,
            "debt": full.debt,
        }),
        Topic::Charges => serde_json::json!({
            "topic": "charges",
            "period": last_charge,
            "services": full.services,
            "charges": of_last(&["charge", "benefit", "subsidy"]),
        }),
        Topic::BuildingHeat => serde_json::json!({
            "topic": "building_heat",
            "building": full.building,
            "heated_area_m2": Money::from_kopiykas(acc.heated_area_cm2 / 100),
            "heating": entries
                .iter()
                .rev()
                .filter(|e| e.service == "heating")
                .take(12)
                .map(entry_fact)
                .collect::<Vec<_>>(),
        }),
        Topic::Meters => serde_json::json!({
            "topic": "meters",
            "meters": full.meters,
            "charges": of_last(&["charge"]),
        }),
        Topic::Subsidy => serde_json::json!({
            "topic": "subsidy",
            "subsidies": full.subsidies,
            "subsidy_lines": entries
                .iter()
                .rev()
                .filter(|e| e.kind == "subsidy")
                .take(12)
                .map(entry_fact)
                .collect::<Vec<_>>(),
        }),
        Topic::Tariffs => {
            let used: BTreeSet<String> = full.services.iter().map(|s| s.service.clone()).collect();
            let tariffs: Vec<serde_json::Value> = tariff::Entity::find()
                .order_by_asc(tariff::Column::Service)
                .order_by_asc(tariff::Column::ValidFrom)
                .all(db)
                .await?
                .into_iter()
                .filter(|t| used.contains(&t.service))
                .map(|t| {
                    serde_json::json!({
                        "service": t.service,
                        "price": Money::from_kopiykas(t.price_kop),
                        "valid_from": t.valid_from,
                        "valid_to": t.valid_to,
                    })
                })
                .collect();
            serde_json::json!({"topic": "tariffs", "services": full.services, "tariffs": tariffs})
        }
        Topic::Owners => serde_json::json!({
            "topic": "owners",
            "owners": full.owners,
            "registered_residents": full.registered_residents,
        }),
    })
}

/// The consultation facts of a case for its page (nothing when it has no account yet).
pub async fn case_facts(
    db: &impl ConnectionTrait,
    procedure: &Procedure,
    account_id: Option<i32>,
) -> AppResult<Option<serde_json::Value>> {
    let Some(id) = account_id else {
        return Ok(None);
    };
    let Some(acc) = account::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    consultation_facts(db, &acc, procedure.topic)
        .await
        .map(Some)
}

/// The result of an operation the staff member performed with this one-time key (the page's form
/// token), to show it again after the redirect.
pub async fn find_operation_result(
    db: &impl ConnectionTrait,
    staff: &StaffUser,
    key: &str,
) -> AppResult<Option<super::OperationRecord>> {
    super::stored_result(db, &format!("case-op:{}", staff.id), key, None).await
}
