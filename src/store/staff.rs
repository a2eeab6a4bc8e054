//! Staff accounts and their sessions (browser cookies and API bearer tokens).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionTrait,
};

use super::entities::{login_throttle, specialist, staff_session, staff_user};
use crate::domain::lang::Text;
use crate::domain::staff::Role;
use crate::domain::staff::account::{AccountChange, NewAccount};
use crate::domain::staff::throttle::{self, Policy};
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::security::{self, HashError, HashPool};

#[derive(Debug, Clone, PartialEq)]
pub struct StaffUser {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: StaffUser,
    pub kind: SessionKind,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Cookie,
    Bearer,
}

impl SessionKind {
    fn code(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

fn to_user(m: staff_user::Model) -> Option<StaffUser> {
    Some(StaffUser {
        id: m.id,
        role: Role::parse(&m.role)?,
        username: m.username,
        display_name: m.display_name,
    })
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    staff_user::Entity::find().count(db).await
}

pub async fn create_user(
    db: &impl ConnectionTrait,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> Result<StaffUser, DbErr> {
    let hash = security::hash_password(password).map_err(DbErr::Custom)?;
    let m = staff_user::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(hash),
        role: Set(role.code().to_string()),
        display_name: Set(display_name.to_string()),
        active: Set(true),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    to_user(m).ok_or_else(|| DbErr::Custom("stored role does not parse".into()))
}

/// The user, when the username exists, is active and the password matches. No throttling:
/// requests go through `sign_in`; this is for the command line and tests.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    username: &str,
    password: &str,
) -> Result<Option<StaffUser>, DbErr> {
    let user = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.trim().to_lowercase()))
        .one(db)
        .await?;
    let ok = security::HashPool::global()
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(user.filter(|u| ok && u.active).and_then(to_user))
}

