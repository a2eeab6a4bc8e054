//! Online booking in the database: offices and their specialists' plans, availability, and
//! bookings whose time is claimed minute by minute under a primary key, so the database
//! itself refuses two overlapping bookings of one specialist.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait, TryInsertResult,
};

use super::catalog::ServiceRecord;
use super::entities::{
    booking, booking_claim, booking_person, office, office_closure, office_hours, schedule_break,
    service, specialist, specialist_exception, specialist_skill, walk_in_period, work_schedule,
};
use crate::domain::booking::{
    Exception, ExceptionKind, LocalWindow, OfficeKind, OfficePlan, Policy, Rules, Slot,
    SpecialistPlan, Status,
    fair::{self, PersonBooking},
    free_slots,
    request::Contact,
};
use crate::domain::lang::{Lang, Text};
use crate::error::AppError;
use crate::mail::booking::{self as booking_mail, BookingMail, MailSettings};

mod batch;
pub use batch::{QueuedBooking, fallbacks as batch_fallbacks};

#[derive(Debug, Clone, PartialEq)]
pub struct BookingOfficeRecord {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub address: Text,
    pub timezone: Tz,
    pub slot_minutes: u16,
    pub kind: OfficeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpecialistRecord {
    pub id: i32,
    pub office_id: i32,
    pub name: String,
    pub window_label: String,
    /// Service codes, in catalog order.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityRecord {
    pub office: BookingOfficeRecord,
    pub service: ServiceRecord,
    pub length_minutes: u32,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BookingRecord {
    pub id: i32,
    pub code: String,
    pub office_id: i32,
    pub office_name: Text,
    pub office_address: Text,
    pub timezone: Tz,
    pub service_code: String,
    pub service_title: Text,
    pub specialist_id: i32,
    pub specialist_name: String,
    pub window_label: String,
    pub channel: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: Status,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub account: Option<String>,
    pub lang: Lang,
    pub hold_expires_at: Option<DateTime<Utc>>,
}

/// A new booking and the secrets only its resident gets: the manage token (in the link to
/// view, cancel or move it) and, while it is pending, the email confirmation token.
#[derive(Debug, Clone)]
pub struct BookedRecord {
    pub booking: BookingRecord,
    pub manage_token: String,
    pub confirm_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub office_id: i32,
    pub service_code: String,
    pub start: DateTime<Utc>,
    pub specialist_id: Option<i32>,
    pub contact: Contact,
    pub client_ip: Option<String>,
}

/// Why a booking was not made.
#[derive(Debug)]
pub enum BookError {
    /// Someone else holds that time: 409 with the next free starts.
    Taken {
        next: Vec<DateTime<Utc>>,
    },
    /// A fair-access rule refused it: 409 with this code.
    Refused {
        code: &'static str,
        message: Text,
    },
    Other(AppError),
}

impl From<DbErr> for BookError {
    fn from(e: DbErr) -> Self {
        BookError::Other(e.into())
    }
}

impl From<AppError> for BookError {
    fn from(e: AppError) -> Self {
        BookError::Other(e)
    }
}

fn minute_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(60)
}

/// Begins a transaction that writes: on SQLite it takes the write lock at once, so a
/// transaction that reads before it writes never fails to upgrade under concurrency.
pub(super) async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

fn to_office(m: office::Model) -> BookingOfficeRecord {
    BookingOfficeRecord {
        id: m.id,
        code: m.code,
        name: Text::new(m.name, m.name_en),
        address: Text::new(m.address, m.address_en),
        timezone: m.timezone.parse().unwrap_or(chrono_tz::Europe::Kyiv),
        slot_minutes: u16::try_from(m.slot_minutes.clamp(1, 240)).unwrap_or(5),
        kind: OfficeKind::from_code(&m.kind).unwrap_or(OfficeKind::Office),
    }
}

pub async fn list_offices(db: &impl ConnectionTrait) -> Result<Vec<BookingOfficeRecord>, DbErr> {
    Ok(office::Entity::find()
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_office)
        .collect())
}

pub async fn find_office(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<BookingOfficeRecord>, DbErr> {
    Ok(office::Entity::find_by_id(id).one(db).await?.map(to_office))
}

fn unknown_office() -> AppError {
    AppError::NotFound(Text::new("Центр не знайдено.", "No such office."))
}

fn unknown_service(code: &str) -> AppError {
    AppError::NotFound(Text::new(
        format!("Послугу з кодом «{code}» не знайдено."),
        format!("No service has the code \"{code}\"."),
    ))
}

/// The active specialists of an office with the codes of the services they handle.
pub async fn list_specialists(
    db: &impl ConnectionTrait,
    office_id: i32,
) -> Result<Vec<SpecialistRecord>, DbErr> {
    let specs = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .filter(specialist::Column::Active.eq(true))
        .order_by_asc(specialist::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i32> = specs.iter().map(|s| s.id).collect();
    let skills = specialist_skill::Entity::find()
        .filter(specialist_skill::Column::SpecialistId.is_in(ids))
        .all(db)
        .await?;
    let services: HashMap<i32, (i32, String)> = service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, (s.position, s.code)))
        .collect();
    let mut by_spec: HashMap<i32, Vec<(i32, String)>> = HashMap::new();
    for k in skills {
        if let Some(s) = services.get(&k.service_id) {
            by_spec.entry(k.specialist_id).or_default().push(s.clone());
        }
    }
    Ok(specs
        .into_iter()
        .map(|s| {
            let mut codes = by_spec.remove(&s.id).unwrap_or_default();
            codes.sort();
            SpecialistRecord {
                id: s.id,
                office_id: s.office_id,
                name: s.name,
                window_label: s.window_label,
                services: codes.into_iter().map(|(_, c)| c).collect(),
            }
        })
        .collect())
}

/// What booking reads of one office that changes only by an admin's edit.
struct OfficeSetup {
    office: BookingOfficeRecord,
    plan: OfficePlan,
    /// Active specialists, by id.
    specialists: Vec<specialist::Model>,
    /// Service id → the active specialists with that skill.
    skills: HashMap<i32, BTreeSet<i32>>,
    /// Weeks, breaks, walk-in periods and exceptions, without busy time.
    plans: HashMap<i32, SpecialistPlan>,
}

/// Offices with their specialists and plans, kept in memory (`Caches::booking`).
///
/// why: a booking read about a dozen tables (hours, weeks, breaks, walk-in periods, exceptions,
/// skills, ...) row by row before it could decide anything, and on SQLite every row crosses
/// from the driver's thread to the runtime's: most of a booking's time under a storm. They change
/// only by admin edits, which bump the `offices` version: an edit shows at once in this
/// process and within a second on other instances (`store::cache`).
pub struct BookingSetup {
    offices: HashMap<i32, OfficeSetup>,
}

/// Loads the setup: every office; exceptions and closed days from two days ago on.
pub async fn load_setup(db: DatabaseConnection) -> Result<BookingSetup, DbErr> {
    let since = super::now().date_naive() - Duration::days(2);
    // why: a bound, not NaiveDate::MAX: SQLite compares dates as text, and "+262142-…" sorts
    // before "2026-…".
    let until = since + Duration::days(3660);
    let skills = specialist_skill::Entity::find().all(&db).await?;
    let mut offices = HashMap::new();
    for m in office::Entity::find().all(&db).await? {
        let office = to_office(m);
        let specialists: Vec<specialist::Model> = specialist::Entity::find()
            .filter(specialist::Column::OfficeId.eq(office.id))
            .filter(specialist::Column::Active.eq(true))
            .order_by_asc(specialist::Column::Id)
            .all(&db)
            .await?;
        let ids: Vec<i32> = specialists.iter().map(|s| s.id).collect();
        let mut by_service: HashMap<i32, BTreeSet<i32>> = HashMap::new();
        for k in skills.iter().filter(|k| ids.contains(&k.specialist_id)) {
            by_service
                .entry(k.service_id)
                .or_default()
                .insert(k.specialist_id);
        }
        let (plan, plans) = load_static_plans(&db, &office, &ids, since, until).await?;
        offices.insert(
            office.id,
            OfficeSetup {
                office,
                plan,
                specialists,
                skills: by_service,
                plans,
            },
        );
    }
    Ok(BookingSetup { offices })
}

impl BookingSetup {
    fn office(&self, id: i32) -> Result<&OfficeSetup, AppError> {
        self.offices.get(&id).ok_or_else(unknown_office)
    }
}

