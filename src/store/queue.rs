//! The live queue: desks, tickets, call-next and desk actions, and the numbered board events
//! written in the same transaction as the change they report.
//!
//! Every write transaction begins by touching the office's `board_seq` row. why: it is a write,
//! so SQLite takes its write lock at once (a read first would fail with "database is locked"
//! when another writer commits in between), and on PostgreSQL it row-locks the office so board
//! events commit in `seq` order. The claim of a ticket is still a compare-and-set on its status,
//! and the partial unique index `ticket_one_per_desk` keeps a desk to one ticket.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr, Statement, TransactionTrait,
    Value,
};
use serde_json::{Value as Json, json};

use super::entities::{
    board_event, booking, category, desk, office, office_closure, office_hours, service,
    specialist, specialist_skill, staff_user, ticket,
};
use crate::domain::booking::Status as BookingStatus;
use crate::domain::catalog::Channel;
use crate::domain::lang::Text;
use crate::domain::queue::checkin::{CheckInWindow, WindowRefusal, normalize_code};
use crate::domain::queue::hours::{Opening, check_open_except};
use crate::domain::queue::number::local_day;
use crate::domain::queue::{
    Action, CallPolicy, Candidate, TicketNumber, TicketStatus, estimated_wait_minutes, pick_next,
    transition,
};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};
use crate::store::catalog::CatalogSnapshot;
use crate::store::staff::StaffUser;

/// The NOTIFY channel that tells other instances an office has new board events.
pub const NOTIFY_CHANNEL: &str = "cherga_board";

/// How many recent calls a board shows.
const RECENT_CALLS: u64 = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub id: i32,
    pub office_id: i32,
    /// `A-017`.
    pub number: String,
    pub token: String,
    pub service_code: String,
    pub service_title: Text,
    pub status: TicketStatus,
    pub priority_class: Option<String>,
    pub arrived_at: DateTime<Utc>,
    pub booking_id: Option<i32>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub desk_id: Option<i32>,
    pub window: Option<String>,
    pub recalls: u32,
    pub called_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    /// The service's published norm in minutes (upper bound, or the lower one when open-ended).
    pub norm_minutes: u32,
}

/// A ticket with its place in the queue, for the resident and the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketPlace {
    pub ticket: TicketRecord,
    /// 1 = next; `None` once called.
    pub position: Option<u32>,
    pub estimated_wait_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeskRecord {
    pub id: i32,
    pub office_id: i32,
    pub window: String,
    pub specialist_id: Option<i32>,
    pub specialist: Option<String>,
    /// Codes of the services the desk serves: the skills of its specialist.
    pub services: Vec<String>,
    pub user_id: Option<i32>,
    pub paused_reason: Option<String>,
}

/// What a desk's console shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskQueue {
    pub desk: DeskRecord,
    pub current: Option<TicketRecord>,
    /// Per service the desk serves with someone waiting: code, title, count, longest wait.
    pub per_service: Vec<ServiceQueue>,
    /// Waiting tickets the desk may call, longest wait first (at most 50).
    pub waiting: Vec<TicketRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceQueue {
    pub code: String,
    pub title: Text,
    pub count: u32,
    pub longest_wait_minutes: i64,
    pub norm_minutes: u32,
}

/// The extra input of a desk action.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionInput {
    /// Transfer: to this service (code) …
    pub service: Option<String>,
    /// … or to this desk.
    pub desk: Option<i32>,
    /// Finish: the outcome (default `served`).
    pub outcome: Option<String>,
    pub notes: Option<String>,
}

/// An office's open/closed state for the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct KioskOffice {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub timezone: Tz,
    /// `None` when open; else the next local opening, if any.
    pub closed_until: Option<Option<chrono::NaiveDateTime>>,
}

// ---------------------------------------------------------------- helpers

fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    // why: one SQL text for both databases; PostgreSQL numbers its placeholders.
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The first statement of every queue write: see the module doc.
async fn lock_office(txn: &impl ConnectionTrait, office_id: i32) -> Result<i64, DbErr> {
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO board_seq (office_id, last_seq) VALUES (?, 0) \
             ON CONFLICT (office_id) DO UPDATE SET last_seq = board_seq.last_seq \
             RETURNING last_seq",
            vec![office_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("board_seq upsert returned nothing".into()))?;
    row.try_get::<i64>("", "last_seq")
}

/// One board event as written: after the commit the handler hands it to `events::Hub::publish`,
/// so this instance's boards get it without reading it back.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardFrame {
    pub office_id: i32,
    pub seq: i64,
    /// The JSON message, as stored in `board_event.payload`.
    pub text: String,
}

/// Writes one board event in the caller's transaction and returns it. `body` must not carry
/// personal data: ticket numbers, windows, counts.
async fn emit(
    txn: &impl ConnectionTrait,
    office_id: i32,
    kind: &str,
    mut body: serde_json::Map<String, Json>,
    now: DateTime<Utc>,
    catalog: Option<&CatalogSnapshot>,
) -> Result<BoardFrame, DbErr> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(stmt(
            backend,
            "UPDATE board_seq SET last_seq = last_seq + 1 WHERE office_id = ? RETURNING last_seq",
            vec![office_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("board_seq row missing".into()))?;
    let seq: i64 = row.try_get("", "last_seq")?;
    body.insert("type".into(), json!(kind));
    body.insert("seq".into(), json!(seq));
    body.insert("at".into(), json!(now.to_rfc3339()));
    body.insert(
        "waiting".into(),
        waiting_summary(txn, office_id, catalog).await?,
    );
    let text = Json::Object(body).to_string();
    board_event::ActiveModel {
        office_id: Set(office_id),
        seq: Set(seq),
        kind: Set(kind.into()),
        payload: Set(text.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if backend == DatabaseBackend::Postgres {
        // Delivered at commit, to every instance listening (events::Hub).
        txn.execute_raw(stmt(
            backend,
            "SELECT pg_notify(?, ?)",
            vec![NOTIFY_CHANNEL.into(), office_id.to_string().into()],
        ))
        .await?;
    }
    Ok(BoardFrame {
        office_id,
        seq,
        text,
    })
}

/// What the queue shows of a service.
struct ServiceInfo {
    code: String,
    title: Text,
    /// The published norm in minutes (upper bound, or the lower one when open-ended).
    norm: u32,
}

/// The services by id: from the catalog cache when the caller has it (the desk actions, so a
/// call costs no read of the whole service table), else from the database.
async fn service_infos(
    db: &impl ConnectionTrait,
    catalog: Option<&CatalogSnapshot>,
) -> Result<HashMap<i32, ServiceInfo>, DbErr> {
    if let Some(c) = catalog {
        return Ok(c
            .services
            .iter()
            .map(|s| {
                (
                    s.id,
                    ServiceInfo {
                        code: s.code.clone(),
                        title: s.title.clone(),
                        norm: s.duration.max.unwrap_or(s.duration.min),
                    },
                )
            })
            .collect());
    }
    Ok(service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.id,
                ServiceInfo {
                    norm: u32::try_from(s.duration_max.unwrap_or(s.duration_min)).unwrap_or(0),
                    code: s.code,
                    title: Text::new(s.title, s.title_en),
                },
            )
        })
        .collect())
}

