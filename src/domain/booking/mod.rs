//! Online booking: offices' and specialists' schedules, the availability engine, the rules a
//! booking request must pass, and the booking's statuses. Pure: no I/O.

pub mod availability;
pub mod edit;
pub mod fair;
pub mod impact;
pub mod request;
pub mod schedule;

pub use availability::{Rules, Slot, free_slots};
pub use schedule::{Exception, ExceptionKind, LocalWindow, OfficePlan, SpecialistPlan};

/// Where a booking is in its life. Stored as its code in `booking.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Holds its time while it waits for the resident's email confirmation.
    Pending,
    Confirmed,
    Cancelled,
    /// A pending booking whose hold ran out.
    Expired,
    NoShow,
    Done,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Confirmed,
        Status::Cancelled,
        Status::Expired,
        Status::NoShow,
        Status::Done,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::NoShow => "no_show",
            Status::Done => "done",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A booking the resident can still cancel or move.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Pending | Status::Confirmed)
    }

    pub fn label(self) -> crate::domain::lang::Text {
        use crate::domain::lang::Text;
        match self {
            Status::Pending => Text::new("очікує підтвердження", "awaiting confirmation"),
            Status::Confirmed => Text::new("підтверджено", "confirmed"),
            Status::Cancelled => Text::new("скасовано", "cancelled"),
            Status::Expired => Text::new("не підтверджено вчасно", "not confirmed in time"),
            Status::NoShow => Text::new("неявка", "no-show"),
            Status::Done => Text::new("обслуговано", "served"),
        }
    }
}

/// What kind of place an office is: a district center residents visit, or the contact
/// center that calls residents back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeKind {
    Office,
    ContactCenter,
}

impl OfficeKind {
    pub fn code(self) -> &'static str {
        match self {
            OfficeKind::Office => "office",
            OfficeKind::ContactCenter => "contact_center",
        }
    }

    pub fn from_code(code: &str) -> Option<OfficeKind> {
        match code {
            "office" => Some(OfficeKind::Office),
            "contact_center" => Some(OfficeKind::ContactCenter),
            _ => None,
        }
    }

    /// The catalog channel a booking at this kind of office serves.
    pub fn channel(self) -> crate::domain::catalog::Channel {
        match self {
            OfficeKind::Office => crate::domain::catalog::Channel::Visit,
            OfficeKind::ContactCenter => crate::domain::catalog::Channel::ContactCenter,
        }
    }
}

/// The limits of online booking, from the configuration (see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub min_notice_minutes: i64,
    pub horizon_days: i64,
    /// How long a pending booking holds its time awaiting email confirmation.
    pub hold_minutes: i64,
    /// Ask residents who give an email to confirm through it.
    pub email_confirmation: bool,
    /// Active bookings one person (phone, email or account) may hold; 0 turns the cap off.
    pub max_active_per_person: u32,
    /// No-shows within `no_show_window_days` that block online booking; 0 turns it off.
    pub no_show_limit: u32,
    pub no_show_window_days: i64,
    /// How long a cancelled time stays taken before it returns to availability.
    pub release_delay_minutes: i64,
    pub open_ended_factor: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_notice_minutes: 60,
            horizon_days: 30,
            hold_minutes: 10,
            email_confirmation: true,
            max_active_per_person: 3,
            no_show_limit: 3,
            no_show_window_days: 30,
            release_delay_minutes: 15,
            open_ended_factor: crate::domain::catalog::DEFAULT_OPEN_ENDED_FACTOR,
        }
    }
}