/// The service by code from the catalog in memory, when it is active.
fn catalog_service(
    catalog: &super::catalog::CatalogSnapshot,
    code: &str,
) -> Result<ServiceRecord, AppError> {
    match catalog.services.iter().find(|s| s.code == code) {
        Some(s) if s.active => Ok(s.clone()),
        _ => Err(unknown_service(code)),
    }
}

impl OfficeSetup {
    /// `skilled_specialists`, from memory.
    fn skilled(
        &self,
        service_id: i32,
        only: Option<i32>,
    ) -> Result<Vec<specialist::Model>, AppError> {
        let with = self.skills.get(&service_id);
        let specs: Vec<specialist::Model> = self
            .specialists
            .iter()
            .filter(|s| with.is_some_and(|w| w.contains(&s.id)))
            .filter(|s| only.is_none_or(|one| one == s.id))
            .cloned()
            .collect();
        if only.is_some() && specs.is_empty() {
            return Err(not_a_skill());
        }
        Ok(specs)
    }

    /// The plans of `ids` without busy time.
    fn plans(&self, ids: &[i32]) -> HashMap<i32, SpecialistPlan> {
        ids.iter()
            .map(|id| {
                let p = self
                    .plans
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| SpecialistPlan::new(*id));
                (*id, p)
            })
            .collect()
    }
}

/// The specialist asked for does not provide the service here.
fn not_a_skill() -> AppError {
    AppError::Invalid {
        message: Text::new(
            "Цей спеціаліст не надає цю послугу в цьому центрі.",
            "This specialist does not provide this service at this office.",
        ),
        fields: vec![crate::domain::validation::FieldError::bilingual(
            "specialist",
            "Оберіть іншого спеціаліста або «будь-хто».",
            "Choose another specialist or \"any\".",
        )],
    }
}

/// Statuses whose claims still hold their time.
const HOLDING: [&str; 4] = ["pending", "confirmed", "done", "no_show"];

/// Everything the engine needs for one office, loaded table by table.
async fn load_plans(
    db: &impl ConnectionTrait,
    office: &BookingOfficeRecord,
    specialist_ids: &[i32],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(OfficePlan, Vec<SpecialistPlan>), DbErr> {
    let (start, _) = local_day_bounds(office.timezone, from);
    let (_, end) = local_day_bounds(office.timezone, to);
    let (plan, specs) = load_static_plans(db, office, specialist_ids, from, to).await?;
    with_busy(db, plan, specs, specialist_ids, now, (start, end)).await
}

/// The day of the week `weekday` (0 = Monday) in a specialist's plan, if both exist.
fn weekday_of(
    specs: &mut HashMap<i32, SpecialistPlan>,
    specialist_id: i32,
    weekday: i32,
) -> Option<&mut crate::domain::booking::schedule::WorkDay> {
    let day = usize::try_from(weekday).ok()?;
    specs.get_mut(&specialist_id)?.week.get_mut(day)
}

/// The plans without busy time: hours, closed days, weeks, breaks, walk-in periods and
/// exceptions of the days `from..=to`.
async fn load_static_plans(
    db: &impl ConnectionTrait,
    office: &BookingOfficeRecord,
    specialist_ids: &[i32],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(OfficePlan, HashMap<i32, SpecialistPlan>), DbErr> {
    let mut hours: [Option<LocalWindow>; 7] = [None; 7];
    for h in office_hours::Entity::find()
        .filter(office_hours::Column::OfficeId.eq(office.id))
        .all(db)
        .await?
    {
        if let Some(slot) = usize::try_from(h.weekday)
            .ok()
            .and_then(|d| hours.get_mut(d))
        {
            *slot = LocalWindow::parse(&h.opens, &h.closes);
        }
    }
    let closed: BTreeSet<NaiveDate> = office_closure::Entity::find()
        .filter(office_closure::Column::OfficeId.eq(office.id))
        .filter(office_closure::Column::Day.between(from, to))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.day)
        .collect();
    let plan = OfficePlan {
        timezone: office.timezone,
        grid_minutes: office.slot_minutes,
        hours,
        closed,
    };
    let mut specs: HashMap<i32, SpecialistPlan> = specialist_ids
        .iter()
        .map(|id| (*id, SpecialistPlan::new(*id)))
        .collect();
    let ids = specialist_ids.to_vec();
    for w in work_schedule::Entity::find()
        .filter(work_schedule::Column::SpecialistId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        let Some(day) = specs.get_mut(&w.specialist_id).and_then(|s| {
            usize::try_from(w.weekday)
                .ok()
                .and_then(|d| s.week.get_mut(d))
        }) else {
            continue;
        };
        day.work = LocalWindow::parse(&w.starts, &w.ends);
        if let (Some(a), Some(b)) = (&w.break_starts, &w.break_ends)
            && let Some(br) = LocalWindow::parse(a, b)
        {
            day.breaks.push(br);
        }
    }
    for b in schedule_break::Entity::find()
        .filter(schedule_break::Column::SpecialistId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_of(&mut specs, b.specialist_id, b.weekday)
            && let Some(win) = LocalWindow::parse(&b.starts, &b.ends)
        {
            day.breaks.push(win);
        }
    }
    for w in walk_in_period::Entity::find()
        .filter(walk_in_period::Column::SpecialistId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        if let Some(day) = weekday_of(&mut specs, w.specialist_id, w.weekday)
            && let Some(win) = LocalWindow::parse(&w.starts, &w.ends)
        {
            day.walk_in.push(win);
        }
    }
    for e in specialist_exception::Entity::find()
        .filter(specialist_exception::Column::SpecialistId.is_in(ids.clone()))
        .filter(specialist_exception::Column::Day.between(from, to))
        .all(db)
        .await?
    {
        let (Some(s), Some(kind)) = (
            specs.get_mut(&e.specialist_id),
            ExceptionKind::from_code(&e.kind),
        ) else {
            continue;
        };
        let window = match (&e.starts, &e.ends) {
            (Some(a), Some(b)) => LocalWindow::parse(a, b),
            _ => None,
        };
        // An extra shift without hours adds nothing.
        if kind == ExceptionKind::Extra && window.is_none() {
            continue;
        }
        s.exceptions.push(Exception {
            day: e.day,
            kind,
            window,
        });
    }
    Ok((plan, specs))
}

/// Adds the busy time overlapping `busy_in` to the plans: bookings that still hold their
/// claims, three columns each (a booking needs its own minutes, not the whole day's bookings,
/// which grew with every booking of a busy day).
async fn with_busy(
    db: &impl ConnectionTrait,
    plan: OfficePlan,
    mut specs: HashMap<i32, SpecialistPlan>,
    specialist_ids: &[i32],
    now: DateTime<Utc>,
    busy_in: (DateTime<Utc>, DateTime<Utc>),
) -> Result<(OfficePlan, Vec<SpecialistPlan>), DbErr> {
    let ids = specialist_ids.to_vec();
    // Busy time: bookings that still hold their claims, three columns each.
    let busy: Vec<(i32, DateTime<Utc>, DateTime<Utc>)> = booking::Entity::find()
        .select_only()
        .column(booking::Column::SpecialistId)
        .column(booking::Column::StartsAt)
        .column(booking::Column::EndsAt)
        .filter(booking::Column::SpecialistId.is_in(ids))
        .filter(booking::Column::StartsAt.lt(busy_in.1))
        .filter(booking::Column::EndsAt.gt(busy_in.0))
        .filter(holding_claims(now))
        .into_tuple()
        .all(db)
        .await?;
    for (spec, starts, ends) in busy {
        if let Some(s) = specs.get_mut(&spec) {
            s.busy.push((minute_of(starts), minute_of(ends)));
        }
    }
    let mut list: Vec<SpecialistPlan> = specs.into_values().collect();
    list.sort_by_key(|s| s.id);
    Ok((plan, list))
}

/// Bookings whose time is still taken at `now`: live ones, holds that have not run out, and
/// cancelled ones whose time has not yet been released.
fn holding_claims(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(booking::Column::Status.is_in(HOLDING))
                .add(
                    Condition::any()
                        .add(booking::Column::Status.ne("pending"))
                        .add(booking::Column::HoldExpiresAt.gt(now)),
                ),
        )
        .add(
            Condition::all()
                .add(booking::Column::Status.eq("cancelled"))
                .add(booking::Column::ReleaseAt.gt(now)),
        )
}