struct Lookup {
    services: HashMap<i32, ServiceInfo>,
    windows: HashMap<i32, String>,
}

async fn lookup(
    db: &impl ConnectionTrait,
    office_id: i32,
    catalog: Option<&CatalogSnapshot>,
) -> Result<Lookup, DbErr> {
    let services = service_infos(db, catalog).await?;
    let windows = desk::Entity::find()
        .filter(desk::Column::OfficeId.eq(office_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.window_label))
        .collect();
    Ok(Lookup { services, windows })
}

fn to_record(t: ticket::Model, l: &Lookup) -> TicketRecord {
    let svc = l.services.get(&t.service_id);
    TicketRecord {
        id: t.id,
        office_id: t.office_id,
        number: TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label(),
        token: t.token,
        service_code: svc.map(|s| s.code.clone()).unwrap_or_default(),
        service_title: svc
            .map(|s| s.title.clone())
            .unwrap_or_else(|| Text::new("", "")),
        norm_minutes: svc.map(|s| s.norm).unwrap_or(0),
        status: TicketStatus::parse(&t.status).unwrap_or(TicketStatus::Waiting),
        priority_class: t.priority_class,
        arrived_at: t.arrived_at,
        booking_id: t.booking_id,
        appointment_at: t.appointment_at,
        window: t.desk_id.and_then(|d| l.windows.get(&d).cloned()),
        desk_id: t.desk_id,
        recalls: u32::try_from(t.recalls).unwrap_or(0),
        called_at: t.called_at,
        started_at: t.started_at,
        finished_at: t.finished_at,
        outcome: t.outcome,
        notes: t.notes,
    }
}

/// Waiting tickets per letter with an estimated wait for the last of them, for boards.
async fn waiting_summary(
    db: &impl ConnectionTrait,
    office_id: i32,
    catalog: Option<&CatalogSnapshot>,
) -> Result<Json, DbErr> {
    let waiting = ticket::Entity::find()
        .filter(ticket::Column::OfficeId.eq(office_id))
        .filter(ticket::Column::Status.eq(TicketStatus::Waiting.code()))
        .all(db)
        .await?;
    if waiting.is_empty() {
        return Ok(json!([]));
    }
    let services: HashMap<i32, u32> = service_infos(db, catalog)
        .await?
        .into_iter()
        .map(|(id, s)| (id, s.norm))
        .collect();
    let desks = desk::Entity::find()
        .filter(desk::Column::OfficeId.eq(office_id))
        .filter(desk::Column::PausedReason.is_null())
        .all(db)
        .await?
        .len();
    let mut by_letter: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for t in &waiting {
        let e = by_letter.entry(t.letter.clone()).or_default();
        e.0 += 1;
        e.1 += services.get(&t.service_id).copied().unwrap_or(10);
    }
    let desks = u32::try_from(desks).unwrap_or(1);
    Ok(Json::Array(
        by_letter
            .into_iter()
            .map(|(letter, (count, norm_sum))| {
                let avg = norm_sum / std::cmp::max(count, 1);
                json!({
                    "category": letter,
                    "count": count,
                    "estimated_wait_minutes": estimated_wait_minutes(count + 1, avg, desks),
                })
            })
            .collect(),
    ))
}

