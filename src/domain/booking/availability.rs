//! The availability engine: free start times for a service over a range of days, per
//! specialist, computed in memory from plans the store loaded (no database call inside).
//!
//! Days, hours and the slot grid are local wall time in the office's zone; lengths are real
//! minutes. On a daylight-saving day a start at a local time that does not exist is skipped,
//! and a local time that occurs twice is offered once (its first occurrence).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::schedule::{ExceptionKind, LocalMinute, OfficePlan, SpecialistPlan, subtract, union};

/// Limits on what may be booked, relative to `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub now: DateTime<Utc>,
    /// No start sooner than this many minutes from now.
    pub min_notice_minutes: i64,
    /// No start on a local day more than this many days after today.
    pub horizon_days: i64,
}

/// One specialist's bookable UTC windows on a day and the local minute its grid counts from.
type DayPlan = (Vec<(i64, i64)>, Option<LocalMinute>);

/// A free start time and the specialists free for the whole length from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Ascending ids.
    pub specialists: Vec<i32>,
}

fn minute_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(60)
}

fn instant(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(minute * 60, 0).unwrap_or_default()
}

/// The UTC minute of a local wall time, or `None` when it does not exist (a spring-forward
/// gap). A repeated local time resolves to its first occurrence.
fn resolve(tz: Tz, day: NaiveDate, m: LocalMinute) -> Option<i64> {
    let (day, m) = if m >= 1440 {
        (day.succ_opt()?, m - 1440)
    } else {
        (day, m)
    };
    let naive = day.and_hms_opt(u32::from(m / 60), u32::from(m % 60), 0)?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(minute_of(t.with_timezone(&Utc))),
        LocalResult::Ambiguous(first, _) => Some(minute_of(first.with_timezone(&Utc))),
        LocalResult::None => None,
    }
}

/// A window edge as a UTC minute: an edge inside a gap moves to the end of the gap; a
/// repeated end takes its later occurrence, so a window keeps all of its real time.
fn edge(tz: Tz, day: NaiveDate, m: LocalMinute, is_end: bool) -> Option<i64> {
    let (d, mm) = if m >= 1440 {
        (day.succ_opt()?, m - 1440)
    } else {
        (day, m)
    };
    let naive = d.and_hms_opt(u32::from(mm / 60), u32::from(mm % 60), 0)?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(minute_of(t.with_timezone(&Utc))),
        LocalResult::Ambiguous(first, last) => Some(minute_of(
            if is_end { last } else { first }.with_timezone(&Utc),
        )),
        // why: gaps are at most a few hours; the first existing minute after it is the edge.
        LocalResult::None => (1..=180).find_map(|step| {
            let t = naive + Duration::minutes(step);
            match tz.from_local_datetime(&t) {
                LocalResult::Single(t) => Some(minute_of(t.with_timezone(&Utc))),
                LocalResult::Ambiguous(first, _) => Some(minute_of(first.with_timezone(&Utc))),
                LocalResult::None => None,
            }
        }),
    }
}

fn utc_window(tz: Tz, day: NaiveDate, w: super::LocalWindow) -> Option<(i64, i64)> {
    let s = edge(tz, day, w.start, false)?;
    let e = edge(tz, day, w.end, true)?;
    (s < e).then_some((s, e))
}