async fn active_service(db: &impl ConnectionTrait, code: &str) -> Result<ServiceRecord, AppError> {
    match super::catalog::find_service(db, code).await? {
        Some(s) if s.active => Ok(s),
        _ => Err(unknown_service(code)),
    }
}

fn channel_refused(office: &BookingOfficeRecord, service: &ServiceRecord) -> AppError {
    let channel = office.kind.channel();
    AppError::Invalid {
        message: Text::new(
            format!(
                "Послугу «{}» не можна замовити через канал «{}».",
                service.title.uk,
                channel.label().uk
            ),
            format!(
                "The service \"{}\" cannot be booked on the channel \"{}\".",
                service.title.en,
                channel.label().en
            ),
        ),
        fields: vec![crate::domain::validation::FieldError::bilingual(
            "service",
            format!("Доступні канали: {}.", channel_list(service, Lang::Uk)),
            format!("Available channels: {}.", channel_list(service, Lang::En)),
        )],
    }
}

fn channel_list(service: &ServiceRecord, lang: Lang) -> String {
    service
        .channels
        .iter()
        .map(|c| c.label().get(lang).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Specialists of the office with the skill, narrowed to one when asked (ids).
async fn skilled(
    db: &impl ConnectionTrait,
    office_id: i32,
    service_id: i32,
    only: Option<i32>,
) -> Result<Vec<i32>, AppError> {
    let with_skill: BTreeSet<i32> = specialist_skill::Entity::find()
        .filter(specialist_skill::Column::ServiceId.eq(service_id))
        .all(db)
        .await?
        .into_iter()
        .map(|k| k.specialist_id)
        .collect();
    let ids: Vec<i32> = specialist::Entity::find()
        .filter(specialist::Column::OfficeId.eq(office_id))
        .filter(specialist::Column::Active.eq(true))
        .order_by_asc(specialist::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| with_skill.contains(id))
        .collect();
    match only {
        None => Ok(ids),
        Some(one) if ids.contains(&one) => Ok(vec![one]),
        Some(_) => Err(not_a_skill()),
    }
}

fn rules(policy: &Policy, now: DateTime<Utc>) -> Rules {
    Rules {
        now,
        min_notice_minutes: policy.min_notice_minutes,
        horizon_days: policy.horizon_days,
    }
}

/// Free starts for a service at an office over local days `from..=to`.
pub async fn availability(
    db: &impl ConnectionTrait,
    office_id: i32,
    service_code: &str,
    from: NaiveDate,
    to: NaiveDate,
    specialist_id: Option<i32>,
    policy: &Policy,
) -> Result<AvailabilityRecord, AppError> {
    let office = find_office(db, office_id)
        .await?
        .ok_or_else(unknown_office)?;
    let service = active_service(db, service_code).await?;
    if !service.has_channel(office.kind.channel()) {
        return Err(channel_refused(&office, &service));
    }
    let length = service.planned_minutes(u32::from(office.slot_minutes), policy.open_ended_factor);
    let ids = skilled(db, office.id, service.id, specialist_id).await?;
    let now = super::now();
    let (plan, specs) = load_plans(db, &office, &ids, from, to, now).await?;
    let slots = free_slots(&plan, &specs, &rules(policy, now), from, to, length);
    Ok(AvailabilityRecord {
        office,
        service,
        length_minutes: length,
        slots,
    })
}

/// The next few free starts after a lost race, over the week from `start`'s day.
async fn next_free(
    db: &impl ConnectionTrait,
    office: &BookingOfficeRecord,
    ids: &[i32],
    from: NaiveDate,
    length: u32,
    policy: &Policy,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    let now = super::now();
    let to = from + Duration::days(7);
    let (plan, specs) = load_plans(db, office, ids, from, to, now).await?;
    Ok(
        free_slots(&plan, &specs, &rules(policy, now), from, to, length)
            .into_iter()
            .take(5)
            .map(|s| s.start)
            .collect(),
    )
}

/// Frees the time of holds that ran out and of cancellations whose delay has passed, for the
/// given specialists (all when empty). Safe to run anywhere at any time: each statement only
/// acts on rows already due, so instances racing on it do the same harmless work.
async fn release_due(
    db: &impl ConnectionTrait,
    specialist_ids: &[i32],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut expired = booking::Entity::find()
        .filter(booking::Column::Status.eq(Status::Pending.code()))
        .filter(booking::Column::HoldExpiresAt.lte(now));
    let mut released = booking::Entity::find()
        .filter(booking::Column::Status.is_in([Status::Cancelled.code(), Status::Expired.code()]))
        .filter(booking::Column::ReleaseAt.lte(now));
    if !specialist_ids.is_empty() {
        expired = expired.filter(booking::Column::SpecialistId.is_in(specialist_ids.to_vec()));
        released = released.filter(booking::Column::SpecialistId.is_in(specialist_ids.to_vec()));
    }
    let expired: Vec<i32> = expired.all(db).await?.into_iter().map(|b| b.id).collect();
    let released: Vec<i32> = released.all(db).await?.into_iter().map(|b| b.id).collect();
    let mut n = 0;
    if !expired.is_empty() {
        // why: the status change is the claim on the work: only rows still pending and due
        // change, so two instances expiring the same hold change it once.
        n += booking::Entity::update_many()
            .col_expr(booking::Column::Status, Status::Expired.code().into())
            .col_expr(
                booking::Column::ReleaseAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            )
            .col_expr(
                booking::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(booking::Column::Id.is_in(expired.clone()))
            .filter(booking::Column::Status.eq(Status::Pending.code()))
            .exec(db)
            .await?
            .rows_affected;
    }
    let all: Vec<i32> = expired.into_iter().chain(released).collect();
    if !all.is_empty() {
        booking_claim::Entity::delete_many()
            .filter(booking_claim::Column::BookingId.is_in(all))
            .exec(db)
            .await?;
    }
    Ok(n)
}

/// One pass of the hold-release worker: expires pending bookings whose hold ran out and frees
/// time of cancellations past their delay. Returns the number of holds expired.
pub async fn release_expired(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let txn = begin_write(db).await?;
    let n = release_due(&txn, &[], super::now()).await?;
    txn.commit().await?;
    Ok(n)
}

/// The bookings of any of `contacts`' keys that may count against the caps: no-shows since
/// `since` and bookings not over at `now`.
async fn person_bookings(
    db: &impl ConnectionTrait,
    contacts: &[&Contact],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<PersonBooking>, DbErr> {
    let (mut phones, mut emails, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for c in contacts {
        phones.extend(c.phone_norm.clone());
        emails.extend(c.email_norm.clone());
        accounts.extend(c.account.clone());
    }
    if phones.is_empty() && emails.is_empty() && accounts.is_empty() {
        return Ok(Vec::new());
    }
    let mut who = Condition::any();
    if !phones.is_empty() {
        who = who.add(booking::Column::PhoneNorm.is_in(phones));
    }
    if !emails.is_empty() {
        who = who.add(booking::Column::EmailNorm.is_in(emails));
    }
    if !accounts.is_empty() {
        who = who.add(booking::Column::Account.is_in(accounts));
    }
    // One read for both rules, from `since` for no-shows and `now` for live bookings;
    // `fair::check_person` applies them exactly.
    let rows = booking::Entity::find()
        .select_only()
        .columns([
            booking::Column::PhoneNorm,
            booking::Column::EmailNorm,
            booking::Column::Account,
            booking::Column::ServiceId,
            booking::Column::Status,
            booking::Column::StartsAt,
            booking::Column::EndsAt,
            booking::Column::HoldExpiresAt,
        ])
        .filter(who)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(booking::Column::Status.eq(Status::NoShow.code()))
                        .add(booking::Column::StartsAt.gt(since)),
                )
                .add(
                    Condition::all().add(booking::Column::EndsAt.gt(now)).add(
                        booking::Column::Status
                            .is_in([Status::Confirmed.code(), Status::Pending.code()]),
                    ),
                ),
        )
        .into_tuple::<PersonRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(phone_norm, email_norm, account, service_id, status, starts_at, ends_at, hold)| {
                Some(PersonBooking {
                    phone_norm,
                    email_norm,
                    account,
                    service_id,
                    status: Status::from_code(&status)?,
                    starts_at,
                    ends_at,
                    hold_expires_at: hold,
                })
            },
        )
        .collect())
}

type PersonRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    i32,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

impl From<fair::Refusal> for BookError {
    fn from(r: fair::Refusal) -> Self {
        BookError::Refused {
            code: r.code,
            message: r.message,
        }
    }
}

async fn person_check(
    db: &impl ConnectionTrait,
    contact: &Contact,
    service_id: i32,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), BookError> {
    let since = fair::no_show_since(policy, now);
    let mine = person_bookings(db, &[contact], since, now).await?;
    fair::check_person(&mine, service_id, policy, now)?;
    Ok(())
}

/// Live bookings per specialist among `ids` starting in `[day_start, day_end)`: the load
/// "any specialist" spreads.
async fn day_load(
    db: &impl ConnectionTrait,
    ids: &[i32],
    (day_start, day_end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<HashMap<i32, i64>, DbErr> {
    Ok(booking::Entity::find()
        .select_only()
        .column(booking::Column::SpecialistId)
        .column_as(booking::Column::Id.count(), "n")
        .filter(booking::Column::SpecialistId.is_in(ids.to_vec()))
        .filter(booking::Column::StartsAt.gte(day_start))
        .filter(booking::Column::StartsAt.lt(day_end))
        .filter(booking::Column::Status.is_in([Status::Pending.code(), Status::Confirmed.code()]))
        .group_by(booking::Column::SpecialistId)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

fn local_day_bounds(tz: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::TimeZone;
    let at = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    };
    (at(day), at(day + Duration::days(1)))
}

/// The six digits of the confirmation mail.
fn random_confirm_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn seal_key(confirm_token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("cherga-seal:{confirm_token}").as_bytes()).into()
}

/// The manage token (64 hex digits) XOR a key only the confirmation token gives.
fn seal(manage_token: &str, confirm_token: &str) -> Option<String> {
    let bytes = hex::decode(manage_token).ok()?;
    let key = seal_key(confirm_token);
    (bytes.len() == key.len()).then(|| {
        hex::encode(
            bytes
                .iter()
                .zip(key.iter())
                .map(|(a, b)| a ^ b)
                .collect::<Vec<u8>>(),
        )
    })
}

fn unseal(sealed: &str, confirm_token: &str) -> Option<String> {
    // XOR is its own inverse.
    seal(sealed, confirm_token)
}

/// What the mails of a booking say; `None` when the resident gave no email.
fn mail_view(
    rec: &BookingRecord,
    manage_token: Option<&str>,
    mail: &MailSettings,
    now: DateTime<Utc>,
) -> Option<BookingMail> {
    let to = rec.email.clone()?;
    let lang = rec.lang;
    let tz = rec.timezone;
    Some(BookingMail {
        booking_id: i64::from(rec.id),
        lang,
        to,
        name: rec.name.clone(),
        code: rec.code.clone(),
        service_title: rec.service_title.get(lang).to_string(),
        office_name: rec.office_name.get(lang).to_string(),
        office_address: rec.office_address.get(lang).to_string(),
        window: Some(rec.window_label.clone()).filter(|w| !w.is_empty()),
        specialist: Some(rec.specialist_name.clone()).filter(|n| !n.is_empty()),
        start: rec.starts_at.with_timezone(&tz),
        end: rec.ends_at.with_timezone(&tz),
        manage_url: manage_token.map(|t| mail.manage_url(t)),
        site_url: mail.public_url.clone(),
        confirm_url: None,
        confirm_code: None,
        changed_at: now,
        organizer_email: mail.organizer_email.clone(),
    })
}

/// The booking counts: the mail with the calendar invite and the reminder, inside the
/// caller's transaction.
async fn enqueue_booked(
    txn: &impl ConnectionTrait,
    rec: &BookingRecord,
    manage_token: &str,
    mail: &MailSettings,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if let Some(m) = mail_view(rec, Some(manage_token), mail, now) {
        crate::mail::enqueue(txn, booking_mail::booked(&m)).await?;
        if let Some(r) = booking_mail::reminder(&m, mail.reminder_hours, now) {
            crate::mail::enqueue(txn, r).await?;
        }
    }
    Ok(())
}

/// Withdraws what a cancelled booking must no longer send: its reminder and an unsent
/// confirmation request.
async fn withdraw_pending_mail(
    txn: &impl ConnectionTrait,
    row: &booking::Model,
) -> Result<(), DbErr> {
    let id = i64::from(row.id);
    let tz: Tz = find_office(txn, row.office_id)
        .await?
        .map(|o| o.timezone)
        .unwrap_or(chrono_tz::Europe::Kyiv);
    crate::mail::withdraw(
        txn,
        &booking_mail::reminder_key(id, &row.starts_at.with_timezone(&tz)),
    )
    .await?;
    crate::mail::withdraw(txn, &format!("booking:{id}:confirm")).await?;
    Ok(())
}

/// Locks the person's rows (one per phone, email and account number) for the rest of the
/// transaction, creating them on first use.
///
/// why: the caps are counted with a read before the insert; on PostgreSQL two transactions
/// of one person would both count before either commits and both pass. A row lock per
/// person key makes the second wait until the first commits, and its count (a fresh snapshot
/// under READ COMMITTED) then sees the first booking. A unique "claim per person and service"
/// would cover one-per-service only, not the N-active cap, and a person is several keys (a
/// phone and an email), so the lock is per key, taken in sorted order so two bookings never
/// wait on each other in a cycle. SQLite's write transaction already serializes bookings; the
/// same statements run there and cost little.
async fn lock_person(
    txn: &impl ConnectionTrait,
    contact: &Contact,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut keys: Vec<String> = [
        contact.phone_norm.as_ref().map(|p| format!("phone:{p}")),
        contact.email_norm.as_ref().map(|e| format!("email:{e}")),
        contact.account.as_ref().map(|a| format!("account:{a}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    keys.sort();
    if keys.is_empty() {
        return Ok(());
    }
    // why: one upsert for all keys: `DO UPDATE` locks each row, new or not, in the sorted order
    // of the rows, in one round trip instead of an insert and an update per key.
    booking_person::Entity::insert_many(keys.into_iter().map(|key| booking_person::ActiveModel {
        person_key: Set(key),
        touched_at: Set(now),
    }))
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(booking_person::Column::PersonKey)
            .update_column(booking_person::Column::TouchedAt)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

fn random_code() -> String {
    use rand::Rng;
    let bytes: [u8; 6] = rand::rng().random();
    crate::domain::booking::request::booking_code(bytes)
}

/// What the reads before the write found: the time is on the schedule, and these specialists
/// were free at it, in the order "any specialist" tries them.
#[derive(Clone)]
struct Planned {
    office: BookingOfficeRecord,
    service: ServiceRecord,
    ids: Vec<i32>,
    day: NaiveDate,
    length: u32,
    end: DateTime<Utc>,
    /// The booking's local day, in UTC: the span whose load "any specialist" spreads.
    day_bounds: (DateTime<Utc>, DateTime<Utc>),
    /// Free at the time by the schedule (not yet by the claims), by id; the writer orders
    /// them by load under its lock.
    candidates: Vec<specialist::Model>,
}

/// What a booking can decide from memory: office, service, channel, the day's plans, and the
/// specialists whose schedule is free at the time. No database read: which of them is still
/// free is for the write to decide, from the claims, in its transaction.
fn plan_booking(
    setup: &BookingSetup,
    catalog: &super::catalog::CatalogSnapshot,
    new: &NewBooking,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Planned, BookError> {
    let here = setup.office(new.office_id)?;
    let office = here.office.clone();
    let service = catalog_service(catalog, &new.service_code)?;
    if !service.has_channel(office.kind.channel()) {
        return Err(channel_refused(&office, &service).into());
    }
    let length = service.planned_minutes(u32::from(office.slot_minutes), policy.open_ended_factor);
    let specialists = here.skilled(service.id, new.specialist_id)?;
    let ids: Vec<i32> = specialists.iter().map(|s| s.id).collect();
    let day = new.start.with_timezone(&office.timezone).date_naive();
    let end = new.start + Duration::minutes(i64::from(length));
    let plan = &here.plan;
    let mut specs: Vec<SpecialistPlan> = here.plans(&ids).into_values().collect();
    specs.sort_by_key(|s| s.id);
    let r = rules(policy, now);
    let free: Vec<i32> = free_slots(plan, &specs, &r, day, day, length)
        .into_iter()
        .find(|s| s.start == new.start)
        .map(|s| s.specialists)
        .unwrap_or_default();
    if free.is_empty() {
        return Err(AppError::Invalid {
            message: Text::new(
                "Цей час не можна забронювати: оберіть один із вільних.",
                "This time cannot be booked: choose one of the free times.",
            ),
            fields: vec![crate::domain::validation::FieldError::bilingual(
                "start",
                "Не збігається з розкладом або правилами запису.",
                "Does not match the schedule or the booking rules.",
            )],
        }
        .into());
    }
    let day_bounds = local_day_bounds(office.timezone, day);
    let mut by_id: HashMap<i32, specialist::Model> =
        specialists.into_iter().map(|s| (s.id, s)).collect();
    let candidates = free
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect();
    Ok(Planned {
        end,
        day_bounds,
        office,
        service,
        ids,
        day,
        length,
        candidates,
    })
}

/// Specialists among `candidates` none of whose minutes in `[start, end)` is claimed now.
async fn unclaimed(
    txn: &impl ConnectionTrait,
    candidates: &[specialist::Model],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<specialist::Model>, DbErr> {
    let ids: Vec<i32> = candidates.iter().map(|s| s.id).collect();
    let range = (minute_of(start), minute_of(end));
    let claimed = claimed_in(txn, &[(range, ids)]).await?;
    Ok(candidates
        .iter()
        .filter(|s| !claimed[0].contains(&s.id))
        .cloned()
        .collect())
}

/// For each (minute range, specialists): those of the specialists holding a claim on any
/// minute of the range. One statement for all ranges, one row per claimed specialist and
/// range (not per minute).
async fn claimed_in(
    db: &impl ConnectionTrait,
    ranges: &[((i64, i64), Vec<i32>)],
) -> Result<Vec<BTreeSet<i32>>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, UnionType};
    let mut out = vec![BTreeSet::new(); ranges.len()];
    let mut query: Option<SelectStatement> = None;
    for (i, ((from, to), ids)) in ranges.iter().enumerate() {
        if ids.is_empty() {
            continue;
        }
        let part = Query::select()
            // why: a literal, not a bound value: PostgreSQL cannot type a parameter that is
            // only selected.
            .expr_as(Expr::cust(i.to_string()), Alias::new("r"))
            .column(booking_claim::Column::SpecialistId)
            .from(booking_claim::Entity)
            .and_where(booking_claim::Column::SpecialistId.is_in(ids.clone()))
            .and_where(booking_claim::Column::Minute.gte(*from))
            .and_where(booking_claim::Column::Minute.lt(*to))
            .group_by_col(booking_claim::Column::SpecialistId)
            .to_owned();
        query = Some(match query {
            None => part,
            Some(mut q) => {
                q.union(UnionType::All, part);
                q
            }
        });
    }
    let Some(query) = query else {
        return Ok(out);
    };
    for row in db.query_all(&query).await? {
        let r: i32 = row.try_get_by_index(0)?;
        let specialist: i32 = row.try_get_by_index(1)?;
        if let Some(set) = usize::try_from(r).ok().and_then(|r| out.get_mut(r)) {
            set.insert(specialist);
        }
    }
    Ok(out)
}

/// Claims every minute of `[start, end)` of one specialist for `booking_id` without a
/// savepoint: `Ok(false)` when another booking holds any of them (what was claimed is taken
/// back).
async fn claim_minutes(
    txn: &impl ConnectionTrait,
    specialist_id: i32,
    booking_id: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let rows: Vec<booking_claim::ActiveModel> =
        claim_rows(specialist_id, booking_id, start, end).collect();
    let wanted = rows.len() as u64;
    if insert_claims(txn, rows).await? == wanted {
        return Ok(true);
    }
    booking_claim::Entity::delete_many()
        .filter(booking_claim::Column::BookingId.eq(booking_id))
        .exec(txn)
        .await?;
    Ok(false)
}

/// The claim rows of every minute of `[start, end)` of one specialist for one booking.
fn claim_rows(
    specialist_id: i32,
    booking_id: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> impl Iterator<Item = booking_claim::ActiveModel> {
    (minute_of(start)..minute_of(end)).map(move |minute| booking_claim::ActiveModel {
        specialist_id: Set(specialist_id),
        minute: Set(minute),
        booking_id: Set(booking_id),
    })
}

/// Inserts claims, skipping minutes already claimed; returns how many went in.
///
/// why: ON CONFLICT DO NOTHING instead of a savepoint around a failing INSERT: two round
/// trips fewer on the hot path. On PostgreSQL it still waits for a concurrent uncommitted
/// claim of the same minute and then skips it, so the caller's count decides every race.
async fn insert_claims(
    txn: &impl ConnectionTrait,
    rows: Vec<booking_claim::ActiveModel>,
) -> Result<u64, DbErr> {
    Ok(
        match booking_claim::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([
                booking_claim::Column::SpecialistId,
                booking_claim::Column::Minute,
            ])
            .exec_without_returning(txn)
            .await?
        {
            TryInsertResult::Inserted(n) => n,
            TryInsertResult::Conflicted | TryInsertResult::Empty => 0,
        },
    )
}

/// The booking record from what the booking already read, without reading it back.
fn booked_record(p: &Planned, spec: &specialist::Model, row: booking::Model) -> BookingRecord {
    BookingRecord {
        id: row.id,
        code: row.code,
        office_id: row.office_id,
        office_name: p.office.name.clone(),
        office_address: p.office.address.clone(),
        timezone: p.office.timezone,
        service_code: p.service.code.clone(),
        service_title: p.service.title.clone(),
        specialist_id: spec.id,
        specialist_name: spec.name.clone(),
        window_label: spec.window_label.clone(),
        channel: row.channel,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        status: Status::from_code(&row.status).unwrap_or(Status::Cancelled),
        name: row.name,
        phone: row.phone,
        email: row.email,
        account: row.account,
        lang: Lang::parse(&row.lang).unwrap_or_default(),
        hold_expires_at: row.hold_expires_at,
    }
}

/// The secrets a new booking is made with: the manage token, and while it awaits email
/// confirmation the confirmation token and code.
struct Secrets {
    manage_token: String,
    /// What the row keeps of the manage token (and the batched writer finds its row by).
    manage_hash: String,
    confirm: Option<(String, String)>,
}

impl Secrets {
    fn draw(new: &NewBooking, policy: &Policy) -> Secrets {
        let pending = policy.email_confirmation && new.contact.email_norm.is_some();
        let manage_token = crate::security::random_token();
        Secrets {
            manage_hash: crate::security::token_hash(&manage_token),
            manage_token,
            confirm: pending.then(|| (crate::security::random_token(), random_confirm_code())),
        }
    }
}

/// The row of a new booking of `specialist_id` (its code drawn here).
fn new_row(
    p: &Planned,
    new: &NewBooking,
    specialist_id: i32,
    secrets: &Secrets,
    policy: &Policy,
    now: DateTime<Utc>,
) -> booking::ActiveModel {
    let c = &new.contact;
    let confirm = secrets.confirm.as_ref();
    booking::ActiveModel {
        code: Set(random_code()),
        office_id: Set(p.office.id),
        service_id: Set(p.service.id),
        specialist_id: Set(specialist_id),
        channel: Set(p.office.kind.channel().code().into()),
        starts_at: Set(new.start),
        ends_at: Set(p.end),
        status: Set(if confirm.is_some() {
            Status::Pending
        } else {
            Status::Confirmed
        }
        .code()
        .into()),
        name: Set(c.name.clone()),
        phone: Set(c.phone.clone()),
        email: Set(c.email.clone()),
        account: Set(c.account.clone()),
        phone_norm: Set(c.phone_norm.clone()),
        email_norm: Set(c.email_norm.clone()),
        lang: Set(c.lang.code().into()),
        manage_token_hash: Set(secrets.manage_hash.clone()),
        confirm_token_hash: Set(confirm.map(|(t, _)| crate::security::token_hash(t))),
        confirm_code_hash: Set(confirm.map(|(_, code)| crate::security::token_hash(code))),
        confirm_failures: Set(0),
        manage_token_sealed: Set(confirm.and_then(|(t, _)| seal(&secrets.manage_token, t))),
        hold_expires_at: Set(confirm.map(|_| now + Duration::minutes(policy.hold_minutes))),
        release_at: Set(None),
        locked_until: Set(None),
        client_ip: Set(new.client_ip.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Inserts a new booking's row; the code is unique per office, so on the rare collision it is
/// drawn again.
async fn insert_row(
    txn: &impl ConnectionTrait,
    mut row: booking::ActiveModel,
) -> Result<booking::Model, BookError> {
    for _ in 0..5 {
        match booking::Entity::insert(row.clone())
            .on_conflict_do_nothing_on([booking::Column::OfficeId, booking::Column::Code])
            .exec_with_returning(txn)
            .await?
        {
            TryInsertResult::Inserted(m) => return Ok(m),
            TryInsertResult::Conflicted | TryInsertResult::Empty => {
                row.code = Set(random_code());
            }
        }
    }
    Err(AppError::internal("no free booking code after 5 draws").into())
}

/// The mail of a new booking, in its transaction: the confirmation request while it is
/// pending, else the invite and the reminder.
async fn enqueue_new(
    txn: &impl ConnectionTrait,
    record: &BookingRecord,
    secrets: &Secrets,
    mail: &MailSettings,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    match &secrets.confirm {
        Some((token, code)) => {
            if let Some(mut m) = mail_view(record, Some(&secrets.manage_token), mail, now) {
                m.confirm_url = Some(mail.confirm_url(token));
                m.confirm_code = Some(code.clone());
                crate::mail::enqueue(txn, booking_mail::confirmation(&m)).await?;
            }
            Ok(())
        }
        None => enqueue_booked(txn, record, &secrets.manage_token, mail, now).await,
    }
}

fn booked(record: BookingRecord, secrets: Secrets) -> BookedRecord {
    BookedRecord {
        booking: record,
        manage_token: secrets.manage_token,
        confirm_token: secrets.confirm.map(|(t, _)| t),
    }
}

/// The writes of one booking, in the caller's write transaction: the person's caps, then the
/// free candidates by load, the first whose minutes can still be claimed. `Ok(None)` when
/// every candidate's time was taken meanwhile. PostgreSQL's path, and SQLite's when a batch
/// (`batch::write_batch`) met an error.
async fn write_booking(
    txn: &impl ConnectionTrait,
    p: &Planned,
    new: &NewBooking,
    policy: &Policy,
    mail: &MailSettings,
    now: DateTime<Utc>,
) -> Result<Option<BookedRecord>, BookError> {
    if txn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        // SQLite's write transaction already serializes bookings.
        lock_person(txn, &new.contact, now).await?;
    }
    person_check(txn, &new.contact, p.service.id, policy, now).await?;
    let mut free = unclaimed(txn, &p.candidates, new.start, p.end).await?;
    if free.is_empty() && !p.candidates.is_empty() {
        // The claims may belong to holds that ran out or cancellations past their delay,
        // which the worker has not freed yet.
        release_due(txn, &p.ids, now).await?;
        free = unclaimed(txn, &p.candidates, new.start, p.end).await?;
    }
    if free.len() > 1 {
        let mut ids: Vec<i32> = free.iter().map(|s| s.id).collect();
        let load = day_load(txn, &ids, p.day_bounds).await?;
        fair::least_loaded_first(&mut ids, &load);
        let mut by_id: HashMap<i32, specialist::Model> =
            free.into_iter().map(|s| (s.id, s)).collect();
        free = ids.into_iter().filter_map(|id| by_id.remove(&id)).collect();
    }
    let secrets = Secrets::draw(new, policy);
    for spec in free {
        let row = insert_row(txn, new_row(p, new, spec.id, &secrets, policy, now)).await?;
        if !claim_minutes(txn, spec.id, row.id, new.start, p.end).await? {
            booking::Entity::delete_by_id(row.id).exec(txn).await?;
            continue;
        }
        let record = booked_record(p, &spec, row);
        enqueue_new(txn, &record, &secrets, mail, now).await?;
        return Ok(Some(booked(record, secrets)));
    }
    Ok(None)
}

/// Books a time: checks the channel, the time against the schedule, the fair-access rules,
/// then claims the specialist's minutes. The claim's primary key decides every race; a lost
/// race answers `Taken` with the next free starts.
///
/// why: the reads (office, service, plans, candidates) come before the write transaction and
/// only the caps, the claim and the insert run inside it. On SQLite the write transaction
/// holds the database's one write lock, so everything inside it is serialized across all
/// bookings; the reads run beside it on the pool's other connections, and the write goes
/// through `writer`, one connection that queues this instance's bookings fairly instead of
/// leaving them to SQLite's sleeping busy handler. On PostgreSQL there is no such lock and
/// the whole booking is one transaction on the main pool. Whatever the reads saw, the claim
/// inside the write transaction is what decides: a time taken meanwhile answers `Taken`.
pub async fn book_slot(
    db: &DatabaseConnection,
    writer: &super::Writer,
    caches: &super::cache::Caches,
    new: NewBooking,
    policy: &Policy,
    mail: &MailSettings,
) -> Result<BookedRecord, BookError> {
    let now = super::now();
    // why: `get`, not a version read per booking: a copy is checked once a second, and at
    // once after an edit made by this process; another instance's edit shows within a second,
    // and a booking made on a plan a second old is still decided by the claims.
    let setup = caches.booking.get(db, load_setup).await?;
    let catalog = super::catalog::snapshot(caches, db).await?;
    let planned = plan_booking(&setup, &catalog, &new, policy, now)?;
    let planned = if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let conn = writer.get(db).await?.clone();
        let planned = Arc::new(planned);
        let job = batch::BookingJob {
            planned: planned.clone(),
            new: new.clone(),
            policy: *policy,
            mail: mail.clone(),
            now,
        };
        if let Some(booked) = batch::write_in_batch(writer, conn, job).await? {
            return Ok(booked);
        }
        Arc::unwrap_or_clone(planned)
    } else {
        let txn = db.begin().await?;
        if let Some(booked) = write_booking(&txn, &planned, &new, policy, mail, now).await? {
            txn.commit().await?;
            return Ok(booked);
        }
        txn.rollback().await?;
        planned
    };
    let next = next_free(
        db,
        &planned.office,
        &planned.ids,
        planned.day,
        planned.length,
        policy,
    )
    .await?;
    Err(BookError::Taken { next })
}

async fn load_record(db: &impl ConnectionTrait, m: booking::Model) -> Result<BookingRecord, DbErr> {
    let mut v = load_records(db, vec![m]).await?;
    v.pop()
        .ok_or_else(|| DbErr::RecordNotFound("booking".into()))
}

async fn load_records(
    db: &impl ConnectionTrait,
    rows: Vec<booking::Model>,
) -> Result<Vec<BookingRecord>, DbErr> {
    let office_ids: Vec<i32> = rows.iter().map(|b| b.office_id).collect();
    let service_ids: Vec<i32> = rows.iter().map(|b| b.service_id).collect();
    let spec_ids: Vec<i32> = rows.iter().map(|b| b.specialist_id).collect();
    let offices: HashMap<i32, office::Model> = office::Entity::find()
        .filter(office::Column::Id.is_in(office_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let services: HashMap<i32, service::Model> = service::Entity::find()
        .filter(service::Column::Id.is_in(service_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let specs: HashMap<i32, specialist::Model> = specialist::Entity::find()
        .filter(specialist::Column::Id.is_in(spec_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(rows
        .into_iter()
        .map(|b| {
            let o = offices.get(&b.office_id);
            let s = services.get(&b.service_id);
            let p = specs.get(&b.specialist_id);
            BookingRecord {
                id: b.id,
                code: b.code,
                office_id: b.office_id,
                office_name: o
                    .map(|o| Text::new(o.name.clone(), o.name_en.clone()))
                    .unwrap_or_else(|| Text::new("", "")),
                office_address: o
                    .map(|o| Text::new(o.address.clone(), o.address_en.clone()))
                    .unwrap_or_else(|| Text::new("", "")),
                timezone: o
                    .and_then(|o| o.timezone.parse().ok())
                    .unwrap_or(chrono_tz::Europe::Kyiv),
                service_code: s.map(|s| s.code.clone()).unwrap_or_default(),
                service_title: s
                    .map(|s| Text::new(s.title.clone(), s.title_en.clone()))
                    .unwrap_or_else(|| Text::new("", "")),
                specialist_id: b.specialist_id,
                specialist_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                window_label: p.map(|p| p.window_label.clone()).unwrap_or_default(),
                channel: b.channel,
                starts_at: b.starts_at,
                ends_at: b.ends_at,
                status: Status::from_code(&b.status).unwrap_or(Status::Cancelled),
                name: b.name,
                phone: b.phone,
                email: b.email,
                account: b.account,
                lang: Lang::parse(&b.lang).unwrap_or_default(),
                hold_expires_at: b.hold_expires_at,
            }
        })
        .collect())
}

/// Who changes a booking: the resident through their manage link, or staff by the booking's
/// id (from the day's list). Staff never see the manage token, so their changes' mails carry
/// no manage link; the resident's link keeps working.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Resident(&'a str),
    Staff(i32),
}

impl Actor<'_> {
    fn manage_token(&self) -> Option<&str> {
        match self {
            Actor::Resident(token) => Some(token.trim()),
            Actor::Staff(_) => None,
        }
    }

    fn query(&self) -> sea_orm::Select<booking::Entity> {
        match self {
            Actor::Resident(token) => booking::Entity::find().filter(
                booking::Column::ManageTokenHash.eq(crate::security::token_hash(token.trim())),
            ),
            Actor::Staff(id) => booking::Entity::find_by_id(*id),
        }
    }

    async fn find(&self, db: &impl ConnectionTrait) -> Result<booking::Model, AppError> {
        self.query().one(db).await?.ok_or_else(unknown_booking)
    }
}

/// The booking the resident's link or staff's id names.
pub async fn find_record(
    db: &impl ConnectionTrait,
    who: Actor<'_>,
) -> Result<Option<BookingRecord>, DbErr> {
    match who.query().one(db).await? {
        Some(m) => Ok(Some(load_record(db, m).await?)),
        None => Ok(None),
    }
}

/// The booking behind a manage link.
pub async fn find_by_token(
    db: &impl ConnectionTrait,
    manage_token: &str,
) -> Result<Option<BookingRecord>, DbErr> {
    find_record(db, Actor::Resident(manage_token)).await
}

fn unknown_booking() -> AppError {
    AppError::NotFound(Text::new(
        "Запис не знайдено: перевірте посилання.",
        "Booking not found: check the link.",
    ))
}

fn not_active(status: Status) -> AppError {
    AppError::Conflict(Text::new(
        format!("Запис уже не активний ({}).", status.label().uk),
        format!("The booking is no longer active ({}).", status.label().en),
    ))
}

/// Confirms a pending booking with the token from its email. Confirming twice is fine.
pub async fn confirm(
    db: &DatabaseConnection,
    confirm_token: &str,
    mail: &MailSettings,
) -> Result<BookingRecord, AppError> {
    let txn = begin_write(db).await?;
    let now = super::now();
    let confirm_token = confirm_token.trim();
    let hash = crate::security::token_hash(confirm_token);
    let row = booking::Entity::find()
        .filter(booking::Column::ConfirmTokenHash.eq(hash))
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let manage_token = row
        .manage_token_sealed
        .as_deref()
        .and_then(|sealed| unseal(sealed, confirm_token));
    confirm_row(txn, row, manage_token, mail, now).await
}

/// Wrong confirmation codes accepted per booking; past them only the link confirms.
pub const MAX_CODE_FAILURES: i32 = 5;

/// Confirms a pending booking with the short code from its email, typed on the manage page
/// (or sent to the API) with the manage token. Wrong codes are counted: after
/// [`MAX_CODE_FAILURES`] the code no longer works, so the hold's ten minutes are far too few to
/// guess it.
pub async fn confirm_by_code(
    db: &DatabaseConnection,
    manage_token: &str,
    code: &str,
    mail: &MailSettings,
) -> Result<BookingRecord, AppError> {
    let txn = begin_write(db).await?;
    let now = super::now();
    let manage_token = manage_token.trim();
    let row = booking::Entity::find()
        .filter(booking::Column::ManageTokenHash.eq(crate::security::token_hash(manage_token)))
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let status = Status::from_code(&row.status).unwrap_or(Status::Cancelled);
    if status == Status::Pending {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let wrong = |fields_uk: &str, fields_en: &str| AppError::Invalid {
            message: Text::new(
                "Код підтвердження не підходить.",
                "The confirmation code does not match.",
            ),
            fields: vec![crate::domain::validation::FieldError::bilingual(
                "code",
                fields_uk.to_string(),
                fields_en.to_string(),
            )],
        };
        if row.confirm_failures >= MAX_CODE_FAILURES {
            return Err(wrong(
                "Забагато невдалих спроб: підтвердьте запис за посиланням з листа.",
                "Too many wrong tries: confirm through the link in the email.",
            ));
        }
        let matches = row.confirm_code_hash.as_deref().is_some_and(|h| {
            crate::security::constant_time_eq(h, &crate::security::token_hash(&code))
        });
        if !matches {
            booking::Entity::update_many()
                .col_expr(
                    booking::Column::ConfirmFailures,
                    sea_orm::sea_query::ExprTrait::add(
                        sea_orm::sea_query::Expr::col(booking::Column::ConfirmFailures),
                        1,
                    ),
                )
                .filter(booking::Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Err(wrong(
                "Перевірте код з листа (6 цифр).",
                "Check the code in the email (6 digits).",
            ));
        }
    }
    confirm_row(txn, row, Some(manage_token.to_string()), mail, now).await
}

async fn confirm_row(
    txn: sea_orm::DatabaseTransaction,
    row: booking::Model,
    manage_token: Option<String>,
    mail: &MailSettings,
    now: DateTime<Utc>,
) -> Result<BookingRecord, AppError> {
    let status = Status::from_code(&row.status).unwrap_or(Status::Cancelled);
    let mut newly = false;
    match status {
        Status::Confirmed => {}
        Status::Pending if row.hold_expires_at.is_some_and(|t| t > now) => {
            let changed = booking::Entity::update_many()
                .col_expr(booking::Column::Status, Status::Confirmed.code().into())
                .col_expr(
                    booking::Column::HoldExpiresAt,
                    sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    booking::Column::UpdatedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(booking::Column::Id.eq(row.id))
                .filter(booking::Column::Status.eq(Status::Pending.code()))
                .exec(&txn)
                .await?
                .rows_affected;
            if changed != 1 {
                return Err(not_active(Status::Expired));
            }
            newly = true;
        }
        Status::Pending => return Err(not_active(Status::Expired)),
        other => return Err(not_active(other)),
    }
    let fresh = booking::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let rec = load_record(&txn, fresh).await?;
    if newly && let Some(token) = &manage_token {
        enqueue_booked(&txn, &rec, token, mail, now).await?;
    }
    txn.commit().await?;
    Ok(rec)
}

/// Cancels through the manage link. The time returns to availability after the configured
/// delay (so a bot cannot cancel and re-grab a slot in one breath).
pub async fn cancel(
    db: &DatabaseConnection,
    who: Actor<'_>,
    policy: &Policy,
    mail: &MailSettings,
) -> Result<BookingRecord, AppError> {
    let txn = begin_write(db).await?;
    let now = super::now();
    let row = who.find(&txn).await?;
    let status = Status::from_code(&row.status).unwrap_or(Status::Cancelled);
    if !status.is_active() {
        return Err(not_active(status));
    }
    let release = now + Duration::minutes(policy.release_delay_minutes.max(0));
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Status::Cancelled.code().into())
        .col_expr(
            booking::Column::ReleaseAt,
            sea_orm::sea_query::Expr::value(Some(release)),
        )
        .col_expr(
            booking::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(booking::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    if policy.release_delay_minutes <= 0 {
        booking_claim::Entity::delete_many()
            .filter(booking_claim::Column::BookingId.eq(row.id))
            .exec(&txn)
            .await?;
    }
    let fresh = booking::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let rec = load_record(&txn, fresh).await?;
    withdraw_pending_mail(&txn, &row).await?;
    // why: only a confirmed booking's address is known to be the resident's; a pending one's
    // may be anyone's, and it has no calendar event to remove.
    if status == Status::Confirmed
        && let Some(m) = mail_view(&rec, who.manage_token(), mail, now)
    {
        crate::mail::enqueue(&txn, booking_mail::cancelled(&m)).await?;
    }
    txn.commit().await?;
    Ok(rec)
}

/// Moves a booking to another start with the same specialist or, when they are not free, any
/// specialist of the office with the skill. The old time is freed in the same transaction.
pub async fn reschedule(
    db: &DatabaseConnection,
    who: Actor<'_>,
    start: DateTime<Utc>,
    policy: &Policy,
    mail: &MailSettings,
) -> Result<BookingRecord, BookError> {
    let txn = begin_write(db).await?;
    let now = super::now();
    let row = who.find(&txn).await?;
    let status = Status::from_code(&row.status).unwrap_or(Status::Cancelled);
    if !status.is_active()
        || (status == Status::Pending && row.hold_expires_at.is_none_or(|t| t <= now))
    {
        return Err(not_active(status).into());
    }
    let office = find_office(&txn, row.office_id)
        .await?
        .ok_or_else(unknown_office)?;
    let service = service::Entity::find_by_id(row.service_id)
        .one(&txn)
        .await?
        .ok_or_else(|| unknown_service(""))?;
    let service = active_service(&txn, &service.code).await?;
    let length = service.planned_minutes(u32::from(office.slot_minutes), policy.open_ended_factor);
    let ids = skilled(&txn, office.id, service.id, None).await?;
    booking_claim::Entity::delete_many()
        .filter(booking_claim::Column::BookingId.eq(row.id))
        .exec(&txn)
        .await?;
    release_due(&txn, &ids, now).await?;
    let day = start.with_timezone(&office.timezone).date_naive();
    // This booking's own time no longer counts as busy.
    let (plan, mut specs) = load_plans(&txn, &office, &ids, day, day, now).await?;
    for s in &mut specs {
        if s.id == row.specialist_id {
            let own = (minute_of(row.starts_at), minute_of(row.ends_at));
            s.busy.retain(|b| *b != own);
        }
    }
    let r = rules(policy, now);
    let mut free = free_slots(&plan, &specs, &r, day, day, length)
        .into_iter()
        .find(|s| s.start == start)
        .map(|s| s.specialists)
        .unwrap_or_default();
    if free.is_empty() {
        let next = next_free(&txn, &office, &ids, day, length, policy).await?;
        txn.rollback().await?;
        return Err(BookError::Taken { next });
    }
    // Keep the same specialist when possible.
    free.sort_by_key(|id| (*id != row.specialist_id, *id));
    let end = start + Duration::minutes(i64::from(length));
    for spec_id in free {
        if claim_minutes(&txn, spec_id, row.id, start, end).await? {
            booking::Entity::update_many()
                .col_expr(booking::Column::SpecialistId, spec_id.into())
                .col_expr(
                    booking::Column::StartsAt,
                    sea_orm::sea_query::Expr::value(start),
                )
                .col_expr(
                    booking::Column::EndsAt,
                    sea_orm::sea_query::Expr::value(end),
                )
                .col_expr(
                    booking::Column::UpdatedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(booking::Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            let fresh = booking::Entity::find_by_id(row.id)
                .one(&txn)
                .await?
                .ok_or_else(unknown_booking)?;
            let rec = load_record(&txn, fresh).await?;
            if status == Status::Confirmed
                && let Some(m) = mail_view(&rec, who.manage_token(), mail, now)
            {
                crate::mail::withdraw(
                    &txn,
                    &booking_mail::reminder_key(
                        i64::from(row.id),
                        &row.starts_at.with_timezone(&rec.timezone),
                    ),
                )
                .await?;
                let old = row.starts_at.with_timezone(&rec.timezone);
                crate::mail::enqueue(&txn, booking_mail::rescheduled(&m, &old)).await?;
                if let Some(r) = booking_mail::reminder(&m, mail.reminder_hours, now) {
                    crate::mail::enqueue(&txn, r).await?;
                }
            }
            txn.commit().await?;
            return Ok(rec);
        }
    }
    let next = next_free(&txn, &office, &ids, day, length, policy).await?;
    txn.rollback().await?;
    Err(BookError::Taken { next })
}

/// The bookings of an office on a local day, by start then specialist (staff view).
pub async fn list_office_day(
    db: &impl ConnectionTrait,
    office_id: i32,
    day: NaiveDate,
) -> Result<Vec<BookingRecord>, AppError> {
    let office = find_office(db, office_id)
        .await?
        .ok_or_else(unknown_office)?;
    let (from, to) = local_day_bounds(office.timezone, day);
    let rows = booking::Entity::find()
        .filter(booking::Column::OfficeId.eq(office_id))
        .filter(booking::Column::StartsAt.gte(from))
        .filter(booking::Column::StartsAt.lt(to))
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::SpecialistId)
        .all(db)
        .await?;
    Ok(load_records(db, rows).await?)
}

/// Staff mark a resident who did not come. Their minutes stay claimed (the time has passed).
pub async fn mark_no_show(
    db: &DatabaseConnection,
    office_id: i32,
    id: i32,
) -> Result<BookingRecord, AppError> {
    let txn = begin_write(db).await?;
    let row = booking::Entity::find_by_id(id)
        .filter(booking::Column::OfficeId.eq(office_id))
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let status = Status::from_code(&row.status).unwrap_or(Status::Cancelled);
    if status != Status::Confirmed {
        return Err(not_active(status));
    }
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Status::NoShow.code().into())
        .col_expr(
            booking::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(super::now()),
        )
        .filter(booking::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let fresh = booking::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(unknown_booking)?;
    let rec = load_record(&txn, fresh).await?;
    txn.commit().await?;
    Ok(rec)
}

pub const DEMO_CONTACT_CENTER_CODE: &str = "kontakt-tsentr";

/// Booking demo data, inside the demo's transaction: walk-in hours for the demo office's
/// specialists, and a contact center with two operators for call-backs, so booking works
/// on first start.
pub async fn load_demo(txn: &impl ConnectionTrait, slot_minutes: u32) -> Result<(), DbErr> {
    let demo = office::Entity::find()
        .filter(office::Column::Code.eq(super::demo::DEMO_OFFICE_CODE))
        .one(txn)
        .await?;
    if let Some(demo) = &demo {
        let specs = specialist::Entity::find()
            .filter(specialist::Column::OfficeId.eq(demo.id))
            .all(txn)
            .await?;
        // The last hour of Monday to Thursday is kept for walk-in tickets.
        for s in &specs {
            for weekday in 0..4 {
                walk_in_period::ActiveModel {
                    specialist_id: Set(s.id),
                    weekday: Set(weekday),
                    starts: Set("16:00".into()),
                    ends: Set("17:00".into()),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
    }
    let cc = office::ActiveModel {
        code: Set(DEMO_CONTACT_CENTER_CODE.into()),
        name: Set("Контактний центр (дзвінки у зручний час)".into()),
        name_en: Set("Contact center (call-backs at a chosen time)".into()),
        address: Set("Телефонна лінія 1551 (демонстраційна)".into()),
        address_en: Set("Phone line 1551 (demo)".into()),
        timezone: Set("Europe/Kyiv".into()),
        slot_minutes: Set(i32::try_from(slot_minutes).unwrap_or(5)),
        walk_in_share_pct: Set(0),
        kind: Set(OfficeKind::ContactCenter.code().into()),
        active: Set(true),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for weekday in 0..5 {
        office_hours::ActiveModel {
            office_id: Set(cc.id),
            weekday: Set(weekday),
            opens: Set("08:00".into()),
            closes: Set("20:00".into()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    let phone_services: Vec<i32> = service::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .filter(|s| s.channels.split(',').any(|c| c == "contact_center"))
        .map(|s| s.id)
        .collect();
    for (name, window, starts, ends) in [
        ("Оператор Ірина Ткаченко", "CC-1", "08:00", "17:00"),
        ("Оператор Богдан Савчук", "CC-2", "11:00", "20:00"),
    ] {
        let s = specialist::ActiveModel {
            office_id: Set(cc.id),
            user_id: Set(None),
            name: Set(name.into()),
            window_label: Set(window.into()),
            active: Set(true),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        for id in &phone_services {
            specialist_skill::ActiveModel {
                specialist_id: Set(s.id),
                service_id: Set(*id),
            }
            .insert(txn)
            .await?;
        }
        for weekday in 0..5 {
            work_schedule::ActiveModel {
                specialist_id: Set(s.id),
                weekday: Set(weekday),
                starts: Set(starts.into()),
                ends: Set(ends.into()),
                break_starts: Set(Some("13:00".into())),
                break_ends: Set(Some("13:30".into())),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