async fn load_hours(db: &impl ConnectionTrait, office_id: i32) -> Result<Vec<Opening>, DbErr> {
    Ok(office_hours::Entity::find()
        .filter(office_hours::Column::OfficeId.eq(office_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|h| Opening::parse(h.weekday, &h.opens, &h.closes))
        .collect())
}

/// The office's closure days (holidays) from `from` on, in its local calendar.
async fn load_closures(
    db: &impl ConnectionTrait,
    office_id: i32,
    from: chrono::NaiveDate,
) -> Result<Vec<chrono::NaiveDate>, DbErr> {
    Ok(office_closure::Entity::find()
        .filter(office_closure::Column::OfficeId.eq(office_id))
        .filter(office_closure::Column::Day.gte(from))
        .filter(office_closure::Column::Day.lte(from + chrono::Duration::days(40)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.day)
        .collect())
}

/// Whether the office issues tickets at `now` (hours and closure days), else its next opening.
async fn open_state(
    db: &impl ConnectionTrait,
    office_id: i32,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Result<(), Option<chrono::NaiveDateTime>>, DbErr> {
    let local = now.with_timezone(&tz).naive_local();
    let hours = load_hours(db, office_id).await?;
    let closed = load_closures(db, office_id, local.date()).await?;
    Ok(check_open_except(&hours, &closed, local))
}

fn office_tz(o: &office::Model) -> Tz {
    o.timezone.parse().unwrap_or(chrono_tz::Europe::Kyiv)
}

fn conflict(uk: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::Conflict(Text::new(uk, en))
}

fn no_desk(id: i32) -> AppError {
    AppError::NotFound(Text::new(
        format!("Робоче місце {id} не знайдено."),
        format!("Desk {id} was not found."),
    ))
}

fn no_ticket() -> AppError {
    AppError::NotFound(Text::new("Талон не знайдено.", "The ticket was not found."))
}

/// Begins a queue write for a desk: the office lock is the transaction's first statement
/// (see the module doc), then the desk is read inside it.
async fn begin_at_desk(
    db: &DatabaseConnection,
    desk_id: i32,
) -> AppResult<(sea_orm::DatabaseTransaction, desk::Model)> {
    let office_id = desk::Entity::find_by_id(desk_id)
        .one(db)
        .await?
        .ok_or_else(|| no_desk(desk_id))?
        .office_id;
    let txn = db.begin().await?;
    lock_office(&txn, office_id).await?;
    let d = desk::Entity::find_by_id(desk_id)
        .one(&txn)
        .await?
        .ok_or_else(|| no_desk(desk_id))?;
    Ok((txn, d))
}

// ---------------------------------------------------------------- offices and desks

/// An office by its id or code, with whether the kiosk may issue tickets now.
pub async fn find_kiosk_office(
    db: &DatabaseConnection,
    id_or_code: &str,
    now: DateTime<Utc>,
) -> Result<Option<KioskOffice>, DbErr> {
    let found = match id_or_code.parse::<i32>() {
        Ok(id) => office::Entity::find_by_id(id).one(db).await?,
        Err(_) => {
            office::Entity::find()
                .filter(office::Column::Code.eq(id_or_code))
                .one(db)
                .await?
        }
    };
    let Some(o) = found else { return Ok(None) };
    let tz = office_tz(&o);
    let state = open_state(db, o.id, tz, now).await?;
    Ok(Some(KioskOffice {
        id: o.id,
        code: o.code,
        name: Text::new(o.name, o.name_en),
        timezone: tz,
        closed_until: state.err(),
    }))
}

/// The desks of an office, by window label.
pub async fn list_desks(
    db: &impl ConnectionTrait,
    office_id: i32,
) -> Result<Vec<DeskRecord>, DbErr> {
    let desks = desk::Entity::find()
        .filter(desk::Column::OfficeId.eq(office_id))
        .order_by_asc(desk::Column::WindowLabel)
        .all(db)
        .await?;
    let specialists: HashMap<i32, specialist::Model> = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let codes: HashMap<i32, String> = service::Entity::find()
        .order_by_asc(service::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    let mut skills: HashMap<i32, Vec<i32>> = HashMap::new();
    for s in specialist_skill::Entity::find().all(db).await? {
        skills
            .entry(s.specialist_id)
            .or_default()
            .push(s.service_id);
    }
    Ok(desks
        .into_iter()
        .map(|d| {
            let spec = d.specialist_id.and_then(|id| specialists.get(&id));
            let mut services: Vec<String> = d
                .specialist_id
                .and_then(|id| skills.get(&id))
                .map(|ids| ids.iter().filter_map(|i| codes.get(i).cloned()).collect())
                .unwrap_or_default();
            services.sort();
            DeskRecord {
                id: d.id,
                office_id: d.office_id,
                window: d.window_label,
                specialist_id: d.specialist_id,
                specialist: spec.map(|s| s.name.clone()),
                services,
                user_id: d.user_id,
                paused_reason: d.paused_reason,
            }
        })
        .collect())
}

pub async fn find_desk(
    db: &impl ConnectionTrait,
    desk_id: i32,
) -> Result<Option<DeskRecord>, DbErr> {
    let Some(d) = desk::Entity::find_by_id(desk_id).one(db).await? else {
        return Ok(None);
    };
    Ok(list_desks(db, d.office_id)
        .await?
        .into_iter()
        .find(|x| x.id == desk_id))
}

/// May this staff member work at this desk? Supervisors and admins act for any desk; a
/// specialist for the desk they signed in at or the desk of their specialist record.
async fn authorize(
    db: &impl ConnectionTrait,
    d: &desk::Model,
    actor: &StaffUser,
) -> AppResult<Option<i32>> {
    let spec_user = match d.specialist_id {
        Some(id) => specialist::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|s| s.user_id),
        None => None,
    };
    match actor.role {
        Role::Admin | Role::Supervisor => Ok(d.specialist_id),
        Role::Specialist if d.user_id == Some(actor.id) || spec_user == Some(actor.id) => {
            Ok(d.specialist_id)
        }
        _ => Err(AppError::Forbidden),
    }
}

/// A staff member signs in at a desk (and out of any other desk they held).
pub async fn sign_in_at_desk(
    db: &DatabaseConnection,
    desk_id: i32,
    actor: &StaffUser,
) -> AppResult<DeskRecord> {
    let txn = db.begin().await?;
    let d = desk::Entity::find_by_id(desk_id)
        .one(&txn)
        .await?
        .ok_or_else(|| no_desk(desk_id))?;
    if !actor.role.is_staff_desk() {
        return Err(AppError::Forbidden);
    }
    lock_office(&txn, d.office_id).await?;
    desk::Entity::update_many()
        .col_expr(desk::Column::UserId, Expr::value(Option::<i32>::None))
        .filter(desk::Column::UserId.eq(actor.id))
        .exec(&txn)
        .await?;
    desk::Entity::update_many()
        .col_expr(desk::Column::UserId, Expr::value(actor.id))
        .col_expr(desk::Column::UpdatedAt, Expr::value(super::now()))
        .filter(desk::Column::Id.eq(desk_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    find_desk(db, desk_id)
        .await?
        .ok_or_else(|| no_desk(desk_id))
}

/// Pauses a desk with a reason (call-next refuses while paused), or resumes it with `None`.
pub async fn pause_desk(
    db: &DatabaseConnection,
    desk_id: i32,
    reason: Option<String>,
    actor: &StaffUser,
) -> AppResult<(DeskRecord, BoardFrame)> {
    let now = super::now();
    let (txn, d) = begin_at_desk(db, desk_id).await?;
    authorize(&txn, &d, actor).await?;
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    desk::Entity::update_many()
        .col_expr(desk::Column::PausedReason, Expr::value(reason.clone()))
        .col_expr(desk::Column::UpdatedAt, Expr::value(now))
        .filter(desk::Column::Id.eq(desk_id))
        .exec(&txn)
        .await?;
    let mut body = serde_json::Map::new();
    body.insert("window".into(), json!(d.window_label));
    let kind = if reason.is_some() {
        "paused"
    } else {
        "resumed"
    };
    let frame = emit(&txn, d.office_id, kind, body, now, None).await?;
    txn.commit().await?;
    let rec = find_desk(db, desk_id)
        .await?
        .ok_or_else(|| no_desk(desk_id))?;
    Ok((rec, frame))
}

// ---------------------------------------------------------------- tickets

/// Issues a walk-in ticket for a service at an office that is open now. The number comes from
/// the office's counter for the local day, bumped atomically in the same transaction. Returns
/// the ticket and its `issued` board event.
pub async fn issue_ticket(
    db: &DatabaseConnection,
    office_id: i32,
    service_code: &str,
    priority_class: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(TicketPlace, BoardFrame)> {
    let o = office::Entity::find_by_id(office_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let tz = office_tz(&o);
    if let Err(next) = open_state(db, office_id, tz, now).await? {
        return Err(match next {
            Some(at) => conflict(
                format!(
                    "Центр зараз зачинено. Відкриється {}.",
                    at.format("%d.%m.%Y о %H:%M")
                ),
                format!(
                    "The center is closed now. It opens on {}.",
                    at.format("%Y-%m-%d at %H:%M")
                ),
            ),
            None => conflict("Центр зараз зачинено.", "The center is closed now."),
        });
    }
    let svc = service::Entity::find()
        .filter(service::Column::Code.eq(service_code))
        .filter(service::Column::Active.eq(true))
        .one(db)
        .await?
        .filter(|s| s.channels.split(',').any(|c| c == Channel::Visit.code()))
        .ok_or_else(|| {
            AppError::invalid_fields(vec![crate::error::FieldError {
                field: "service".into(),
                message: Text::new(
                    format!(
                        "Послуги «{service_code}» немає серед тих, що надаються під час візиту."
                    ),
                    format!("\"{service_code}\" is not a service offered in person."),
                ),
            }])
        })?;
    let cat = category::Entity::find_by_id(svc.category_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let txn = db.begin().await?;
    lock_office(&txn, office_id).await?;
    let (model, frame) = insert_ticket(
        &txn,
        office_id,
        tz,
        NewTicket {
            service_id: svc.id,
            letter: &cat.letter,
            priority_class,
            booking: None,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    let place = find_ticket_place(db, &model.token)
        .await?
        .ok_or_else(no_ticket)?;
    Ok((place, frame))
}

/// A checked-in booking's ticket; `created` is false when it already had one.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedIn {
    pub place: TicketPlace,
    pub created: bool,
    /// The `issued` event of a new ticket.
    pub frame: Option<BoardFrame>,
}

/// Why a check-in was refused.
#[derive(Debug)]
pub enum CheckInError {
    /// Past the late window: 409 offering a walk-in ticket for this service (code).
    TooLate {
        service: String,
        message: Text,
    },
    Other(AppError),
}

impl From<AppError> for CheckInError {
    fn from(e: AppError) -> Self {
        CheckInError::Other(e)
    }
}

impl From<DbErr> for CheckInError {
    fn from(e: DbErr) -> Self {
        CheckInError::Other(e.into())
    }
}

fn unknown_code() -> AppError {
    AppError::NotFound(Text::new(
        "Запис з таким кодом у цьому центрі не знайдено. Перевірте код.",
        "No booking with this code at this center. Please check the code.",
    ))
}

/// Checks a booked resident in with their booking code: a ticket with the booking's start as
/// its appointment (call-next serves it first when due), for the booked service, sent to the
/// booked specialist's desk when there is one. Only confirmed bookings, inside the window; a
/// booking already checked in returns its ticket (`created: false`).
pub async fn check_in(
    db: &DatabaseConnection,
    office_id: i32,
    code: &str,
    window: CheckInWindow,
    now: DateTime<Utc>,
) -> Result<CheckedIn, CheckInError> {
    let code = normalize_code(code);
    if code.is_empty() {
        return Err(unknown_code().into());
    }
    let o = office::Entity::find_by_id(office_id)
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let tz = office_tz(&o);
    let txn = db.begin().await?;
    lock_office(&txn, office_id).await?;
    let b = booking::Entity::find()
        .filter(booking::Column::OfficeId.eq(office_id))
        .filter(booking::Column::Code.eq(code.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(unknown_code)?;
    if let Some(t) = ticket::Entity::find()
        .filter(ticket::Column::BookingId.eq(b.id))
        .one(&txn)
        .await?
    {
        txn.commit().await?;
        return already_checked_in(db, t).await;
    }
    match BookingStatus::from_code(&b.status) {
        Some(BookingStatus::Confirmed) => {}
        Some(BookingStatus::Pending) => {
            return Err(conflict(
                "Запис ще не підтверджено. Підтвердіть його за посиланням з листа, потім зареєструйтеся.",
                "The booking is not confirmed yet. Confirm it with the link in the email, then check in.",
            )
            .into());
        }
        other => {
            let (uk, en) = match other {
                Some(BookingStatus::Done) => {
                    ("Цей візит уже завершено.", "This visit is already over.")
                }
                Some(BookingStatus::NoShow) => (
                    "Цей запис позначено як неявку.",
                    "This booking was marked as a no-show.",
                ),
                Some(BookingStatus::Expired) => (
                    "Цей запис не було підтверджено вчасно, і він скасований.",
                    "This booking was not confirmed in time and has lapsed.",
                ),
                _ => ("Цей запис скасовано.", "This booking was cancelled."),
            };
            return Err(conflict(uk, en).into());
        }
    }
    let svc = service::Entity::find_by_id(b.service_id)
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    match window.check(b.starts_at, now) {
        Ok(()) => {}
        Err(WindowRefusal::TooEarly { from }) => {
            let local = from.with_timezone(&tz);
            return Err(conflict(
                format!(
                    "Ще зарано: реєстрація на цей запис відкриється о {} ({}).",
                    local.format("%H:%M"),
                    local.format("%d.%m.%Y")
                ),
                format!(
                    "Too early: check-in for this booking opens at {} ({}).",
                    local.format("%H:%M"),
                    local.format("%Y-%m-%d")
                ),
            )
            .into());
        }
        Err(WindowRefusal::TooLate) => {
            return Err(CheckInError::TooLate {
                service: svc.code,
                message: Text::new(
                    "Час вашого запису минув. Можна взяти талон у загальну чергу на ту саму послугу.",
                    "Your booked time has passed. You can take a walk-in ticket for the same service.",
                ),
            });
        }
    }
    let cat = category::Entity::find_by_id(svc.category_id)
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let desk_id = desk::Entity::find()
        .filter(desk::Column::OfficeId.eq(office_id))
        .filter(desk::Column::SpecialistId.eq(b.specialist_id))
        .order_by_asc(desk::Column::Id)
        .one(&txn)
        .await?
        .map(|d| d.id);
    let inserted = insert_ticket(
        &txn,
        office_id,
        tz,
        NewTicket {
            service_id: svc.id,
            letter: &cat.letter,
            priority_class: None,
            booking: Some((b.id, b.starts_at, desk_id)),
        },
        now,
    )
    .await;
    let (model, frame) = match inserted {
        Ok(m) => m,
        Err(AppError::Conflict(_)) => {
            // why: the unique index on ticket(booking_id) caught a concurrent check-in (one
            // that did not wait on the office lock): its ticket is the answer.
            txn.rollback().await?;
            let t = ticket::Entity::find()
                .filter(ticket::Column::BookingId.eq(b.id))
                .one(db)
                .await?
                .ok_or_else(no_ticket)?;
            return already_checked_in(db, t).await;
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    let place = find_ticket_place(db, &model.token)
        .await?
        .ok_or_else(no_ticket)?;
    Ok(CheckedIn {
        place,
        created: true,
        frame: Some(frame),
    })
}

/// A call-back due at the contact center, claimed for one worker pass.
#[derive(Debug, Clone, PartialEq)]
pub struct DueCallBack {
    pub booking_id: i32,
    pub office_id: i32,
    pub code: String,
}

/// Claims one confirmed contact-center booking (a call-back) whose start is inside the
/// check-in window and that has no ticket yet, for `lease`. The claim is a conditional update
/// of its `locked_until`, so of several instances one wins it; the unique ticket per booking
/// keeps a late second attempt harmless.
pub async fn claim_due_call_back(
    db: &DatabaseConnection,
    window: CheckInWindow,
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Option<DueCallBack>, DbErr> {
    let early = now + chrono::Duration::minutes(i64::from(window.early_minutes));
    let late = now - chrono::Duration::minutes(i64::from(window.late_minutes));
    let free = sea_orm::Condition::any()
        .add(booking::Column::LockedUntil.is_null())
        .add(booking::Column::LockedUntil.lt(now));
    let candidates = booking::Entity::find()
        .filter(booking::Column::Channel.eq(Channel::ContactCenter.code()))
        .filter(booking::Column::Status.eq(BookingStatus::Confirmed.code()))
        .filter(booking::Column::StartsAt.lte(early))
        .filter(booking::Column::StartsAt.gte(late))
        .filter(free.clone())
        .filter(
            booking::Column::Id.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(ticket::Column::BookingId)
                    .from(ticket::Entity)
                    .and_where(ticket::Column::BookingId.is_not_null())
                    .to_owned(),
            ),
        )
        .order_by_asc(booking::Column::StartsAt)
        .limit(5)
        .all(db)
        .await?;
    for b in candidates {
        let won = booking::Entity::update_many()
            .col_expr(booking::Column::LockedUntil, Expr::value(now + lease))
            .filter(booking::Column::Id.eq(b.id))
            .filter(free.clone())
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if won {
            return Ok(Some(DueCallBack {
                booking_id: b.id,
                office_id: b.office_id,
                code: b.code,
            }));
        }
    }
    Ok(None)
}

async fn already_checked_in(
    db: &DatabaseConnection,
    t: ticket::Model,
) -> Result<CheckedIn, CheckInError> {
    let place = find_ticket_place(db, &t.token)
        .await?
        .ok_or_else(no_ticket)?;
    Ok(CheckedIn {
        place,
        created: false,
        frame: None,
    })
}

/// A finished or missed visit settles its booking, in the desk action's transaction: done, or
/// no-show (which counts toward the booking's no-show limit).
async fn settle_booking(
    txn: &impl ConnectionTrait,
    booking_id: i32,
    to: TicketStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let status = match to {
        TicketStatus::Finished => BookingStatus::Done,
        TicketStatus::NoShow => BookingStatus::NoShow,
        _ => return Ok(()),
    };
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(status.code()))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq(BookingStatus::Confirmed.code()))
        .exec(txn)
        .await?;
    Ok(())
}

/// What a new ticket carries beside its number.
struct NewTicket<'a> {
    service_id: i32,
    /// The category's letter.
    letter: &'a str,
    priority_class: Option<String>,
    /// A checked-in booking: its id, start and the desk of its specialist.
    booking: Option<(i32, DateTime<Utc>, Option<i32>)>,
}

/// Takes the next number of the office's counter for the local day and inserts the ticket,
/// with its `issued` board event, in the caller's transaction (after `lock_office`).
async fn insert_ticket(
    txn: &impl ConnectionTrait,
    office_id: i32,
    tz: Tz,
    new: NewTicket<'_>,
    now: DateTime<Utc>,
) -> Result<(ticket::Model, BoardFrame), AppError> {
    let day = local_day(now, tz).format("%Y-%m-%d").to_string();
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO ticket_counter (office_id, day, last_number) VALUES (?, ?, 1) \
             ON CONFLICT (office_id, day) DO UPDATE SET last_number = ticket_counter.last_number + 1 \
             RETURNING last_number",
            vec![office_id.into(), day.clone().into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("ticket counter returned nothing"))?;
    let number: i32 = row.try_get("", "last_number")?;
    let letter = TicketNumber::new(new.letter, 0).letter;
    let (booking_id, appointment_at, target_desk_id) = match new.booking {
        Some((id, at, desk)) => (Some(id), Some(at), desk),
        None => (None, None, None),
    };
    let model = ticket::ActiveModel {
        office_id: Set(office_id),
        day: Set(day),
        number: Set(number),
        letter: Set(letter.clone()),
        token: Set(crate::security::random_token()[..24].to_string()),
        service_id: Set(new.service_id),
        priority_class: Set(new.priority_class),
        status: Set(TicketStatus::Waiting.code().into()),
        arrived_at: Set(now),
        booking_id: Set(booking_id),
        appointment_at: Set(appointment_at),
        target_desk_id: Set(target_desk_id),
        recalls: Set(0),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) if booking_id.is_none() => conflict(
            "Номер талона щойно видано іншому; спробуйте ще раз.",
            "That ticket number was just taken; please try again.",
        ),
        // A booking's second ticket: `check_in` reads the first one.
        _ => AppError::from(e),
    })?;
    let mut body = serde_json::Map::new();
    body.insert(
        "ticket".into(),
        json!(TicketNumber::new(&letter, u32::try_from(number).unwrap_or(0)).label()),
    );
    let frame = emit(txn, office_id, "issued", body, now, None).await?;
    Ok((model, frame))
}

/// A ticket by its public token, with its place in the queue and the estimated wait.
pub async fn find_ticket_place(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<TicketPlace>, DbErr> {
    let Some(t) = ticket::Entity::find()
        .filter(ticket::Column::Token.eq(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let l = lookup(db, t.office_id, None).await?;
    let (position, estimate) = if t.status == TicketStatus::Waiting.code() {
        let ahead = ticket::Entity::find()
            .filter(ticket::Column::OfficeId.eq(t.office_id))
            .filter(ticket::Column::Status.eq(TicketStatus::Waiting.code()))
            .filter(ticket::Column::ServiceId.eq(t.service_id))
            .filter(
                ticket::Column::ArrivedAt
                    .lt(t.arrived_at)
                    .or(ticket::Column::ArrivedAt
                        .eq(t.arrived_at)
                        .and(ticket::Column::Id.lt(t.id))),
            )
            .all(db)
            .await?
            .len();
        let serving = desks_serving(db, t.office_id, t.service_id).await?;
        let position = u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1);
        let norm = l.services.get(&t.service_id).map(|s| s.norm).unwrap_or(10);
        (
            Some(position),
            Some(estimated_wait_minutes(position, norm, serving)),
        )
    } else {
        (None, None)
    };
    Ok(Some(TicketPlace {
        ticket: to_record(t, &l),
        position,
        estimated_wait_minutes: estimate,
    }))
}

async fn desks_serving(
    db: &impl ConnectionTrait,
    office_id: i32,
    service_id: i32,
) -> Result<u32, DbErr> {
    let specialists: Vec<i32> = specialist_skill::Entity::find()
        .filter(specialist_skill::Column::ServiceId.eq(service_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.specialist_id)
        .collect();
    if specialists.is_empty() {
        return Ok(0);
    }
    let n = desk::Entity::find()
        .filter(desk::Column::OfficeId.eq(office_id))
        .filter(desk::Column::SpecialistId.is_in(specialists))
        .filter(desk::Column::PausedReason.is_null())
        .all(db)
        .await?
        .len();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

async fn desk_skills(db: &impl ConnectionTrait, d: &desk::Model) -> Result<Vec<i32>, DbErr> {
    let Some(spec) = d.specialist_id else {
        return Ok(Vec::new());
    };
    Ok(specialist_skill::Entity::find()
        .filter(specialist_skill::Column::SpecialistId.eq(spec))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.service_id)
        .collect())
}

/// The waiting tickets a desk may call: its services' tickets not sent to another desk, and
/// those transferred to it.
async fn callable(db: &impl ConnectionTrait, d: &desk::Model) -> Result<Vec<ticket::Model>, DbErr> {
    let skills = desk_skills(db, d).await?;
    let mut cond = sea_orm::Condition::any().add(ticket::Column::TargetDeskId.eq(d.id));
    if !skills.is_empty() {
        cond = cond.add(
            ticket::Column::TargetDeskId
                .is_null()
                .and(ticket::Column::ServiceId.is_in(skills)),
        );
    }
    ticket::Entity::find()
        .filter(ticket::Column::OfficeId.eq(d.office_id))
        .filter(ticket::Column::Status.eq(TicketStatus::Waiting.code()))
        .filter(cond)
        .order_by_asc(ticket::Column::ArrivedAt)
        .order_by_asc(ticket::Column::Id)
        .all(db)
        .await
}

async fn current_at_desk(
    db: &impl ConnectionTrait,
    desk_id: i32,
) -> Result<Option<ticket::Model>, DbErr> {
    ticket::Entity::find()
        .filter(ticket::Column::DeskId.eq(desk_id))
        .filter(
            ticket::Column::Status
                .is_in([TicketStatus::Called.code(), TicketStatus::InService.code()]),
        )
        .one(db)
        .await
}

fn busy(t: &ticket::Model) -> AppError {
    let n = TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label();
    conflict(
        format!(
            "Робоче місце ще обслуговує талон {n}: завершіть, поверніть у чергу або позначте неявку."
        ),
        format!(
            "The desk still has ticket {n}: finish it, return it to the queue or mark it a no-show."
        ),
    )
}

/// The outcome of a call: the ticket and the board event's number.
#[derive(Debug, Clone, PartialEq)]
pub struct Called {
    pub ticket: TicketRecord,
    pub seq: i64,
    pub frame: BoardFrame,
}

/// Calls the next ticket to a desk (see `domain::queue::order` for the ordering). `Ok(None)`
/// when nobody waits. The claim is `UPDATE ticket … WHERE id = ? AND status = 'waiting'`: of
/// any number of desks and instances, one wins it.
pub async fn call_next_ticket(
    db: &DatabaseConnection,
    desk_id: i32,
    actor: &StaffUser,
    policy: &CallPolicy,
    catalog: Option<&CatalogSnapshot>,
) -> AppResult<Option<Called>> {
    for _attempt in 0..8 {
        let now = super::now();
        let (txn, d) = begin_at_desk(db, desk_id).await?;
        let specialist_id = authorize(&txn, &d, actor).await?;
        if let Some(reason) = &d.paused_reason {
            return Err(conflict(
                format!("Робоче місце на паузі ({reason}). Зніміть паузу, щоб викликати."),
                format!("The desk is paused ({reason}). Resume it to call."),
            ));
        }
        if let Some(t) = current_at_desk(&txn, d.id).await? {
            return Err(busy(&t));
        }
        let waiting = callable(&txn, &d).await?;
        let candidates: Vec<Candidate> = waiting
            .iter()
            .map(|t| Candidate {
                id: t.id,
                arrived_at: t.arrived_at,
                priority: t.priority_class.is_some(),
                appointment_at: t.appointment_at,
            })
            .collect();
        let streak = u32::try_from(d.priority_streak).unwrap_or(0);
        let Some(pick) = pick_next(&candidates, now, policy, streak) else {
            txn.commit().await?;
            return Ok(None);
        };
        if !claim(&txn, pick.id, &d, specialist_id, actor, now).await? {
            // Another desk won it between our read and our update: read again.
            txn.rollback().await?;
            continue;
        }
        desk::Entity::update_many()
            .col_expr(
                desk::Column::PriorityStreak,
                Expr::value(i32::try_from(pick.streak).unwrap_or(0)),
            )
            .filter(desk::Column::Id.eq(d.id))
            .exec(&txn)
            .await?;
        let t = ticket::Entity::find_by_id(pick.id)
            .one(&txn)
            .await?
            .ok_or_else(no_ticket)?;
        let frame = emit(&txn, d.office_id, "called", call_body(&t, &d), now, catalog).await?;
        let l = lookup(&txn, d.office_id, catalog).await?;
        txn.commit().await?;
        return Ok(Some(Called {
            ticket: to_record(t, &l),
            seq: frame.seq,
            frame,
        }));
    }
    Err(AppError::Unavailable(
        "call-next lost the claim eight times".into(),
    ))
}

fn call_body(t: &ticket::Model, d: &desk::Model) -> serde_json::Map<String, Json> {
    let n = TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0));
    let mut body = serde_json::Map::new();
    body.insert("ticket".into(), json!(n.label()));
    body.insert("window".into(), json!(d.window_label));
    body.insert("spoken".into(), json!(n.spoken_uk(&d.window_label)));
    body
}

/// The compare-and-set: `true` when this desk won the ticket.
async fn claim(
    txn: &impl ConnectionTrait,
    ticket_id: i32,
    d: &desk::Model,
    specialist_id: Option<i32>,
    actor: &StaffUser,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let res = ticket::Entity::update_many()
        .col_expr(
            ticket::Column::Status,
            Expr::value(TicketStatus::Called.code()),
        )
        .col_expr(ticket::Column::DeskId, Expr::value(d.id))
        .col_expr(
            ticket::Column::TargetDeskId,
            Expr::value(Option::<i32>::None),
        )
        .col_expr(ticket::Column::CalledAt, Expr::value(now))
        .col_expr(ticket::Column::Recalls, Expr::value(0))
        .col_expr(ticket::Column::SpecialistId, Expr::value(specialist_id))
        .col_expr(ticket::Column::StaffUserId, Expr::value(actor.id))
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(ticket_id))
        .filter(ticket::Column::OfficeId.eq(d.office_id))
        .filter(ticket::Column::Status.eq(TicketStatus::Waiting.code()))
        .exec(txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => conflict(
                "Робоче місце вже має викликаний талон.",
                "The desk already has a called ticket.",
            ),
            _ => e.into(),
        })?;
    Ok(res.rows_affected == 1)
}

/// What a desk action needs beside its input: the recall limit from the settings and, when the
/// caller has it, the catalog from its cache (then no read of the service table).
#[derive(Debug, Clone, Copy)]
pub struct ActRules<'a> {
    pub max_recalls: u32,
    pub catalog: Option<&'a CatalogSnapshot>,
}

/// One desk action on one ticket: call (a chosen ticket), recall, start, finish, no-show,
/// transfer, return. A wrong state is a 409 with a message.
pub async fn act_on_ticket(
    db: &DatabaseConnection,
    desk_id: i32,
    ticket_id: i32,
    action: Action,
    input: &ActionInput,
    actor: &StaffUser,
    rules: ActRules<'_>,
) -> AppResult<Called> {
    let ActRules {
        max_recalls,
        catalog,
    } = rules;
    let now = super::now();
    let (txn, d) = begin_at_desk(db, desk_id).await?;
    let specialist_id = authorize(&txn, &d, actor).await?;
    let t = ticket::Entity::find_by_id(ticket_id)
        .one(&txn)
        .await?
        .filter(|t| t.office_id == d.office_id)
        .ok_or_else(no_ticket)?;
    let status = TicketStatus::parse(&t.status).unwrap_or(TicketStatus::Finished);
    let label = TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label();
    let wrong_state = || {
        conflict(
            format!(
                "Талон {label} зараз у стані «{}»: дія «{}» неможлива.",
                status_uk(status),
                action.code()
            ),
            format!(
                "Ticket {label} is {}: \"{}\" is not possible now.",
                status.code(),
                action.code()
            ),
        )
    };
    if action != Action::Call && t.desk_id != Some(d.id) {
        return Err(if status.is_at_desk() {
            conflict(
                format!("Талон {label} обслуговує інше робоче місце."),
                format!("Ticket {label} is at another desk."),
            )
        } else {
            wrong_state()
        });
    }
    let step = transition(
        status,
        u32::try_from(t.recalls).unwrap_or(0),
        action,
        max_recalls,
    )
    .ok_or_else(wrong_state)?;
    if action == Action::Call {
        if d.paused_reason.is_some() {
            return Err(conflict("Робоче місце на паузі.", "The desk is paused."));
        }
        if let Some(cur) = current_at_desk(&txn, d.id).await? {
            return Err(busy(&cur));
        }
        if !claim(&txn, t.id, &d, specialist_id, actor, now).await? {
            return Err(wrong_state());
        }
    } else {
        let mut update = ticket::Entity::update_many()
            .col_expr(ticket::Column::Status, Expr::value(step.to.code()))
            .col_expr(
                ticket::Column::Recalls,
                Expr::value(i32::try_from(step.recalls).unwrap_or(0)),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now));
        match action {
            Action::Start => {
                update = update.col_expr(ticket::Column::StartedAt, Expr::value(now));
            }
            Action::Finish => {
                let outcome = input
                    .outcome
                    .as_deref()
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .unwrap_or("served")
                    .to_string();
                let notes = input
                    .notes
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string);
                // The visit's case is opened below, once this row is written.
                update = update
                    .col_expr(ticket::Column::FinishedAt, Expr::value(now))
                    .col_expr(ticket::Column::Outcome, Expr::value(outcome))
                    .col_expr(ticket::Column::Notes, Expr::value(notes))
                    .col_expr(ticket::Column::SpecialistId, Expr::value(specialist_id))
                    .col_expr(ticket::Column::StaffUserId, Expr::value(actor.id));
            }
            Action::NoShow | Action::Recall if step.to == TicketStatus::NoShow => {
                update = update.col_expr(ticket::Column::FinishedAt, Expr::value(now));
            }
            Action::Transfer => {
                let (service_id, target) = transfer_target(&txn, &d, input).await?;
                // The arrival time is kept: the resident does not queue again from the end.
                update = update
                    .col_expr(
                        ticket::Column::ServiceId,
                        Expr::value(service_id.unwrap_or(t.service_id)),
                    )
                    .col_expr(ticket::Column::TargetDeskId, Expr::value(target))
                    .col_expr(ticket::Column::DeskId, Expr::value(Option::<i32>::None))
                    .col_expr(
                        ticket::Column::CalledAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        ticket::Column::StartedAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    );
            }
            Action::Return => {
                update = update
                    .col_expr(ticket::Column::DeskId, Expr::value(Option::<i32>::None))
                    .col_expr(
                        ticket::Column::CalledAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        ticket::Column::StartedAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    );
            }
            _ => {}
        }
        let res = update
            .filter(ticket::Column::Id.eq(t.id))
            .filter(ticket::Column::Status.eq(status.code()))
            .filter(ticket::Column::Recalls.eq(t.recalls))
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            return Err(wrong_state());
        }
        if let Some(b) = t.booking_id {
            settle_booking(&txn, b, step.to, now).await?;
        }
        if action == Action::Finish {
            // The visit's case (ticket, service, staff, outcome, notes), in this transaction.
            super::case::open_visit_case(&txn, t.id, actor).await?;
        }
    }
    let t2 = ticket::Entity::find_by_id(t.id)
        .one(&txn)
        .await?
        .ok_or_else(no_ticket)?;
    let body = match step.event {
        "called" | "recalled" => call_body(&t2, &d),
        _ => {
            let mut b = serde_json::Map::new();
            b.insert("ticket".into(), json!(label));
            b.insert("window".into(), json!(d.window_label));
            b
        }
    };
    let frame = emit(&txn, d.office_id, step.event, body, now, catalog).await?;
    let l = lookup(&txn, d.office_id, catalog).await?;
    txn.commit().await?;
    Ok(Called {
        ticket: to_record(t2, &l),
        seq: frame.seq,
        frame,
    })
}

/// A desk grants a priority class (already checked against the configured list) to a waiting
/// ticket of its office; call-next then treats it as a priority ticket.
pub async fn grant_priority(
    db: &DatabaseConnection,
    desk_id: i32,
    ticket_id: i32,
    class: &str,
    actor: &StaffUser,
    catalog: Option<&CatalogSnapshot>,
) -> AppResult<Called> {
    let now = super::now();
    let (txn, d) = begin_at_desk(db, desk_id).await?;
    authorize(&txn, &d, actor).await?;
    let t = ticket::Entity::find_by_id(ticket_id)
        .one(&txn)
        .await?
        .filter(|t| t.office_id == d.office_id)
        .ok_or_else(no_ticket)?;
    let label = TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label();
    let res = ticket::Entity::update_many()
        .col_expr(ticket::Column::PriorityClass, Expr::value(class))
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(t.id))
        .filter(ticket::Column::Status.eq(TicketStatus::Waiting.code()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(conflict(
            format!("Пріоритет можна надати лише талону, що очікує; {label} уже не в черзі."),
            format!(
                "Priority can only be granted to a waiting ticket; {label} is no longer waiting."
            ),
        ));
    }
    let mut body = serde_json::Map::new();
    body.insert("ticket".into(), json!(label));
    let frame = emit(&txn, d.office_id, "prioritized", body, now, catalog).await?;
    let t2 = ticket::Entity::find_by_id(t.id)
        .one(&txn)
        .await?
        .ok_or_else(no_ticket)?;
    let l = lookup(&txn, d.office_id, catalog).await?;
    txn.commit().await?;
    Ok(Called {
        ticket: to_record(t2, &l),
        seq: frame.seq,
        frame,
    })
}

async fn transfer_target(
    txn: &impl ConnectionTrait,
    d: &desk::Model,
    input: &ActionInput,
) -> AppResult<(Option<i32>, Option<i32>)> {
    let service_id = match &input.service {
        Some(code) => Some(
            service::Entity::find()
                .filter(service::Column::Code.eq(code.trim()))
                .filter(service::Column::Active.eq(true))
                .one(txn)
                .await?
                .ok_or_else(|| {
                    AppError::invalid_fields(vec![crate::error::FieldError {
                        field: "service".into(),
                        message: Text::new(
                            format!("Послугу «{code}» не знайдено."),
                            format!("No service has the code \"{code}\"."),
                        ),
                    }])
                })?
                .id,
        ),
        None => None,
    };
    let target = match input.desk {
        Some(id) => Some(
            desk::Entity::find_by_id(id)
                .one(txn)
                .await?
                .filter(|x| x.office_id == d.office_id)
                .ok_or_else(|| {
                    AppError::invalid_fields(vec![crate::error::FieldError {
                        field: "desk".into(),
                        message: Text::new(
                            "У цьому центрі немає такого робочого місця.",
                            "This center has no such desk.",
                        ),
                    }])
                })?
                .id,
        ),
        None => None,
    };
    if service_id.is_none() && target.is_none() {
        return Err(AppError::invalid(Text::new(
            "Укажіть послугу або робоче місце, куди передати талон.",
            "Name the service or the desk to transfer the ticket to.",
        )));
    }
    Ok((service_id, target))
}

fn status_uk(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Waiting => "очікує",
        TicketStatus::Called => "викликано",
        TicketStatus::InService => "обслуговується",
        TicketStatus::Finished => "завершено",
        TicketStatus::NoShow => "неявка",
    }
}

/// A desk's console: its current ticket, the counts per service and the waiting tickets.
pub async fn desk_queue(db: &DatabaseConnection, desk_id: i32) -> AppResult<DeskQueue> {
    let d = desk::Entity::find_by_id(desk_id)
        .one(db)
        .await?
        .ok_or_else(|| no_desk(desk_id))?;
    let record = find_desk(db, desk_id)
        .await?
        .ok_or_else(|| no_desk(desk_id))?;
    let l = lookup(db, d.office_id, None).await?;
    let now = super::now();
    let current = current_at_desk(db, d.id).await?.map(|t| to_record(t, &l));
    let waiting: Vec<TicketRecord> = callable(db, &d)
        .await?
        .into_iter()
        .map(|t| to_record(t, &l))
        .collect();
    let mut per: std::collections::BTreeMap<String, ServiceQueue> = Default::default();
    for t in &waiting {
        let e = per
            .entry(t.service_code.clone())
            .or_insert_with(|| ServiceQueue {
                code: t.service_code.clone(),
                title: t.service_title.clone(),
                count: 0,
                longest_wait_minutes: 0,
                norm_minutes: t.norm_minutes,
            });
        e.count += 1;
        e.longest_wait_minutes =
            std::cmp::max(e.longest_wait_minutes, (now - t.arrived_at).num_minutes());
    }
    Ok(DeskQueue {
        desk: record,
        current,
        per_service: per.into_values().collect(),
        waiting: waiting.into_iter().take(50).collect(),
    })
}

// ---------------------------------------------------------------- boards

/// The last event number of an office (0 before any).
pub async fn last_seq(db: &impl ConnectionTrait, office_id: i32) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT last_seq FROM board_seq WHERE office_id = ?",
            vec![office_id.into()],
        ))
        .await?;
    match row {
        Some(r) => r.try_get("", "last_seq"),
        None => Ok(0),
    }
}

