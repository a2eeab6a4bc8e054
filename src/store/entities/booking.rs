use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub code: String,
    pub office_id: i32,
    pub service_id: i32,
    pub specialist_id: i32,
    pub channel: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub status: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub account: Option<String>,
    pub phone_norm: Option<String>,
    pub email_norm: Option<String>,
    pub lang: String,
    #[sea_orm(unique)]
    pub manage_token_hash: String,
    pub confirm_token_hash: Option<String>,
    /// Hash of the short code in the confirmation mail.
    pub confirm_code_hash: Option<String>,
    /// Wrong codes typed; past the limit only the link confirms.
    pub confirm_failures: i32,
    /// The manage token XOR a key derived from the confirmation token: only the holder of
    /// the confirmation link can recover it (to mail the manage link on confirmation).
    pub manage_token_sealed: Option<String>,
    pub hold_expires_at: Option<DateTimeUtc>,
    pub release_at: Option<DateTimeUtc>,
    pub locked_until: Option<DateTimeUtc>,
    pub client_ip: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
