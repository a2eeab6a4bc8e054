//! When a booked resident may check in: from `early` minutes before the booking's start until
//! `late` minutes after it. Too late, the kiosk offers a walk-in ticket instead.

use chrono::{DateTime, Duration, Utc};

/// The check-in window, in minutes around the booking's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInWindow {
    pub early_minutes: u32,
    pub late_minutes: u32,
}

/// Why a check-in is refused by the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefusal {
    /// Come back from this instant.
    TooEarly {
        from: DateTime<Utc>,
    },
    TooLate,
}

impl CheckInWindow {
    /// `Ok` when `now` is within `[start - early, start + late]` (both ends included).
    pub fn check(&self, start: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), WindowRefusal> {
        let from = start - Duration::minutes(i64::from(self.early_minutes));
        let until = start + Duration::minutes(i64::from(self.late_minutes));
        if now < from {
            Err(WindowRefusal::TooEarly { from })
        } else if now > until {
            Err(WindowRefusal::TooLate)
        } else {
            Ok(())
        }
    }
}

/// A booking code as typed at the kiosk: spaces and dashes dropped, upper case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, s).unwrap()
    }

    const W: CheckInWindow = CheckInWindow {
        early_minutes: 30,
        late_minutes: 15,
    };

    #[test]
    fn inside_the_window_both_ends_included() {
        let start = at(10, 0, 0);
        assert_eq!(W.check(start, at(9, 30, 0)), Ok(()));
        assert_eq!(W.check(start, at(10, 0, 0)), Ok(()));
        assert_eq!(W.check(start, at(10, 15, 0)), Ok(()));
    }

    #[test]
    fn too_early_says_from_when() {
        let start = at(10, 0, 0);
        assert_eq!(
            W.check(start, at(9, 29, 59)),
            Err(WindowRefusal::TooEarly { from: at(9, 30, 0) })
        );
    }

    #[test]
    fn too_late_just_after_the_end() {
        let start = at(10, 0, 0);
        assert_eq!(W.check(start, at(10, 15, 1)), Err(WindowRefusal::TooLate));
    }

    #[test]
    fn zero_windows_admit_only_the_start() {
        let w = CheckInWindow {
            early_minutes: 0,
            late_minutes: 0,
        };
        let start = at(10, 0, 0);
        assert_eq!(w.check(start, start), Ok(()));
        assert!(matches!(
            w.check(start, at(9, 59, 59)),
            Err(WindowRefusal::TooEarly { .. })
        ));
        assert_eq!(w.check(start, at(10, 0, 1)), Err(WindowRefusal::TooLate));
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code(" ab-c 2x9 "), "ABC2X9");
        assert_eq!(normalize_code("ABC2X9"), "ABC2X9");
    }
}