/// Events after `since`, in order, at most `limit`: `(seq, message)`.
pub async fn events_since(
    db: &impl ConnectionTrait,
    office_id: i32,
    since: i64,
    limit: u64,
) -> Result<Vec<(i64, String)>, DbErr> {
    Ok(board_event::Entity::find()
        .filter(board_event::Column::OfficeId.eq(office_id))
        .filter(board_event::Column::Seq.gt(since))
        .order_by_asc(board_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.seq, e.payload))
        .collect())
}

/// What a board shows on connect. Its `seq` is read first, so the state may already include
/// a later event; boards apply events idempotently (a call shown once per ticket).
pub async fn board_snapshot(db: &impl ConnectionTrait, office_id: i32) -> Result<Json, DbErr> {
    let seq = last_seq(db, office_id).await?;
    let l = lookup(db, office_id, None).await?;
    let at_desks = ticket::Entity::find()
        .filter(ticket::Column::OfficeId.eq(office_id))
        .filter(
            ticket::Column::Status
                .is_in([TicketStatus::Called.code(), TicketStatus::InService.code()]),
        )
        .order_by_desc(ticket::Column::CalledAt)
        .all(db)
        .await?;
    let recent = ticket::Entity::find()
        .filter(ticket::Column::OfficeId.eq(office_id))
        .filter(ticket::Column::CalledAt.is_not_null())
        .order_by_desc(ticket::Column::CalledAt)
        .limit(RECENT_CALLS)
        .all(db)
        .await?;
    let show = |t: &ticket::Model| {
        json!({
            "ticket": TicketNumber::new(&t.letter, u32::try_from(t.number).unwrap_or(0)).label(),
            "window": t.desk_id.and_then(|d| l.windows.get(&d).cloned()),
            "status": t.status,
            "at": t.called_at.map(|c| c.to_rfc3339()),
        })
    };
    Ok(json!({
        "type": "snapshot",
        "seq": seq,
        "calls": at_desks.iter().map(show).collect::<Vec<_>>(),
        "recent": recent.iter().map(show).collect::<Vec<_>>(),
        "waiting": waiting_summary(db, office_id, None).await?,
    }))
}