/// One specialist's bookable time on `day` as sorted UTC minute windows, and the local
/// minute the day's grid counts from (`None` when the specialist does not work that day).
fn bookable(
    office: &OfficePlan,
    spec: &SpecialistPlan,
    busy: &[(i64, i64)],
    day: NaiveDate,
) -> DayPlan {
    let tz = office.timezone;
    if office.closed.contains(&day) {
        return (Vec::new(), None);
    }
    let wd = day.weekday().num_days_from_monday() as usize;
    let plan = &spec.week[wd];
    let opening = office.hours[wd];
    let mut windows: Vec<(i64, i64)> = Vec::new();
    let mut origin = opening.map(|o| o.start);
    if let Some(work) = plan.work {
        // Working time counts only while the office is open.
        let clipped = match opening {
            Some(o) => super::LocalWindow::new(work.start.max(o.start), work.end.min(o.end)),
            None => None,
        };
        if let Some(w) = clipped.and_then(|w| utc_window(tz, day, w)) {
            windows.push(w);
        }
    }
    let today: Vec<_> = spec.exceptions.iter().filter(|e| e.day == day).collect();
    for ex in &today {
        if ex.kind == ExceptionKind::Extra
            && let Some(w) = ex.window.and_then(|w| utc_window(tz, day, w))
        {
            union(&mut windows, w);
            if let Some(wl) = ex.window {
                origin = Some(origin.map_or(wl.start, |o| o.min(wl.start)));
            }
        }
    }
    for ex in &today {
        if ex.kind != ExceptionKind::Extra {
            match ex.window {
                None => return (Vec::new(), None),
                Some(w) => {
                    if let Some(w) = utc_window(tz, day, w) {
                        subtract(&mut windows, w);
                    }
                }
            }
        }
    }
    for w in plan.breaks.iter().chain(&plan.walk_in) {
        if let Some(w) = utc_window(tz, day, *w) {
            subtract(&mut windows, w);
        }
    }
    if let (Some(&(first, _)), Some(&(_, last))) = (windows.first(), windows.last()) {
        let from = busy.partition_point(|b| b.1 <= first);
        for &b in busy[from..].iter().take_while(|b| b.0 < last) {
            subtract(&mut windows, b);
        }
    }
    (windows, origin)
}

