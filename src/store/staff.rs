//! Staff accounts and their sessions (browser cookies and API bearer tokens).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};

use super::entities::{staff_session, staff_user};
use crate::domain::staff::Role;
use crate::security;

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

/// The user, when the username exists, is active and the password matches.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    username: &str,
    password: &str,
) -> Result<Option<StaffUser>, DbErr> {
    let Some(user) = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.trim()))
        .one(db)
        .await?
    else {
        // Hash anyway so that a wrong username takes as long as a wrong password.
        let _ = security::hash_password(password);
        return Ok(None);
    };
    if !user.active || !security::verify_password(password, &user.password_hash) {
        return Ok(None);
    }
    Ok(to_user(user))
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