/// Offices that have board events, for the catch-up pass of `events::Hub`.
pub async fn office_ids(db: &impl ConnectionTrait) -> Result<Vec<i32>, DbErr> {
    Ok(office::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect())
}

/// The staff users' display names by id, for the console.
pub async fn staff_names(db: &impl ConnectionTrait) -> Result<HashMap<i32, String>, DbErr> {
    Ok(staff_user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

// ---------------------------------------------------------------- demo

/// Demo desks: one per demo specialist of the office, at the specialist's window, and one per
/// operator of the demo contact center (its call-backs are served from these desks' queue).
pub async fn load_demo(txn: &impl ConnectionTrait, office_id: i32) -> Result<(), DbErr> {
    demo_desks(txn, office_id).await?;
    if let Some(cc) = office::Entity::find()
        .filter(office::Column::Code.eq(super::booking::DEMO_CONTACT_CENTER_CODE))
        .one(txn)
        .await?
    {
        demo_desks(txn, cc.id).await?;
    }
    Ok(())
}

async fn demo_desks(txn: &impl ConnectionTrait, office_id: i32) -> Result<(), DbErr> {
    let now = super::now();
    let specialists = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .order_by_asc(specialist::Column::Id)
        .all(txn)
        .await?;
    for s in specialists {
        desk::ActiveModel {
            office_id: Set(office_id),
            window_label: Set(s.window_label.clone()),
            specialist_id: Set(Some(s.id)),
            user_id: Set(None),
            paused_reason: Set(None),
            priority_streak: Set(0),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}
