//! Sign-in throttling (OWASP ASVS 2.2.1): after a few free failures each further one locks the
//! account (or the client address) for a growing while, then for a long one. A success clears it.

use chrono::{DateTime, Duration, Utc};

use crate::domain::lang::Text;

/// How many failures one key (an account or an address) may have before it is slowed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures answered normally.
    pub free: u32,
    /// From this many failures on, the key is refused for `lockout`.
    pub refuse_at: u32,
    pub lockout: Duration,
    /// Failures older than this (counted from the last one) are forgotten.
    pub window: Duration,
}

/// An account: three free tries, then 1, 2, 4, … 32 s between tries, then 15 minutes.
pub const ACCOUNT: Policy = Policy {
    free: 3,
    refuse_at: 10,
    lockout: Duration::minutes(15),
    window: Duration::hours(1),
};

/// A client address: several people may share one (an office behind NAT), so more is free.
pub const ADDRESS: Policy = Policy {
    free: 20,
    refuse_at: 40,
    lockout: Duration::minutes(15),
    window: Duration::hours(1),
};

impl Policy {
    /// How long the key is refused after its `failures`-th failure in a row.
    pub fn lock_after(&self, failures: u32) -> Option<Duration> {
        if failures <= self.free {
            None
        } else if failures >= self.refuse_at {
            Some(self.lockout)
        } else {
            let step = (failures - self.free - 1).min(10);
            Some(Duration::seconds(1i64 << step).min(self.lockout))
        }
    }

    /// The failure count to carry on from: zero when the last failure is older than the window.
    pub fn carried(&self, failures: u32, last_failure: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        if now - last_failure > self.window {
            0
        } else {
            failures
        }
    }
}

/// A refused attempt is answered after this pause: it costs the server only a timer, and an
/// attacker that waits for answers sends a few refused tries a second instead of thousands.
pub const REFUSAL_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

/// Whole seconds until `until`, at least one (for `Retry-After`).
pub fn retry_after_secs(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (until - now).num_milliseconds().max(0);
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

/// "Too many failed sign-ins, try again in N s / N min", in both languages.
pub fn refusal_message(secs: u64) -> Text {
    if secs < 60 {
        Text::new(
            format!("Забагато невдалих спроб входу. Спробуйте знову через {secs} с."),
            format!("Too many failed sign-in attempts. Try again in {secs} s."),
        )
    } else {
        let min = secs.div_ceil(60);
        Text::new(
            format!("Забагато невдалих спроб входу. Спробуйте знову через {min} хв."),
            format!("Too many failed sign-in attempts. Try again in {min} min."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_down_then_refuses() {
        let p = ACCOUNT;
        assert_eq!(p.lock_after(1), None);
        assert_eq!(p.lock_after(3), None);
        assert_eq!(p.lock_after(4), Some(Duration::seconds(1)));
        assert_eq!(p.lock_after(5), Some(Duration::seconds(2)));
        assert_eq!(p.lock_after(9), Some(Duration::seconds(32)));
        assert_eq!(p.lock_after(10), Some(Duration::minutes(15)));
        assert_eq!(p.lock_after(1000), Some(Duration::minutes(15)));
        assert_eq!(ADDRESS.lock_after(20), None);
        assert_eq!(ADDRESS.lock_after(39), Some(Duration::minutes(15)));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let now = Utc::now();
        assert_eq!(ACCOUNT.carried(7, now - Duration::minutes(5), now), 7);
        assert_eq!(ACCOUNT.carried(7, now - Duration::hours(2), now), 0);
    }

    #[test]
    fn messages_say_when_to_retry() {
        let now = Utc::now();
        assert_eq!(retry_after_secs(now + Duration::milliseconds(1500), now), 2);
        assert_eq!(retry_after_secs(now - Duration::seconds(5), now), 1);
        assert!(refusal_message(5).uk.contains("5 с"));
        assert!(refusal_message(900).en.contains("15 min"));
    }
}
