//! The per-person fair-access rules a booking must pass, and the documented order in which
//! "any specialist" tries the free ones. Pure, so the database path (one booking) and the
//! batched SQLite writer (many bookings decided in memory under one lock) decide alike.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::{Policy, Status};
use crate::domain::booking::request::Contact;
use crate::domain::lang::Text;

/// What the rules need of one of a person's bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonBooking {
    pub phone_norm: Option<String>,
    pub email_norm: Option<String>,
    pub account: Option<String>,
    pub service_id: i32,
    pub status: Status,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub hold_expires_at: Option<DateTime<Utc>>,
}

impl PersonBooking {
    /// The booking is this person's: it shares a phone, an email or an account number.
    pub fn belongs_to(&self, c: &Contact) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        same(&self.phone_norm, &c.phone_norm)
            || same(&self.email_norm, &c.email_norm)
            || same(&self.account, &c.account)
    }

    /// Counts against the caps at `now`: confirmed, or pending with its hold still running,
    /// and not over yet.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.ends_at > now
            && match self.status {
                Status::Confirmed => true,
                Status::Pending => self.hold_expires_at.is_some_and(|h| h > now),
                _ => false,
            }
    }

    fn is_recent_no_show(&self, since: DateTime<Utc>) -> bool {
        self.status == Status::NoShow && self.starts_at > since
    }
}

/// Why the rules refused a booking: the code the API answers and the resident's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: Text,
}

/// The start of the window in which no-shows count.
pub fn no_show_since(policy: &Policy, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(policy.no_show_window_days.max(0))
}

/// Checks a person's caps against their bookings (any of them; those that do not count are
/// skipped here): the no-show block, one live booking per service, at most N live bookings.
pub fn check_person<'a>(
    mine: impl IntoIterator<Item = &'a PersonBooking>,
    service_id: i32,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let since = no_show_since(policy, now);
    let (mut no_shows, mut live, mut same_service) = (0usize, 0usize, false);
    for b in mine {
        if b.is_recent_no_show(since) {
            no_shows += 1;
        } else if b.is_live(now) {
            live += 1;
            same_service |= b.service_id == service_id;
        }
    }
    if policy.no_show_limit > 0 && no_shows >= policy.no_show_limit as usize {
        return Err(Refusal {
            code: "no_show_block",
            message: Text::new(
                format!(
                    "Онлайн-запис тимчасово недоступний: {no_shows} неявки за останні {} днів. Зверніться до центру особисто або за телефоном.",
                    policy.no_show_window_days
                ),
                format!(
                    "Online booking is not available for now: {no_shows} missed appointments in the last {} days. Please contact the center in person or by phone.",
                    policy.no_show_window_days
                ),
            ),
        });
    }
    if same_service {
        return Err(Refusal {
            code: "already_booked",
            message: Text::new(
                "У вас уже є запис на цю послугу. Скасуйте або перенесіть його.",
                "You already have a booking for this service. Cancel or move it instead.",
            ),
        });
    }
    if policy.max_active_per_person > 0 && live >= policy.max_active_per_person as usize {
        return Err(Refusal {
            code: "too_many_bookings",
            message: Text::new(
                format!(
                    "Можна мати не більше {} активних записів одночасно.",
                    policy.max_active_per_person
                ),
                format!(
                    "You can hold at most {} active bookings at a time.",
                    policy.max_active_per_person
                ),
            ),
        });
    }
    Ok(())
}

/// "Any specialist": the free ones with the fewest live bookings that local day first
/// (spreading the load), then the lowest id.
pub fn least_loaded_first(free: &mut [i32], load: &HashMap<i32, i64>) {
    free.sort_by_key(|id| (load.get(id).copied().unwrap_or(0), *id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lang::Lang;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default()
    }

    fn contact(phone: &str) -> Contact {
        Contact {
            name: "Тест".into(),
            phone: Some(phone.into()),
            phone_norm: Some(phone.into()),
            email: None,
            email_norm: None,
            account: Some("1001".into()),
            lang: Lang::Uk,
        }
    }

    fn booking(phone: &str, service_id: i32, status: Status, start: i64) -> PersonBooking {
        PersonBooking {
            phone_norm: Some(phone.into()),
            email_norm: None,
            account: None,
            service_id,
            status,
            starts_at: at(start),
            ends_at: at(start) + Duration::minutes(30),
            hold_expires_at: (status == Status::Pending).then(|| at(0) + Duration::minutes(10)),
        }
    }

    #[test]
    fn a_person_is_any_of_their_keys_but_never_a_missing_one() {
        let c = contact("380671111111");
        assert!(booking("380671111111", 1, Status::Confirmed, 5).belongs_to(&c));
        let mut by_account = booking("380672222222", 1, Status::Confirmed, 5);
        assert!(!by_account.belongs_to(&c));
        by_account.account = Some("1001".into());
        assert!(by_account.belongs_to(&c));
        let mut nothing = booking("x", 1, Status::Confirmed, 5);
        nothing.phone_norm = None;
        let mut no_keys = c.clone();
        no_keys.phone_norm = None;
        no_keys.account = None;
        assert!(!nothing.belongs_to(&no_keys));
    }

    #[test]
    fn caps_count_live_bookings_only() {
        let policy = Policy::default();
        let now = at(0);
        let p = "380671111111";
        // An expired hold, a past booking and a cancelled one do not count.
        let mut expired = booking(p, 2, Status::Pending, 5);
        expired.hold_expires_at = Some(now - Duration::minutes(1));
        let rows = [
            expired,
            booking(p, 3, Status::Confirmed, -5),
            booking(p, 4, Status::Cancelled, 5),
            booking(p, 5, Status::Confirmed, 5),
            booking(p, 6, Status::Pending, 6),
        ];
        assert_eq!(check_person(&rows, 1, &policy, now), Ok(()));
        let refusal = check_person(&rows, 5, &policy, now).err().map(|r| r.code);
        assert_eq!(refusal, Some("already_booked"));
        let more = [rows.to_vec(), vec![booking(p, 7, Status::Confirmed, 7)]].concat();
        let refusal = check_person(&more, 1, &policy, now).err().map(|r| r.code);
        assert_eq!(refusal, Some("too_many_bookings"));
        let off = Policy {
            max_active_per_person: 0,
            ..policy
        };
        assert_eq!(check_person(&more, 1, &off, now), Ok(()));
    }

    #[test]
    fn no_shows_block_within_the_window_only() {
        let policy = Policy::default();
        let now = at(0);
        let p = "380671111111";
        let mut rows: Vec<PersonBooking> = (1..=3)
            .map(|d| booking(p, 1, Status::NoShow, -24 * d))
            .collect();
        let refusal = check_person(&rows, 1, &policy, now).err().map(|r| r.code);
        assert_eq!(refusal, Some("no_show_block"));
        rows[0].starts_at = now - Duration::days(31);
        assert_eq!(check_person(&rows, 1, &policy, now), Ok(()));
    }

    #[test]
    fn any_specialist_spreads_the_load_then_takes_the_lowest_id() {
        let mut free = vec![7, 3, 5];
        let load = HashMap::from([(3, 2), (5, 1)]);
        least_loaded_first(&mut free, &load);
        assert_eq!(free, vec![7, 5, 3]);
    }
}