/// Free starts for a `length_minutes` booking on the local days `from..=to`, for any of
/// `specialists` (pass one to ask about one). Starts lie on the office's grid counted from
/// its opening time that day.
pub fn free_slots(
    office: &OfficePlan,
    specialists: &[SpecialistPlan],
    rules: &Rules,
    from: NaiveDate,
    to: NaiveDate,
    length_minutes: u32,
) -> Vec<Slot> {
    let tz = office.timezone;
    let grid = office.grid_minutes.max(1);
    let len = i64::from(length_minutes.max(1));
    let earliest = minute_of(rules.now) + rules.min_notice_minutes.max(0);
    let today = rules.now.with_timezone(&tz).date_naive();
    let last_day = today + Duration::days(rules.horizon_days.max(0));
    let to = to.min(last_day);
    let mut busy: Vec<Vec<(i64, i64)>> = specialists
        .iter()
        .map(|s| {
            let mut b = s.busy.clone();
            b.sort_unstable();
            b
        })
        .collect();
    for b in &mut busy {
        b.dedup();
    }
    let mut out = Vec::new();
    let mut day = from.max(today);
    let mut days: Vec<DayPlan> = Vec::with_capacity(specialists.len());
    while day <= to {
        days.clear();
        for (spec, b) in specialists.iter().zip(&busy) {
            days.push(bookable(office, spec, b, day));
        }
        let Some(origin) = days.iter().filter_map(|d| d.1).min() else {
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            continue;
        };
        let latest_end = days
            .iter()
            .filter_map(|d| d.0.last().map(|w| w.1))
            .max()
            .unwrap_or(i64::MIN);
        let mut cursor = vec![0usize; specialists.len()];
        let mut m = origin;
        while m < 1440 {
            if let Some(start) = resolve(tz, day, m) {
                let end = start + len;
                if end > latest_end {
                    break;
                }
                if start >= earliest {
                    let mut free = Vec::new();
                    for (i, (windows, _)) in days.iter().enumerate() {
                        let c = &mut cursor[i];
                        while *c < windows.len() && windows[*c].1 <= start {
                            *c += 1;
                        }
                        if let Some(w) = windows.get(*c)
                            && w.0 <= start
                            && end <= w.1
                        {
                            free.push(specialists[i].id);
                        }
                    }
                    if !free.is_empty() {
                        free.sort_unstable();
                        out.push(Slot {
                            start: instant(start),
                            end: instant(end),
                            specialists: free,
                        });
                    }
                }
            }
            m += grid;
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{NaiveDate, TimeZone, Utc};
    use chrono_tz::Europe::Kyiv;

    use super::super::schedule::{Exception, ExceptionKind, LocalWindow, WorkDay};
    use super::*;

    fn w(a: &str, b: &str) -> LocalWindow {
        LocalWindow::parse(a, b).expect("window")
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn office(open: &str, close: &str, grid: u16) -> OfficePlan {
        OfficePlan {
            timezone: Kyiv,
            grid_minutes: grid,
            hours: std::array::from_fn(|_| Some(w(open, close))),
            closed: BTreeSet::new(),
        }
    }

    fn specialist(id: i32, from: &str, to: &str) -> SpecialistPlan {
        let mut s = SpecialistPlan::new(id);
        s.week = std::array::from_fn(|_| WorkDay {
            work: Some(w(from, to)),
            ..Default::default()
        });
        s
    }

    fn rules_at(now: DateTime<Utc>) -> Rules {
        Rules {
            now,
            min_notice_minutes: 0,
            horizon_days: 3650,
        }
    }

    fn long_ago() -> Rules {
        rules_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    fn local(slot: &Slot) -> String {
        slot.start
            .with_timezone(&Kyiv)
            .format("%H:%M%:z")
            .to_string()
    }

    #[test]
    fn grid_counts_from_the_opening_time() {
        let o = office("08:10", "09:00", 15);
        let s = specialist(1, "08:00", "09:00");
        let slots = free_slots(&o, &[s], &long_ago(), d(2026, 12, 1), d(2026, 12, 1), 15);
        let starts: Vec<String> = slots.iter().map(local).collect();
        assert_eq!(starts, ["08:10+02:00", "08:25+02:00", "08:40+02:00"]);
    }

    #[test]
    fn breaks_and_walk_in_periods_are_not_bookable() {
        let o = office("08:00", "10:00", 30);
        let mut s = specialist(1, "08:00", "10:00");
        for day in &mut s.week {
            day.breaks.push(w("08:30", "09:00"));
            day.walk_in.push(w("09:30", "10:00"));
        }
        let slots = free_slots(&o, &[s], &long_ago(), d(2026, 12, 1), d(2026, 12, 1), 30);
        let starts: Vec<String> = slots.iter().map(local).collect();
        assert_eq!(starts, ["08:00+02:00", "09:00+02:00"]);
    }

    #[test]
    fn a_booking_longer_than_a_gap_does_not_fit() {
        let o = office("08:00", "10:00", 30);
        let mut s = specialist(1, "08:00", "10:00");
        s.week[1].breaks.push(w("08:30", "09:00"));
        // 2026-12-01 is a Tuesday.
        let slots = free_slots(&o, &[s], &long_ago(), d(2026, 12, 1), d(2026, 12, 1), 60);
        let starts: Vec<String> = slots.iter().map(local).collect();
        assert_eq!(starts, ["09:00+02:00"]);
    }

    #[test]
    fn exceptions_take_and_add_time() {
        let o = office("08:00", "10:00", 60);
        let mut a = specialist(1, "08:00", "10:00");
        a.exceptions.push(Exception {
            day: d(2026, 12, 1),
            kind: ExceptionKind::Sick,
            window: None,
        });
        a.exceptions.push(Exception {
            day: d(2026, 12, 2),
            kind: ExceptionKind::Leave,
            window: Some(w("08:00", "09:00")),
        });
        let mut b = SpecialistPlan::new(2);
        b.exceptions.push(Exception {
            day: d(2026, 12, 2),
            kind: ExceptionKind::Extra,
            window: Some(w("08:00", "09:00")),
        });
        let slots = free_slots(&o, &[a, b], &long_ago(), d(2026, 12, 1), d(2026, 12, 2), 60);
        let got: Vec<(String, Vec<i32>)> = slots
            .iter()
            .map(|s| {
                (
                    s.start.with_timezone(&Kyiv).format("%d %H:%M").to_string(),
                    s.specialists.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("02 08:00".to_string(), vec![2]),
                ("02 09:00".to_string(), vec![1]),
            ]
        );
    }

    #[test]
    fn closed_days_have_no_slots() {
        let mut o = office("08:00", "10:00", 60);
        o.closed.insert(d(2026, 12, 25));
        let s = specialist(1, "08:00", "10:00");
        let slots = free_slots(&o, &[s], &long_ago(), d(2026, 12, 25), d(2026, 12, 26), 60);
        assert_eq!(slots.len(), 2);
        assert!(
            slots
                .iter()
                .all(|s| s.start.with_timezone(&Kyiv).date_naive() == d(2026, 12, 26))
        );
    }

    #[test]
    fn busy_time_is_taken() {
        let o = office("08:00", "10:00", 30);
        let mut s = specialist(1, "08:00", "10:00");
        // 08:30–09:00 Kyiv = 06:30–07:00 UTC on 2026-12-01.
        let b = Utc
            .with_ymd_and_hms(2026, 12, 1, 6, 30, 0)
            .unwrap()
            .timestamp()
            / 60;
        s.busy.push((b, b + 30));
        let slots = free_slots(&o, &[s], &long_ago(), d(2026, 12, 1), d(2026, 12, 1), 30);
        let starts: Vec<String> = slots.iter().map(local).collect();
        assert_eq!(starts, ["08:00+02:00", "09:00+02:00", "09:30+02:00"]);
    }

    #[test]
    fn notice_and_horizon_limit_the_starts() {
        let o = office("08:00", "10:00", 60);
        let s = specialist(1, "08:00", "10:00");
        // Now: 2026-12-01 08:10 Kyiv; notice 60 min → first start 10:00 is past closing, so
        // today has none at 09:00 (09:00 < 09:10). Horizon 1 day: only 2026-12-02.
        let rules = Rules {
            now: Kyiv
                .with_ymd_and_hms(2026, 12, 1, 8, 10, 0)
                .unwrap()
                .with_timezone(&Utc),
            min_notice_minutes: 60,
            horizon_days: 1,
        };
        let slots = free_slots(&o, &[s], &rules, d(2026, 11, 30), d(2026, 12, 5), 60);
        let got: Vec<String> = slots
            .iter()
            .map(|s| s.start.with_timezone(&Kyiv).format("%d %H:%M").to_string())
            .collect();
        assert_eq!(got, ["02 08:00", "02 09:00"]);
    }

    #[test]
    fn spring_forward_day_has_no_start_in_the_gap() {
        // 2027-03-28 in Kyiv: 03:00 EET jumps to 04:00 EEST.
        let o = office("00:00", "08:00", 30);
        let s = specialist(1, "00:00", "08:00");
        let slots = free_slots(&o, &[s], &long_ago(), d(2027, 3, 28), d(2027, 3, 28), 30);
        let starts: Vec<String> = slots.iter().map(local).collect();
        assert!(!starts.iter().any(|s| s.starts_with("03:")), "{starts:?}");
        assert_eq!(starts.first().map(String::as_str), Some("00:00+02:00"));
        assert!(starts.contains(&"02:30+02:00".to_string()));
        assert!(starts.contains(&"04:00+03:00".to_string()));
        assert_eq!(starts.last().map(String::as_str), Some("07:30+03:00"));
        // Seven real hours of work: 00:00–03:00 and 04:00–08:00.
        assert_eq!(starts.len(), 6 + 8);
        for slot in &slots {
            assert_eq!((slot.end - slot.start).num_minutes(), 30);
        }
        // The 02:30 start lasts 30 real minutes: it ends at 04:00 local.
        let at_230 = slots.iter().find(|s| local(s) == "02:30+02:00").unwrap();
        assert_eq!(
            at_230.end.with_timezone(&Kyiv).format("%H:%M").to_string(),
            "04:00"
        );
    }

    #[test]
    fn fall_back_day_offers_a_repeated_time_once() {
        // 2027-10-31 in Kyiv: 04:00 EEST goes back to 03:00 EET; 03:00–03:59 happens twice.
        let o = office("00:00", "08:00", 30);
        let s = specialist(1, "00:00", "08:00");
        let slots = free_slots(&o, &[s], &long_ago(), d(2027, 10, 31), d(2027, 10, 31), 30);
        let starts: Vec<String> = slots.iter().map(local).collect();
        let at_three: Vec<&String> = starts.iter().filter(|s| s.starts_with("03:00")).collect();
        assert_eq!(at_three, ["03:00+03:00"], "{starts:?}");
        let mut sorted = slots.iter().map(|s| s.start).collect::<Vec<_>>();
        sorted.dedup();
        assert_eq!(sorted.len(), slots.len(), "no doubled instants");
        assert_eq!(starts.len(), 16, "{starts:?}");
        for slot in &slots {
            assert_eq!((slot.end - slot.start).num_minutes(), 30);
        }
    }

    #[test]
    fn any_specialist_lists_everyone_free() {
        let o = office("08:00", "09:00", 30);
        let a = specialist(7, "08:00", "09:00");
        let b = specialist(3, "08:30", "09:00");
        let slots = free_slots(&o, &[a, b], &long_ago(), d(2026, 12, 1), d(2026, 12, 1), 30);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0].specialists, vec![7]);
        assert_eq!(slots[1].specialists, vec![3, 7]);
    }
}