/// Starts a session and returns its token; only the token's hash is stored. Expired sessions
/// are swept here, so the table stays as small as the number of people signed in.
pub async fn start_session(
    db: &impl ConnectionTrait,
    user_id: i32,
    kind: SessionKind,
    lifetime: Duration,
) -> Result<(String, DateTime<Utc>), DbErr> {
    purge_expired_sessions(db).await?;
    let token = security::random_token();
    let now = super::now();
    let expires_at = now + lifetime;
    staff_session::ActiveModel {
        token_hash: Set(security::token_hash(&token)),
        user_id: Set(user_id),
        kind: Set(kind.code().to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok((token, expires_at))
}

pub async fn find_session(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Session>, DbErr> {
    let Some(session) = staff_session::Entity::find_by_id(security::token_hash(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        return Ok(None);
    }
    let Some(user) = staff_user::Entity::find_by_id(session.user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .and_then(to_user)
    else {
        return Ok(None);
    };
    let kind = if session.kind == "bearer" {
        SessionKind::Bearer
    } else {
        SessionKind::Cookie
    };
    Ok(Some(Session {
        user,
        kind,
        expires_at: session.expires_at,
    }))
}

pub async fn end_session(db: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    staff_session::Entity::delete_by_id(security::token_hash(token))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn purge_expired_sessions(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Ok(staff_session::Entity::delete_many()
        .filter(staff_session::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

// ---------------------------------------------------------------------------------------------
// Accounts, as the administrator manages them.

/// A staff account with what the admin pages show.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffAccountRecord {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The specialist this account signs in as (specialist accounts only).
    pub specialist: Option<SpecialistLinkRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialistLinkRecord {
    pub id: i32,
    pub name: String,
    pub window_label: String,
    /// The account linked to it, if any.
    pub user_id: Option<i32>,
}

fn to_link(s: specialist::Model) -> SpecialistLinkRecord {
    SpecialistLinkRecord {
        id: s.id,
        name: s.name,
        window_label: s.window_label,
        user_id: s.user_id,
    }
}

fn to_account(
    m: staff_user::Model,
    links: &HashMap<i32, SpecialistLinkRecord>,
) -> Option<StaffAccountRecord> {
    Some(StaffAccountRecord {
        id: m.id,
        role: Role::parse(&m.role)?,
        specialist: links.get(&m.id).cloned(),
        username: m.username,
        display_name: m.display_name,
        active: m.active,
        created_at: m.created_at,
    })
}

async fn links_by_user(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, SpecialistLinkRecord>, DbErr> {
    Ok(specialist::Entity::find()
        .filter(specialist::Column::UserId.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.user_id?, to_link(s))))
        .collect())
}

/// Every account, by username.
pub async fn list_accounts(db: &impl ConnectionTrait) -> Result<Vec<StaffAccountRecord>, DbErr> {
    let links = links_by_user(db).await?;
    Ok(staff_user::Entity::find()
        .order_by_asc(staff_user::Column::Username)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| to_account(m, &links))
        .collect())
}

pub async fn find_account(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<StaffAccountRecord>, DbErr> {
    let Some(m) = staff_user::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let links = links_by_user(db).await?;
    Ok(to_account(m, &links))
}

/// Specialists to link accounts to, by name.
pub async fn list_specialists(
    db: &impl ConnectionTrait,
) -> Result<Vec<SpecialistLinkRecord>, DbErr> {
    Ok(specialist::Entity::find()
        .order_by_asc(specialist::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(to_link)
        .collect())
}

fn busy(e: HashError) -> AppError {
    match e {
        HashError::Busy => AppError::Busy {
            retry_after_secs: 1,
        },
        HashError::Failed(m) => AppError::Internal(m),
    }
}

fn username_taken() -> AppError {
    AppError::Conflict(Text::new(
        "Таке ім'я користувача вже зайняте.",
        "This username is already taken.",
    ))
}

fn not_found_account() -> AppError {
    AppError::NotFound(Text::new(
        "Обліковий запис не знайдено.",
        "The staff account was not found.",
    ))
}

/// Creates an account (the password is hashed before the transaction, on the hash pool).
pub async fn create_account(
    db: &DatabaseConnection,
    pool: &HashPool,
    new: NewAccount,
) -> Result<StaffAccountRecord, AppError> {
    let hash = pool.hash(&new.password).await.map_err(busy)?;
    let inserted = staff_user::ActiveModel {
        username: Set(new.username),
        password_hash: Set(hash),
        role: Set(new.role.code().to_string()),
        display_name: Set(new.display_name),
        active: Set(true),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    let m = match inserted {
        Ok(m) => m,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(username_taken());
        }
        Err(e) => return Err(e.into()),
    };
    to_account(m, &HashMap::new()).ok_or_else(|| AppError::internal("stored role does not parse"))
}

async fn active_admins_besides(db: &impl ConnectionTrait, id: i32) -> Result<u64, DbErr> {
    staff_user::Entity::find()
        .filter(staff_user::Column::Role.eq(Role::Admin.code()))
        .filter(staff_user::Column::Active.eq(true))
        .filter(staff_user::Column::Id.ne(id))
        .count(db)
        .await
}

fn last_admin() -> AppError {
    AppError::Conflict(Text::new(
        "Це останній активний адміністратор: спершу створіть або увімкніть іншого.",
        "This is the last active administrator: create or enable another one first.",
    ))
}

/// Changes name, role, active state and specialist link in one transaction. Disabling ends
/// the account's sessions at once; the last active administrator cannot be demoted or disabled.
pub async fn update_account(
    db: &DatabaseConnection,
    id: i32,
    change: AccountChange,
) -> Result<StaffAccountRecord, AppError> {
    let txn = db.begin().await?;
    let m = staff_user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(not_found_account)?;
    let was_admin = m.active && m.role == Role::Admin.code();
    let role = change
        .role
        .or_else(|| Role::parse(&m.role))
        .ok_or_else(|| AppError::internal("stored role does not parse"))?;
    let active = change.active.unwrap_or(m.active);
    if was_admin && (role != Role::Admin || !active) && active_admins_besides(&txn, id).await? == 0
    {
        return Err(last_admin());
    }
    let mut am = m.into_active_model();
    if let Some(d) = change.display_name {
        am.display_name = Set(d);
    }
    am.role = Set(role.code().to_string());
    am.active = Set(active);
    am.update(&txn).await?;
    if !active {
        end_sessions_of(&txn, id, None).await?;
    }
    let link = match change.specialist_id {
        Some(link) => Some(link),
        // An account that stops being a specialist lets go of its specialist.
        None if role != Role::Specialist => Some(None),
        None => None,
    };
    if let Some(link) = link {
        if link.is_some() && role != Role::Specialist {
            return Err(AppError::invalid_fields(vec![FieldError::bilingual(
                "specialist_id",
                "Зі спеціалістом можна пов'язати лише обліковий запис з роллю specialist.",
                "Only an account with the specialist role can be linked to a specialist.",
            )]));
        }
        specialist::Entity::update_many()
            .col_expr(
                specialist::Column::UserId,
                sea_orm::sea_query::Expr::value(Option::<i32>::None),
            )
            .filter(specialist::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        if let Some(sid) = link {
            let s = specialist::Entity::find_by_id(sid)
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    AppError::invalid_fields(vec![FieldError::bilingual(
                        "specialist_id",
                        "Такого спеціаліста немає.",
                        "There is no such specialist.",
                    )])
                })?;
            if s.user_id.is_some_and(|u| u != id) {
                return Err(specialist_taken());
            }
            let mut sam = s.into_active_model();
            sam.user_id = Set(Some(id));
            match sam.update(&txn).await {
                Ok(_) => {}
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    return Err(specialist_taken());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let record = find_account(&txn, id)
        .await?
        .ok_or_else(not_found_account)?;
    txn.commit().await?;
    Ok(record)
}

fn specialist_taken() -> AppError {
    AppError::Conflict(Text::new(
        "Цей спеціаліст уже пов'язаний з іншим обліковим записом.",
        "This specialist is already linked to another account.",
    ))
}

/// Ends every session of a user, but the one whose token hash is `keep`.
async fn end_sessions_of(
    db: &impl ConnectionTrait,
    user_id: i32,
    keep: Option<&str>,
) -> Result<u64, DbErr> {
    let mut q =
        staff_session::Entity::delete_many().filter(staff_session::Column::UserId.eq(user_id));
    if let Some(k) = keep {
        q = q.filter(staff_session::Column::TokenHash.ne(k));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The administrator sets a new password: every session of the account ends, and its
/// sign-in lock (if any) is lifted.
pub async fn reset_password(
    db: &DatabaseConnection,
    pool: &HashPool,
    memo: &ThrottleMemo,
    id: i32,
    new_password: &str,
) -> Result<(), AppError> {
    let hash = pool.hash(new_password).await.map_err(busy)?;
    let txn = db.begin().await?;
    let m = staff_user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(not_found_account)?;
    let key = account_key(&m.username);
    let mut am = m.into_active_model();
    am.password_hash = Set(hash);
    am.update(&txn).await?;
    end_sessions_of(&txn, id, None).await?;
    login_throttle::Entity::delete_by_id(key.clone())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    memo.clear(&[key]);
    Ok(())
}

/// A staff member changes their own password: the current one is required; their other
/// sessions end, the one making the change stays.
pub async fn change_own_password(
    db: &DatabaseConnection,
    pool: &HashPool,
    user_id: i32,
    session_token: &str,
    current: &str,
    new_password: &str,
) -> Result<(), AppError> {
    let m = staff_user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !pool
        .verify(current, Some(&m.password_hash))
        .await
        .map_err(busy)?
    {
        return Err(AppError::invalid_fields(vec![FieldError::bilingual(
            "current_password",
            "Поточний пароль невірний.",
            "The current password is wrong.",
        )]));
    }
    let hash = pool.hash(new_password).await.map_err(busy)?;
    let txn = db.begin().await?;
    let mut am = m.into_active_model();
    am.password_hash = Set(hash);
    am.update(&txn).await?;
    end_sessions_of(&txn, user_id, Some(&security::token_hash(session_token))).await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sign-in with throttling (per account and per client address).

/// What this instance has seen locked, so that a refused flood costs no query. The table
/// stays the truth: other instances' locks are found there.
#[derive(Debug, Default)]
pub struct ThrottleMemo {
    locked: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl ThrottleMemo {
    fn locked_until(&self, keys: &[String], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let map = self.locked.lock().ok()?;
        keys.iter()
            .filter_map(|k| map.get(k).copied())
            .filter(|u| *u > now)
            .max()
    }

    fn remember(&self, key: &str, until: DateTime<Utc>, now: DateTime<Utc>) {
        if let Ok(mut map) = self.locked.lock() {
            // why: bounded: a flood from many addresses must not grow it without end.
            if map.len() > 10_000 {
                map.retain(|_, u| *u > now);
            }
            map.insert(key.to_string(), until);
        }
    }

    fn clear(&self, keys: &[String]) {
        if let Ok(mut map) = self.locked.lock() {
            for k in keys {
                map.remove(k);
            }
        }
    }
}

fn account_key(username: &str) -> String {
    format!("account:{}", username.trim().to_lowercase())
}

fn address_key(ip: IpAddr) -> String {
    // IPv6 clients are counted per /64: one host easily holds a whole one.
    match ip {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

fn refused(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = throttle::retry_after_secs(until, now);
    AppError::Throttled {
        retry_after_secs: secs,
        message: throttle::refusal_message(secs),
    }
}

/// Signs a staff member in. Refuses with `Throttled` while the account or the address is
/// locked (without checking the password), `BadCredentials` for a wrong one (counting the
/// failure), `Busy` when the hash pool is full. A success clears both counters.
pub async fn sign_in(
    db: &DatabaseConnection,
    pool: &HashPool,
    memo: &ThrottleMemo,
    username: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<StaffUser, AppError> {
    let now = super::now();
    let mut keys = vec![(account_key(username), throttle::ACCOUNT)];
    if let Some(ip) = address {
        keys.push((address_key(ip), throttle::ADDRESS));
    }
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    if let Some(until) = memo.locked_until(&names, now) {
        tokio::time::sleep(throttle::REFUSAL_DELAY).await;
        return Err(refused(until, now));
    }
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(names.clone()))
        .all(db)
        .await?;
    if let Some(row) = rows
        .iter()
        .filter(|r| r.locked_until.is_some_and(|u| u > now))
        .max_by_key(|r| r.locked_until)
    {
        let until = row.locked_until.unwrap_or(now);
        memo.remember(&row.key, until, now);
        tokio::time::sleep(throttle::REFUSAL_DELAY).await;
        return Err(refused(until, now));
    }
    let user = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.trim().to_lowercase()))
        .one(db)
        .await?;
    let ok = match pool
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await
    {
        Ok(ok) => ok,
        Err(e) => {
            // why: the same pause as a refusal, so a full pool is not answered in a tight loop.
            tokio::time::sleep(throttle::REFUSAL_DELAY).await;
            return Err(busy(e));
        }
    };
    if let Some(u) = user.filter(|u| ok && u.active) {
        if !rows.is_empty() {
            login_throttle::Entity::delete_many()
                .filter(login_throttle::Column::Key.is_in(names.clone()))
                .exec(db)
                .await?;
        }
        memo.clear(&names);
        return to_user(u).ok_or_else(|| AppError::internal("stored role does not parse"));
    }
    // why: the lock runs from the answer, not from the start: hashing may take a while.
    record_failures(db, memo, &keys, &rows, super::now()).await?;
    Err(AppError::BadCredentials)
}

async fn record_failures(
    db: &DatabaseConnection,
    memo: &ThrottleMemo,
    keys: &[(String, Policy)],
    rows: &[login_throttle::Model],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for (key, policy) in keys {
        // why: read-then-write in one transaction; two failures racing may count once, which
        // only delays the lock by one attempt.
        let before = rows
            .iter()
            .find(|r| &r.key == key)
            .map(|r| {
                policy.carried(
                    u32::try_from(r.failures).unwrap_or(0),
                    r.last_failure_at,
                    now,
                )
            })
            .unwrap_or(0);
        let failures = before.saturating_add(1);
        let locked_until = policy.lock_after(failures).map(|d| now + d);
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(i32::try_from(failures).unwrap_or(i32::MAX)),
            last_failure_at: Set(now),
            locked_until: Set(locked_until),
        })
        .on_conflict(
            OnConflict::column(login_throttle::Column::Key)
                .update_columns([
                    login_throttle::Column::Failures,
                    login_throttle::Column::LastFailureAt,
                    login_throttle::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
        if let Some(until) = locked_until {
            memo.remember(key, until, now);
        }
    }
    txn.commit().await
}

/// The failure count stored for an account (tests and the admin page).
pub async fn failures_of(db: &impl ConnectionTrait, username: &str) -> Result<u32, DbErr> {
    Ok(login_throttle::Entity::find_by_id(account_key(username))
        .one(db)
        .await?
        .map(|r| u32::try_from(r.failures).unwrap_or(0))
        .unwrap_or(0))
}
