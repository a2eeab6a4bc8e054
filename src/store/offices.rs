//! Offices (district centers and the contact center) with their time zone, opening hours and
//! closed days, and their specialists with skills, weekly schedules, breaks, walk-in periods and
//! exceptions: the reads of the home page and the admin pages, and the admin's edits, each in
//! one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

use super::booking::begin_write;
use super::cache::{OFFICES, bump_version};
use super::entities::{
    booking, office, office_closure, office_hours, schedule_break, service, specialist,
    specialist_exception, specialist_skill, walk_in_period, work_schedule,
};
use crate::domain::booking::edit::{
    Closure, ExceptionChange, OfficeChange, SpecialistChange, check_closure_day,
};
use crate::domain::booking::impact::{self, BookedTime};
use crate::domain::booking::schedule::{
    Exception, ExceptionKind, LocalWindow, OfficePlan, SpecialistPlan, WorkDay, format_hhmm,
};
use crate::domain::booking::{OfficeKind, Status};
use crate::domain::lang::Text;
use crate::domain::validation::FieldError;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq)]
pub struct OpeningHours {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i32,
    pub opens: String,
    pub closes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfficeRecord {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub address: Text,
    pub timezone: String,
    pub slot_minutes: i32,
    pub hours: Vec<OpeningHours>,
}

/// Every active office with its hours: two queries, grouped in memory. A retired office is
/// left out (residents are not sent there).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<OfficeRecord>, DbErr> {
    let offices = office::Entity::find()
        .filter(office::Column::Active.eq(true))
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?;
    let mut hours: HashMap<i32, Vec<OpeningHours>> = HashMap::new();
    for h in office_hours::Entity::find()
        .order_by_asc(office_hours::Column::Weekday)
        .all(db)
        .await?
    {
        hours.entry(h.office_id).or_default().push(OpeningHours {
            weekday: h.weekday,
            opens: h.opens,
            closes: h.closes,
        });
    }
    Ok(offices
        .into_iter()
        .map(|o| OfficeRecord {
            hours: hours.remove(&o.id).unwrap_or_default(),
            id: o.id,
            code: o.code,
            name: Text::new(o.name, o.name_en),
            address: Text::new(o.address, o.address_en),
            timezone: o.timezone,
            slot_minutes: o.slot_minutes,
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClosureRecord {
    pub id: i32,
    pub day: NaiveDate,
    pub reason: Text,
}

/// An office as its admin page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeAdminRecord {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub address: Text,
    pub kind: OfficeKind,
    pub timezone: String,
    pub slot_minutes: i32,
    pub active: bool,
    /// Monday = 0 … Sunday = 6.
    pub hours: [Option<LocalWindow>; 7],
    pub closures: Vec<ClosureRecord>,
}

/// An office as the admin list shows it, active or not.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeListRecord {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub kind: OfficeKind,
    pub timezone: String,
    pub slot_minutes: i32,
    pub active: bool,
}

/// Every office, retired ones too, for the admin list.
pub async fn list_all(db: &impl ConnectionTrait) -> Result<Vec<OfficeListRecord>, DbErr> {
    Ok(office::Entity::find()
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|o| OfficeListRecord {
            id: o.id,
            code: o.code,
            name: Text::new(o.name, o.name_en),
            kind: OfficeKind::from_code(&o.kind).unwrap_or(OfficeKind::Office),
            timezone: o.timezone,
            slot_minutes: o.slot_minutes,
            active: o.active,
        })
        .collect())
}

/// The ids of retired offices, which residents are not offered.
pub async fn list_retired_ids(db: &impl ConnectionTrait) -> Result<BTreeSet<i32>, DbErr> {
    Ok(office::Entity::find()
        .filter(office::Column::Active.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionRecord {
    pub id: i32,
    pub day: NaiveDate,
    pub kind: ExceptionKind,
    pub window: Option<LocalWindow>,
}

/// A specialist as the admin pages show it, active or not.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialistAdminRecord {
    pub id: i32,
    pub office_id: i32,
    pub name: String,
    pub window_label: String,
    pub active: bool,
    /// Service codes.
    pub skills: Vec<String>,
    /// Monday = 0 … Sunday = 6.
    pub week: [WorkDay; 7],
    /// From `exceptions_from` on, by day.
    pub exceptions: Vec<ExceptionRecord>,
}

fn weekday_slot<T>(week: &mut [T; 7], weekday: i32) -> Option<&mut T> {
    usize::try_from(weekday).ok().and_then(|d| week.get_mut(d))
}

/// The weeks of several specialists (working hours, breaks, walk-in periods), a query per
/// table, grouped in memory.
async fn load_weeks(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<HashMap<i32, [WorkDay; 7]>, DbErr> {
    let mut weeks: HashMap<i32, [WorkDay; 7]> = HashMap::new();
    for w in work_schedule::Entity::find()
        .filter(work_schedule::Column::SpecialistId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(weeks.entry(w.specialist_id).or_default(), w.weekday) {
            day.work = LocalWindow::parse(&w.starts, &w.ends);
            if let (Some(a), Some(b)) = (&w.break_starts, &w.break_ends)
                && let Some(br) = LocalWindow::parse(a, b)
            {
                day.breaks.push(br);
            }
        }
    }
    for b in schedule_break::Entity::find()
        .filter(schedule_break::Column::SpecialistId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(weeks.entry(b.specialist_id).or_default(), b.weekday)
            && let Some(w) = LocalWindow::parse(&b.starts, &b.ends)
        {
            day.breaks.push(w);
        }
    }
    for p in walk_in_period::Entity::find()
        .filter(walk_in_period::Column::SpecialistId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(weeks.entry(p.specialist_id).or_default(), p.weekday)
            && let Some(w) = LocalWindow::parse(&p.starts, &p.ends)
        {
            day.walk_in.push(w);
        }
    }
    for week in weeks.values_mut() {
        for day in week.iter_mut() {
            day.breaks.sort();
            day.walk_in.sort();
        }
    }
    Ok(weeks)
}

/// The exceptions of several specialists from `from` on, by day.
async fn load_exceptions(
    db: &impl ConnectionTrait,
    ids: &[i32],
    from: NaiveDate,
) -> Result<HashMap<i32, Vec<ExceptionRecord>>, DbErr> {
    let mut out: HashMap<i32, Vec<ExceptionRecord>> = HashMap::new();
    for e in specialist_exception::Entity::find()
        .filter(specialist_exception::Column::SpecialistId.is_in(ids.iter().copied()))
        .filter(specialist_exception::Column::Day.gte(from))
        .order_by_asc(specialist_exception::Column::Day)
        .order_by_asc(specialist_exception::Column::Id)
        .all(db)
        .await?
    {
        let Some(kind) = ExceptionKind::from_code(&e.kind) else {
            continue;
        };
        out.entry(e.specialist_id)
            .or_default()
            .push(ExceptionRecord {
                id: e.id,
                day: e.day,
                kind,
                window: match (&e.starts, &e.ends) {
                    (Some(a), Some(b)) => LocalWindow::parse(a, b),
                    _ => None,
                },
            });
    }
    Ok(out)
}

pub async fn find_office(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<OfficeAdminRecord>, DbErr> {
    let Some(o) = office::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let mut hours = [None; 7];
    for h in office_hours::Entity::find()
        .filter(office_hours::Column::OfficeId.eq(id))
        .all(db)
        .await?
    {
        if let Some(slot) = weekday_slot(&mut hours, h.weekday) {
            *slot = LocalWindow::parse(&h.opens, &h.closes);
        }
    }
    let closures = office_closure::Entity::find()
        .filter(office_closure::Column::OfficeId.eq(id))
        .order_by_asc(office_closure::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .map(|c| ClosureRecord {
            id: c.id,
            day: c.day,
            reason: Text::new(c.reason, c.reason_en),
        })
        .collect();
    Ok(Some(OfficeAdminRecord {
        id: o.id,
        code: o.code,
        name: Text::new(o.name, o.name_en),
        address: Text::new(o.address, o.address_en),
        kind: OfficeKind::from_code(&o.kind).unwrap_or(OfficeKind::Office),
        timezone: o.timezone,
        slot_minutes: o.slot_minutes,
        active: o.active,
        hours,
        closures,
    }))
}

/// Service id by code, for skills.
async fn service_ids(db: &impl ConnectionTrait) -> Result<HashMap<String, i32>, DbErr> {
    Ok(service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.code, s.id))
        .collect())
}

/// Every specialist of an office, active or not, with skills (no week or exceptions).
pub async fn list_specialists(
    db: &impl ConnectionTrait,
    office_id: i32,
) -> Result<Vec<SpecialistAdminRecord>, DbErr> {
    let specs = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .order_by_asc(specialist::Column::Id)
        .all(db)
        .await?;
    let codes: HashMap<i32, String> = service_ids(db)
        .await?
        .into_iter()
        .map(|(code, id)| (id, code))
        .collect();
    let mut skills: HashMap<i32, Vec<String>> = HashMap::new();
    for k in specialist_skill::Entity::find()
        .filter(specialist_skill::Column::SpecialistId.is_in(specs.iter().map(|s| s.id)))
        .all(db)
        .await?
    {
        if let Some(code) = codes.get(&k.service_id) {
            skills
                .entry(k.specialist_id)
                .or_default()
                .push(code.clone());
        }
    }
    Ok(specs
        .into_iter()
        .map(|s| {
            let mut skills = skills.remove(&s.id).unwrap_or_default();
            skills.sort();
            SpecialistAdminRecord {
                id: s.id,
                office_id: s.office_id,
                name: s.name,
                window_label: s.window_label,
                active: s.active,
                skills,
                week: Default::default(),
                exceptions: Vec::new(),
            }
        })
        .collect())
}

/// One specialist of an office with the week and the exceptions from `exceptions_from` on.
pub async fn find_specialist(
    db: &impl ConnectionTrait,
    office_id: i32,
    id: i32,
    exceptions_from: NaiveDate,
) -> Result<Option<SpecialistAdminRecord>, DbErr> {
    let Some(s) = specialist::Entity::find_by_id(id)
        .filter(specialist::Column::OfficeId.eq(office_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let codes: HashMap<i32, String> = service_ids(db)
        .await?
        .into_iter()
        .map(|(code, id)| (id, code))
        .collect();
    let mut skills: Vec<String> = specialist_skill::Entity::find()
        .filter(specialist_skill::Column::SpecialistId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|k| codes.get(&k.service_id).cloned())
        .collect();
    skills.sort();
    let week = load_weeks(db, &[id]).await?.remove(&id).unwrap_or_default();
    let exceptions = load_exceptions(db, &[id], exceptions_from)
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(Some(SpecialistAdminRecord {
        id: s.id,
        office_id: s.office_id,
        name: s.name,
        window_label: s.window_label,
        active: s.active,
        skills,
        week,
        exceptions,
    }))
}

// ---- bookings a change leaves stranded ------------------------------------------------------

/// A live booking (pending or confirmed, not yet started) that a change leaves outside
/// bookable time, or that a specialist or office being retired still has.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedBookingRecord {
    pub id: i32,
    pub office_id: i32,
    pub code: String,
    /// The resident's name.
    pub name: String,
    pub specialist_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: Tz,
    pub status: Status,
}

/// What became of an admin's change that may touch bookings.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written. `kept` live bookings it concerns stay as they are, for staff to move or cancel.
    Saved { kept: usize },
    /// Nothing written: these bookings need the administrator's confirmation first.
    Confirm(Vec<AffectedBookingRecord>),
}

/// Live bookings of an office (or of one of its specialists) that have not started yet:
/// confirmed ones and pending ones whose hold still runs (a lapsed hold is about to expire).
async fn live_bookings(
    txn: &impl ConnectionTrait,
    office_id: i32,
    specialist_id: Option<i32>,
) -> Result<Vec<booking::Model>, DbErr> {
    let now = super::now();
    let mut q = booking::Entity::find()
        .filter(booking::Column::OfficeId.eq(office_id))
        .filter(
            Condition::any()
                .add(booking::Column::Status.eq(Status::Confirmed.code()))
                .add(
                    Condition::all()
                        .add(booking::Column::Status.eq(Status::Pending.code()))
                        .add(
                            Condition::any()
                                .add(booking::Column::HoldExpiresAt.is_null())
                                .add(booking::Column::HoldExpiresAt.gt(now)),
                        ),
                ),
        )
        .filter(booking::Column::StartsAt.gt(now));
    if let Some(id) = specialist_id {
        q = q.filter(booking::Column::SpecialistId.eq(id));
    }
    q.order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Id)
        .all(txn)
        .await
}

fn booked_times(rows: &[booking::Model]) -> Vec<BookedTime> {
    rows.iter()
        .map(|b| BookedTime {
            id: b.id,
            specialist_id: b.specialist_id,
            starts_at: b.starts_at,
            ends_at: b.ends_at,
        })
        .collect()
}

/// An office's plan as stored: zone, hours and closed days from `from` on.
async fn office_plan(
    txn: &impl ConnectionTrait,
    o: &office::Model,
    from: NaiveDate,
) -> Result<OfficePlan, DbErr> {
    let mut hours = [None; 7];
    for h in office_hours::Entity::find()
        .filter(office_hours::Column::OfficeId.eq(o.id))
        .all(txn)
        .await?
    {
        if let Some(slot) = weekday_slot(&mut hours, h.weekday) {
            *slot = LocalWindow::parse(&h.opens, &h.closes);
        }
    }
    let closed = office_closure::Entity::find()
        .filter(office_closure::Column::OfficeId.eq(o.id))
        .filter(office_closure::Column::Day.gte(from))
        .all(txn)
        .await?
        .into_iter()
        .map(|c| c.day)
        .collect();
    Ok(OfficePlan {
        timezone: tz_of(o),
        grid_minutes: u16::try_from(o.slot_minutes.clamp(1, 240)).unwrap_or(5),
        hours,
        closed,
    })
}

fn tz_of(o: &office::Model) -> Tz {
    o.timezone.parse().unwrap_or(chrono_tz::Europe::Kyiv)
}

/// The stored plans of the specialists `ids`, exceptions from `from` on.
async fn specialist_plans(
    txn: &impl ConnectionTrait,
    ids: &[i32],
    from: NaiveDate,
) -> Result<Vec<SpecialistPlan>, DbErr> {
    let mut weeks = load_weeks(txn, ids).await?;
    let mut exceptions = load_exceptions(txn, ids, from).await?;
    Ok(ids
        .iter()
        .map(|&id| SpecialistPlan {
            id,
            week: weeks.remove(&id).unwrap_or_default(),
            exceptions: exceptions
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|e| Exception {
                    day: e.day,
                    kind: e.kind,
                    window: e.window,
                })
                .collect(),
            busy: Vec::new(),
        })
        .collect())
}

/// The specialists the bookings are with, each once.
fn specialists_of(rows: &[booking::Model]) -> Vec<i32> {
    let ids: BTreeSet<i32> = rows.iter().map(|b| b.specialist_id).collect();
    ids.into_iter().collect()
}

async fn affected_records(
    txn: &impl ConnectionTrait,
    tz: Tz,
    rows: &[booking::Model],
    ids: &[i32],
) -> Result<Vec<AffectedBookingRecord>, DbErr> {
    let names: HashMap<i32, String> = specialist::Entity::find()
        .filter(specialist::Column::Id.is_in(specialists_of(rows)))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(rows
        .iter()
        .filter(|b| ids.contains(&b.id))
        .map(|b| AffectedBookingRecord {
            id: b.id,
            office_id: b.office_id,
            code: b.code.clone(),
            name: b.name.clone(),
            specialist_name: names.get(&b.specialist_id).cloned().unwrap_or_default(),
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            timezone: tz,
            status: Status::from_code(&b.status).unwrap_or(Status::Confirmed),
        })
        .collect())
}

/// Decides whether a change may be written: `Some(Confirm)` (after rolling back) when the
/// administrator has not yet seen every affected booking; `None` to go on and write.
async fn needs_confirmation(
    txn: DatabaseTransaction,
    tz: Tz,
    rows: &[booking::Model],
    affected: &[i32],
    seen: &BTreeSet<i32>,
) -> Result<Result<DatabaseTransaction, Outcome>, DbErr> {
    if impact::acknowledged(affected, seen) {
        return Ok(Ok(txn));
    }
    let list = affected_records(&txn, tz, rows, affected).await?;
    txn.rollback().await?;
    Ok(Err(Outcome::Confirm(list)))
}

/// Ends an edit that may have needed confirmation: marks the offices changed for every
/// instance, commits, and says how many live bookings it left as they were.
async fn saved(txn: DatabaseTransaction, kept: usize) -> Result<Outcome, AppError> {
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(Outcome::Saved { kept })
}

fn today_in(tz: Tz) -> NaiveDate {
    super::now().with_timezone(&tz).date_naive()
}

fn no_office() -> AppError {
    AppError::NotFound(Text::new("Центр не знайдено.", "No such office."))
}

fn office_retired() -> AppError {
    AppError::Conflict(Text::new(
        "Центр закрито: спершу відновіть його роботу.",
        "The office is retired: reopen it first.",
    ))
}

fn no_specialist() -> AppError {
    AppError::NotFound(Text::new(
        "Спеціаліста не знайдено в цьому центрі.",
        "No such specialist at this office.",
    ))
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn code_taken(code: &str) -> AppError {
    AppError::Conflict(Text::new(
        format!("Код «{code}» уже має інший центр."),
        format!("Another office already has the code \"{code}\"."),
    ))
}

fn hhmm(m: u16) -> String {
    format_hhmm(m)
}

async fn write_hours(
    txn: &impl ConnectionTrait,
    office_id: i32,
    hours: &[Option<LocalWindow>; 7],
) -> Result<(), DbErr> {
    office_hours::Entity::delete_many()
        .filter(office_hours::Column::OfficeId.eq(office_id))
        .exec(txn)
        .await?;
    for (weekday, w) in (0i32..).zip(hours.iter()) {
        if let Some(w) = w {
            office_hours::ActiveModel {
                office_id: Set(office_id),
                weekday: Set(weekday),
                opens: Set(hhmm(w.start)),
                closes: Set(hhmm(w.end)),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// Creates an office with its opening hours; the code must be free (409 otherwise).
pub async fn create_office(db: &DatabaseConnection, c: &OfficeChange) -> Result<i32, AppError> {
    let txn = begin_write(db).await?;
    let inserted = office::ActiveModel {
        code: Set(c.code.clone()),
        name: Set(c.name.uk.clone()),
        name_en: Set(c.name.en.clone()),
        address: Set(c.address.uk.clone()),
        address_en: Set(c.address.en.clone()),
        timezone: Set(c.timezone.name().to_string()),
        slot_minutes: Set(i32::from(c.slot_minutes)),
        walk_in_share_pct: Set(0),
        kind: Set(c.kind.code().to_string()),
        active: Set(true),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let o = match inserted {
        Ok(o) => o,
        Err(e) if is_unique_violation(&e) => return Err(code_taken(&c.code)),
        Err(e) => return Err(e.into()),
    };
    write_hours(&txn, o.id, &c.hours).await?;
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(o.id)
}

/// Saves an office's details and hours. Live bookings the new hours or zone leave outside
/// bookable time need the administrator's confirmation (`seen` lists the ones shown); once
/// confirmed they stay as they are.
pub async fn update_office(
    db: &DatabaseConnection,
    id: i32,
    c: &OfficeChange,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let o = office::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let tz = tz_of(&o);
    let rows = live_bookings(&txn, id, None).await?;
    let mut stranded = Vec::new();
    if !rows.is_empty() {
        // why: a day earlier, so a zone moved eastwards still sees today's closed days.
        let from = today_in(tz).pred_opt().unwrap_or(NaiveDate::MIN);
        let before = office_plan(&txn, &o, from).await?;
        let mut after = before.clone();
        after.timezone = c.timezone;
        after.hours = c.hours;
        let plans = specialist_plans(&txn, &specialists_of(&rows), from).await?;
        stranded = impact::stranded((&before, &plans), (&after, &plans), &booked_times(&rows));
    }
    let txn = match needs_confirmation(txn, tz, &rows, &stranded, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    let mut m: office::ActiveModel = o.into();
    m.code = Set(c.code.clone());
    m.name = Set(c.name.uk.clone());
    m.name_en = Set(c.name.en.clone());
    m.address = Set(c.address.uk.clone());
    m.address_en = Set(c.address.en.clone());
    m.timezone = Set(c.timezone.name().to_string());
    m.slot_minutes = Set(i32::from(c.slot_minutes));
    m.kind = Set(c.kind.code().to_string());
    match m.update(&txn).await {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(code_taken(&c.code)),
        Err(e) => return Err(e.into()),
    }
    write_hours(&txn, id, &c.hours).await?;
    saved(txn, stranded.len()).await
}

/// Retires an office or brings it back. Its specialists must be retired first (409 naming
/// them): availability offers only active specialists, so a retired office has no times.
/// Retiring one with live bookings needs the administrator's confirmation; the bookings stay,
/// for staff to move or cancel.
pub async fn set_office_active(
    db: &DatabaseConnection,
    id: i32,
    active: bool,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let o = office::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let tz = tz_of(&o);
    if !active {
        let working: Vec<String> = specialist::Entity::find()
            .filter(specialist::Column::OfficeId.eq(id))
            .filter(specialist::Column::Active.eq(true))
            .order_by_asc(specialist::Column::Id)
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        if !working.is_empty() {
            let names = working.join(", ");
            return Err(AppError::Conflict(Text::new(
                format!(
                    "У центрі ще працюють спеціалісти: {names}. Спершу виведіть їх з роботи (їхні записи буде показано)."
                ),
                format!(
                    "Specialists still work at this office: {names}. Retire them first (their bookings will be shown)."
                ),
            )));
        }
    }
    let rows = if active {
        Vec::new()
    } else {
        live_bookings(&txn, id, None).await?
    };
    let affected: Vec<i32> = rows.iter().map(|b| b.id).collect();
    let txn = match needs_confirmation(txn, tz, &rows, &affected, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    let mut m: office::ActiveModel = o.into();
    m.active = Set(active);
    m.update(&txn).await?;
    saved(txn, affected.len()).await
}

/// Adds a closed day; a day already closed is a 409, a past day a 422. Live bookings on it
/// need the administrator's confirmation, and stay.
pub async fn add_closure(
    db: &DatabaseConnection,
    office_id: i32,
    c: &Closure,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let o = office::Entity::find_by_id(office_id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let tz = tz_of(&o);
    let today = today_in(tz);
    if let Err(fields) = check_closure_day(c.day, today) {
        return Err(AppError::Invalid {
            message: Text::new("Перевірте введені дані.", "Check the input."),
            fields,
        });
    }
    let rows = live_bookings(&txn, office_id, None).await?;
    let mut stranded = Vec::new();
    if !rows.is_empty() {
        let before = office_plan(&txn, &o, today).await?;
        let mut after = before.clone();
        after.closed.insert(c.day);
        let plans = specialist_plans(&txn, &specialists_of(&rows), today).await?;
        stranded = impact::stranded((&before, &plans), (&after, &plans), &booked_times(&rows));
    }
    let txn = match needs_confirmation(txn, tz, &rows, &stranded, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    let inserted = office_closure::ActiveModel {
        office_id: Set(office_id),
        day: Set(c.day),
        reason: Set(c.reason.uk.clone()),
        reason_en: Set(c.reason.en.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(Text::new(
                format!("День {} уже позначено вихідним.", c.day),
                format!("{} is already a closed day.", c.day),
            )));
        }
        Err(e) => return Err(e.into()),
    }
    saved(txn, stranded.len()).await
}

pub async fn remove_closure(
    db: &DatabaseConnection,
    office_id: i32,
    closure_id: i32,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let n = office_closure::Entity::delete_many()
        .filter(office_closure::Column::Id.eq(closure_id))
        .filter(office_closure::Column::OfficeId.eq(office_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::not_found());
    }
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(())
}

/// Service ids of the skills; a code the catalog does not have is a 422.
async fn skill_ids(txn: &impl ConnectionTrait, codes: &[String]) -> Result<Vec<i32>, AppError> {
    let ids = service_ids(txn).await?;
    let mut out = Vec::with_capacity(codes.len());
    let mut unknown = Vec::new();
    for code in codes {
        match ids.get(code) {
            Some(id) => out.push(*id),
            None => unknown.push(code.as_str()),
        }
    }
    if unknown.is_empty() {
        return Ok(out);
    }
    let list = unknown.join(", ");
    Err(AppError::Invalid {
        message: Text::new("Невідомі послуги.", "Unknown services."),
        fields: vec![FieldError::bilingual(
            "skills",
            format!("У каталозі немає послуг з кодами: {list}."),
            format!("The catalog has no services with the codes: {list}."),
        )],
    })
}

async fn write_skills(
    txn: &impl ConnectionTrait,
    specialist_id: i32,
    service_ids: &[i32],
) -> Result<(), DbErr> {
    specialist_skill::Entity::delete_many()
        .filter(specialist_skill::Column::SpecialistId.eq(specialist_id))
        .exec(txn)
        .await?;
    for id in service_ids {
        specialist_skill::ActiveModel {
            specialist_id: Set(specialist_id),
            service_id: Set(*id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// A desk is one active specialist's at a time within an office: the ticket screen and the
/// board call residents to it by label. 409 naming who has it.
// why: checked in the write transaction rather than by a unique index, since retired
// specialists keep their label and a partial index is not portable through the schema API.
async fn desk_free(
    txn: &impl ConnectionTrait,
    office_id: i32,
    label: &str,
    except: Option<i32>,
) -> Result<(), AppError> {
    let holder = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .filter(specialist::Column::Active.eq(true))
        .filter(specialist::Column::WindowLabel.eq(label))
        .all(txn)
        .await?
        .into_iter()
        .find(|s| Some(s.id) != except);
    match holder {
        None => Ok(()),
        Some(s) => Err(desk_taken(label, Some(&s.name))),
    }
}

fn desk_taken(label: &str, holder: Option<&str>) -> AppError {
    let (uk, en) = match holder {
        Some(name) => (format!("спеціалістом {name}"), name.to_string()),
        None => ("іншим спеціалістом".into(), "another specialist".into()),
    };
    AppError::Conflict(Text::new(
        format!("Вікно «{label}» уже закріплене за {uk}. Оберіть інше або спершу звільніть це."),
        format!("Desk \"{label}\" already belongs to {en}. Choose another or free that one first."),
    ))
}

/// A save that raced another past `desk_free` meets the desk's unique index: the same answer
/// as when the check sees it.
fn desk_raced(label: &str) -> impl FnOnce(DbErr) -> AppError + '_ {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => desk_taken(label, None),
        _ => e.into(),
    }
}

pub async fn create_specialist(
    db: &DatabaseConnection,
    office_id: i32,
    c: &SpecialistChange,
) -> Result<i32, AppError> {
    let txn = begin_write(db).await?;
    let o = office::Entity::find_by_id(office_id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let skills = skill_ids(&txn, &c.skills).await?;
    if c.active && !o.active {
        return Err(office_retired());
    }
    if c.active {
        desk_free(&txn, office_id, &c.window_label, None).await?;
    }
    let s = specialist::ActiveModel {
        office_id: Set(office_id),
        user_id: Set(None),
        name: Set(c.name.clone()),
        window_label: Set(c.window_label.clone()),
        active: Set(c.active),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(desk_raced(&c.window_label))?;
    write_skills(&txn, s.id, &skills).await?;
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(s.id)
}

async fn specialist_of(
    txn: &impl ConnectionTrait,
    office_id: i32,
    id: i32,
) -> Result<specialist::Model, AppError> {
    specialist::Entity::find_by_id(id)
        .filter(specialist::Column::OfficeId.eq(office_id))
        .one(txn)
        .await?
        .ok_or_else(no_specialist)
}

/// Saves a specialist's name, desk and skills. Live bookings of a service taken off their
/// skills need the administrator's confirmation, and stay.
pub async fn update_specialist(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    c: &SpecialistChange,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let s = specialist_of(&txn, office_id, id).await?;
    let skills = skill_ids(&txn, &c.skills).await?;
    if s.active {
        desk_free(&txn, office_id, &c.window_label, Some(id)).await?;
    }
    let o = office::Entity::find_by_id(office_id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let rows = live_bookings(&txn, office_id, Some(id)).await?;
    let booked: Vec<(i32, i32)> = rows.iter().map(|b| (b.id, b.service_id)).collect();
    let stranded = impact::without_skill(&booked, &skills.iter().copied().collect());
    let txn = match needs_confirmation(txn, tz_of(&o), &rows, &stranded, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    // why: `c.active` is not applied here; retiring goes through `set_specialist_active`,
    // which shows the bookings left behind first.
    let mut m: specialist::ActiveModel = s.into();
    m.name = Set(c.name.clone());
    m.window_label = Set(c.window_label.clone());
    m.update(&txn).await.map_err(desk_raced(&c.window_label))?;
    write_skills(&txn, id, &skills).await?;
    saved(txn, stranded.len()).await
}

/// Retires a specialist (not offered for booking any more) or brings them back. Retiring one
/// with live bookings needs the administrator's confirmation; the bookings stay, for staff to
/// move or cancel. Bringing one back needs their desk free.
pub async fn set_specialist_active(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    active: bool,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let s = specialist_of(&txn, office_id, id).await?;
    let o = office::Entity::find_by_id(office_id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
    let rows = if active {
        if !o.active {
            return Err(office_retired());
        }
        desk_free(&txn, office_id, &s.window_label, Some(id)).await?;
        Vec::new()
    } else {
        live_bookings(&txn, office_id, Some(id)).await?
    };
    let affected: Vec<i32> = rows.iter().map(|b| b.id).collect();
    let txn = match needs_confirmation(txn, tz_of(&o), &rows, &affected, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    let label = s.window_label.clone();
    let mut m: specialist::ActiveModel = s.into();
    m.active = Set(active);
    m.update(&txn).await.map_err(desk_raced(&label))?;
    saved(txn, affected.len()).await
}

/// The specialist's office, their live bookings and their stored plan, for a change to it.
async fn specialist_change_context(
    txn: &impl ConnectionTrait,
    office_id: i32,
    id: i32,
) -> Result<(Tz, OfficePlan, Vec<booking::Model>, Vec<SpecialistPlan>), AppError> {
    specialist_of(txn, office_id, id).await?;
    let o = office::Entity::find_by_id(office_id)
        .one(txn)
        .await?
        .ok_or_else(no_office)?;
    let tz = tz_of(&o);
    let today = today_in(tz);
    let rows = live_bookings(txn, office_id, Some(id)).await?;
    let office = office_plan(txn, &o, today).await?;
    let plans = if rows.is_empty() {
        Vec::new()
    } else {
        specialist_plans(txn, &[id], today).await?
    };
    Ok((tz, office, rows, plans))
}

/// Replaces a specialist's weekly schedule: working hours, breaks and walk-in periods. Live
/// bookings the new week leaves outside bookable time need the administrator's confirmation,
/// and stay.
pub async fn save_week(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    week: &[WorkDay; 7],
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let (tz, office, rows, before) = specialist_change_context(&txn, office_id, id).await?;
    let mut after = before.clone();
    for p in &mut after {
        p.week = week.clone();
    }
    let stranded = impact::stranded((&office, &before), (&office, &after), &booked_times(&rows));
    let txn = match needs_confirmation(txn, tz, &rows, &stranded, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    work_schedule::Entity::delete_many()
        .filter(work_schedule::Column::SpecialistId.eq(id))
        .exec(&txn)
        .await?;
    schedule_break::Entity::delete_many()
        .filter(schedule_break::Column::SpecialistId.eq(id))
        .exec(&txn)
        .await?;
    walk_in_period::Entity::delete_many()
        .filter(walk_in_period::Column::SpecialistId.eq(id))
        .exec(&txn)
        .await?;
    for (weekday, day) in (0i32..).zip(week.iter()) {
        let Some(work) = day.work else { continue };
        // why: every break goes to `schedule_break`; the legacy one-break columns stay empty.
        work_schedule::ActiveModel {
            specialist_id: Set(id),
            weekday: Set(weekday),
            starts: Set(hhmm(work.start)),
            ends: Set(hhmm(work.end)),
            break_starts: Set(None),
            break_ends: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for b in &day.breaks {
            schedule_break::ActiveModel {
                specialist_id: Set(id),
                weekday: Set(weekday),
                starts: Set(hhmm(b.start)),
                ends: Set(hhmm(b.end)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        for w in &day.walk_in {
            walk_in_period::ActiveModel {
                specialist_id: Set(id),
                weekday: Set(weekday),
                starts: Set(hhmm(w.start)),
                ends: Set(hhmm(w.end)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    saved(txn, stranded.len()).await
}

/// Adds an exception, one row per day of its range. Live bookings that time off takes need
/// the administrator's confirmation, and stay.
pub async fn add_exception(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    c: &ExceptionChange,
    seen: &BTreeSet<i32>,
) -> Result<Outcome, AppError> {
    let txn = begin_write(db).await?;
    let (tz, office, rows, before) = specialist_change_context(&txn, office_id, id).await?;
    let mut after = before.clone();
    for p in &mut after {
        p.exceptions.extend(c.days().map(|day| Exception {
            day,
            kind: c.kind,
            window: c.window,
        }));
    }
    let stranded = impact::stranded((&office, &before), (&office, &after), &booked_times(&rows));
    let txn = match needs_confirmation(txn, tz, &rows, &stranded, seen).await? {
        Ok(txn) => txn,
        Err(outcome) => return Ok(outcome),
    };
    let rows: Vec<specialist_exception::ActiveModel> = c
        .days()
        .map(|day| specialist_exception::ActiveModel {
            specialist_id: Set(id),
            day: Set(day),
            kind: Set(c.kind.code().to_string()),
            starts: Set(c.window.map(|w| hhmm(w.start))),
            ends: Set(c.window.map(|w| hhmm(w.end))),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        specialist_exception::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
    }
    saved(txn, stranded.len()).await
}

pub async fn remove_exception(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    exception_id: i32,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    specialist_of(&txn, office_id, id).await?;
    let n = specialist_exception::Entity::delete_many()
        .filter(specialist_exception::Column::Id.eq(exception_id))
        .filter(specialist_exception::Column::SpecialistId.eq(id))
        .exec(&txn)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::not_found());
    }
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(())
}
