//! Offices (district centers and the contact center) with their time zone, opening hours and
//! closed days, and their specialists with skills, weekly schedules, breaks, walk-in periods and
//! exceptions: the reads of the home page and the admin pages, and the admin's edits, each in
//! one transaction.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};

use super::booking::begin_write;
use super::cache::{OFFICES, bump_version};
use super::entities::{
    office, office_closure, office_hours, schedule_break, service, specialist,
    specialist_exception, specialist_skill, walk_in_period, work_schedule,
};
use crate::domain::booking::OfficeKind;
use crate::domain::booking::edit::{Closure, ExceptionChange, OfficeChange, SpecialistChange};
use crate::domain::booking::schedule::{ExceptionKind, LocalWindow, WorkDay, format_hhmm};
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

/// Every office with its hours: two queries, grouped in memory.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<OfficeRecord>, DbErr> {
    let offices = office::Entity::find()
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
    /// Monday = 0 … Sunday = 6.
    pub hours: [Option<LocalWindow>; 7],
    pub closures: Vec<ClosureRecord>,
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
    let mut week: [WorkDay; 7] = Default::default();
    for w in work_schedule::Entity::find()
        .filter(work_schedule::Column::SpecialistId.eq(id))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(&mut week, w.weekday) {
            day.work = LocalWindow::parse(&w.starts, &w.ends);
            if let (Some(a), Some(b)) = (&w.break_starts, &w.break_ends)
                && let Some(br) = LocalWindow::parse(a, b)
            {
                day.breaks.push(br);
            }
        }
    }
    for b in schedule_break::Entity::find()
        .filter(schedule_break::Column::SpecialistId.eq(id))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(&mut week, b.weekday)
            && let Some(w) = LocalWindow::parse(&b.starts, &b.ends)
        {
            day.breaks.push(w);
        }
    }
    for p in walk_in_period::Entity::find()
        .filter(walk_in_period::Column::SpecialistId.eq(id))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_slot(&mut week, p.weekday)
            && let Some(w) = LocalWindow::parse(&p.starts, &p.ends)
        {
            day.walk_in.push(w);
        }
    }
    for day in &mut week {
        day.breaks.sort();
        day.walk_in.sort();
    }
    let exceptions = specialist_exception::Entity::find()
        .filter(specialist_exception::Column::SpecialistId.eq(id))
        .filter(specialist_exception::Column::Day.gte(exceptions_from))
        .order_by_asc(specialist_exception::Column::Day)
        .order_by_asc(specialist_exception::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| {
            Some(ExceptionRecord {
                id: e.id,
                day: e.day,
                kind: ExceptionKind::from_code(&e.kind)?,
                window: match (&e.starts, &e.ends) {
                    (Some(a), Some(b)) => LocalWindow::parse(a, b),
                    _ => None,
                },
            })
        })
        .collect();
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

fn no_office() -> AppError {
    AppError::NotFound(Text::new("Центр не знайдено.", "No such office."))
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

pub async fn update_office(
    db: &DatabaseConnection,
    id: i32,
    c: &OfficeChange,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let o = office::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(no_office)?;
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
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(())
}

async fn office_exists(txn: &impl ConnectionTrait, id: i32) -> Result<(), AppError> {
    office::Entity::find_by_id(id)
        .one(txn)
        .await?
        .map(|_| ())
        .ok_or_else(no_office)
}

/// Adds a closed day; a day already closed is a 409.
pub async fn add_closure(
    db: &DatabaseConnection,
    office_id: i32,
    c: &Closure,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    office_exists(&txn, office_id).await?;
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
    bump_version(&txn, OFFICES).await?;
    txn.commit().await?;
    Ok(())
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

pub async fn create_specialist(
    db: &DatabaseConnection,
    office_id: i32,
    c: &SpecialistChange,
) -> Result<i32, AppError> {
    let txn = begin_write(db).await?;
    office_exists(&txn, office_id).await?;
    let skills = skill_ids(&txn, &c.skills).await?;
    let s = specialist::ActiveModel {
        office_id: Set(office_id),
        user_id: Set(None),
        name: Set(c.name.clone()),
        window_label: Set(c.window_label.clone()),
        active: Set(c.active),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_skills(&txn, s.id, &skills).await?;
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

pub async fn update_specialist(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    c: &SpecialistChange,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let s = specialist_of(&txn, office_id, id).await?;
    let skills = skill_ids(&txn, &c.skills).await?;
    let mut m: specialist::ActiveModel = s.into();
    m.name = Set(c.name.clone());
    m.window_label = Set(c.window_label.clone());
    m.active = Set(c.active);
    m.update(&txn).await?;
    write_skills(&txn, id, &skills).await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces a specialist's weekly schedule: working hours, breaks and walk-in periods.
pub async fn save_week(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    week: &[WorkDay; 7],
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    specialist_of(&txn, office_id, id).await?;
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
    txn.commit().await?;
    Ok(())
}

/// Adds an exception, one row per day of its range. Returns the number of days.
pub async fn add_exception(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
    c: &ExceptionChange,
) -> Result<usize, AppError> {
    let txn = begin_write(db).await?;
    specialist_of(&txn, office_id, id).await?;
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
    let n = rows.len();
    if !rows.is_empty() {
        specialist_exception::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(n)
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
    txn.commit().await?;
    Ok(())
}
