//! What an administrator's change does to bookings already made: which live bookings a new
//! schedule, exception, opening hours or closed day leaves outside bookable time. Such
//! bookings are not moved or cancelled by the change; staff are told and decide.
//!
//! Times are compared in the office's local wall time, as the schedules are written.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::schedule::{ExceptionKind, LocalWindow, OfficePlan, SpecialistPlan};

/// A live booking as the check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedTime {
    pub id: i32,
    pub specialist_id: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The booking's local day and `[start, end)` in minutes of that day (an end past midnight
/// counts on from 1440).
fn local(office: &OfficePlan, b: &BookedTime) -> (NaiveDate, u32, u32) {
    let s = b.starts_at.with_timezone(&office.timezone);
    let e = b.ends_at.with_timezone(&office.timezone);
    let day = s.date_naive();
    let start = s.hour() * 60 + s.minute();
    let days_later = u32::try_from((e.date_naive() - day).num_days().max(0)).unwrap_or(0);
    let end = days_later * 1440 + e.hour() * 60 + e.minute() + u32::from(e.second() > 0);
    (day, start, end.max(start))
}

/// Subtracts `cut` from sorted, disjoint local windows.
fn cut(windows: &mut Vec<(u32, u32)>, cut: LocalWindow) {
    let (a, b) = (u32::from(cut.start), u32::from(cut.end));
    let mut out = Vec::with_capacity(windows.len() + 1);
    for &(s, e) in windows.iter() {
        if b <= s || a >= e {
            out.push((s, e));
            continue;
        }
        if s < a {
            out.push((s, a));
        }
        if b < e {
            out.push((b, e));
        }
    }
    *windows = out;
}

/// The specialist's bookable local windows on `day`, by the rules of availability: working
/// time while the office is open, plus extra shifts, less time off, breaks and walk-in periods;
/// nothing on a closed day or a whole day off.
fn bookable(office: &OfficePlan, spec: &SpecialistPlan, day: NaiveDate) -> Vec<(u32, u32)> {
    if office.closed.contains(&day) {
        return Vec::new();
    }
    let wd = day.weekday().num_days_from_monday() as usize;
    let plan = &spec.week[wd];
    let mut windows: Vec<(u32, u32)> = Vec::new();
    if let (Some(work), Some(open)) = (plan.work, office.hours[wd])
        && let Some(w) = LocalWindow::new(work.start.max(open.start), work.end.min(open.end))
    {
        windows.push((u32::from(w.start), u32::from(w.end)));
    }
    let today: Vec<_> = spec.exceptions.iter().filter(|e| e.day == day).collect();
    for ex in &today {
        if ex.kind == ExceptionKind::Extra
            && let Some(w) = ex.window
        {
            windows.push((u32::from(w.start), u32::from(w.end)));
        }
    }
    windows.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(windows.len());
    for (s, e) in windows {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    for ex in &today {
        if ex.kind != ExceptionKind::Extra {
            match ex.window {
                None => return Vec::new(),
                Some(w) => cut(&mut merged, w),
            }
        }
    }
    for w in plan.breaks.iter().chain(&plan.walk_in) {
        cut(&mut merged, *w);
    }
    merged
}

/// Whether a booking lies wholly inside its specialist's bookable time under a plan. A
/// specialist the plan does not know has no bookable time.
pub fn fits(office: &OfficePlan, specialists: &[SpecialistPlan], b: &BookedTime) -> bool {
    let Some(spec) = specialists.iter().find(|s| s.id == b.specialist_id) else {
        return false;
    };
    let (day, start, end) = local(office, b);
    bookable(office, spec, day)
        .iter()
        .any(|&(s, e)| s <= start && end <= e)
}

/// The bookings a change strands: inside bookable time before it, outside after it. One
/// already outside before (say, left there by an earlier change) is not reported again.
pub fn stranded(
    before: (&OfficePlan, &[SpecialistPlan]),
    after: (&OfficePlan, &[SpecialistPlan]),
    bookings: &[BookedTime],
) -> Vec<i32> {
    bookings
        .iter()
        .filter(|b| fits(before.0, before.1, b) && !fits(after.0, after.1, b))
        .map(|b| b.id)
        .collect()
}

/// The bookings whose service the specialist would no longer handle: `bookings` are
/// (booking id, service id), `skills` the service ids kept.
pub fn without_skill(bookings: &[(i32, i32)], skills: &BTreeSet<i32>) -> Vec<i32> {
    bookings
        .iter()
        .filter(|(_, service)| !skills.contains(service))
        .map(|(id, _)| *id)
        .collect()
}

/// Whether the administrator has seen every stranded booking: the confirmation lists the ids
/// shown, so a booking made between the warning and the confirmation is warned about anew.
pub fn acknowledged(stranded: &[i32], seen: &BTreeSet<i32>) -> bool {
    stranded.iter().all(|id| seen.contains(id))
}

/// Reads the ids a confirmation carries ("3,17,42"); anything else is ignored.
pub fn parse_ids(text: &str) -> BTreeSet<i32> {
    text.split([',', ' '])
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

pub fn format_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::schedule::{Exception, WorkDay};
    use chrono::TimeZone;

    fn w(a: u16, b: u16) -> LocalWindow {
        LocalWindow::new(a, b).unwrap()
    }

    fn office() -> OfficePlan {
        OfficePlan {
            timezone: chrono_tz::Europe::Kyiv,
            grid_minutes: 15,
            hours: [Some(w(480, 1080)); 7],
            closed: BTreeSet::new(),
        }
    }

    fn spec(id: i32) -> SpecialistPlan {
        let mut s = SpecialistPlan::new(id);
        s.week = std::array::from_fn(|_| WorkDay {
            work: Some(w(540, 1020)),
            breaks: vec![w(780, 810)],
            walk_in: vec![w(960, 1020)],
        });
        s
    }

    // 2027-03-03 is a Wednesday; Kyiv is UTC+2 then.
    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, 3).unwrap()
    }

    /// A booking at local `hh:mm` for `len` minutes on `day()`.
    fn at(id: i32, spec: i32, hh: u32, mm: u32, len: i64) -> BookedTime {
        let s = chrono_tz::Europe::Kyiv
            .with_ymd_and_hms(2027, 3, 3, hh, mm, 0)
            .unwrap()
            .with_timezone(&Utc);
        BookedTime {
            id,
            specialist_id: spec,
            starts_at: s,
            ends_at: s + chrono::Duration::minutes(len),
        }
    }

    #[test]
    fn fits_working_time_only() {
        let (o, s) = (office(), vec![spec(1)]);
        assert!(fits(&o, &s, &at(1, 1, 9, 0, 30)));
        assert!(
            fits(&o, &s, &at(1, 1, 12, 30, 30)),
            "ends as the break starts"
        );
        assert!(!fits(&o, &s, &at(1, 1, 8, 45, 30)), "before work");
        assert!(!fits(&o, &s, &at(1, 1, 12, 45, 30)), "into the break");
        assert!(
            !fits(&o, &s, &at(1, 1, 15, 45, 30)),
            "into the walk-in hour"
        );
        assert!(!fits(&o, &s, &at(1, 2, 9, 0, 30)), "unknown specialist");
    }

    #[test]
    fn a_shorter_week_strands_what_it_cuts() {
        let o = office();
        let before = vec![spec(1), spec(2)];
        let mut after = before.clone();
        after[0].week[2].work = Some(w(540, 720)); // Wednesday until 12:00
        after[0].week[2].breaks.clear();
        after[0].week[2].walk_in.clear();
        let bookings = [
            at(10, 1, 9, 0, 30),
            at(11, 1, 11, 45, 30),
            at(12, 1, 14, 0, 15),
            at(13, 2, 14, 0, 15),
            at(14, 1, 12, 45, 30), // already in the break: not newly stranded
        ];
        assert_eq!(
            stranded((&o, &before), (&o, &after), &bookings),
            vec![11, 12]
        );
    }

    #[test]
    fn time_off_and_closed_days() {
        let o = office();
        let before = vec![spec(1)];
        let bookings = [at(1, 1, 9, 0, 30), at(2, 1, 14, 0, 30)];

        let mut sick = before.clone();
        sick[0].exceptions.push(Exception {
            day: day(),
            kind: ExceptionKind::Sick,
            window: None,
        });
        assert_eq!(stranded((&o, &before), (&o, &sick), &bookings), vec![1, 2]);

        let mut morning_off = before.clone();
        morning_off[0].exceptions.push(Exception {
            day: day(),
            kind: ExceptionKind::Leave,
            window: Some(w(540, 600)),
        });
        assert_eq!(
            stranded((&o, &before), (&o, &morning_off), &bookings),
            vec![1]
        );

        let mut closed = o.clone();
        closed.closed.insert(day());
        assert_eq!(
            stranded((&o, &before), (&closed, &before), &bookings),
            vec![1, 2]
        );
        let mut other_day = o.clone();
        other_day.closed.insert(day().succ_opt().unwrap());
        assert!(stranded((&o, &before), (&other_day, &before), &bookings).is_empty());
    }

    #[test]
    fn shorter_opening_hours_and_extra_shifts() {
        let o = office();
        let mut later = o.clone();
        later.hours[2] = Some(w(600, 1080)); // Wednesday from 10:00
        let mut plans = vec![spec(1)];
        let bookings = [at(1, 1, 9, 0, 30), at(2, 1, 10, 0, 30)];
        assert_eq!(stranded((&o, &plans), (&later, &plans), &bookings), vec![1]);
        // An extra shift keeps its time whatever the opening hours (as availability does).
        plans[0].exceptions.push(Exception {
            day: day(),
            kind: ExceptionKind::Extra,
            window: Some(w(540, 600)),
        });
        assert!(stranded((&o, &plans), (&later, &plans), &bookings).is_empty());
    }

    #[test]
    fn a_new_time_zone_moves_the_local_time() {
        let o = office();
        let mut london = o.clone();
        london.timezone = chrono_tz::Europe::London;
        let plans = vec![spec(1)];
        // 09:00 in Kyiv is 07:00 in London: before work there.
        assert_eq!(
            stranded((&o, &plans), (&london, &plans), &[at(1, 1, 9, 0, 30)]),
            vec![1]
        );
    }

    #[test]
    fn a_skill_taken_away_strands_its_bookings() {
        let skills: BTreeSet<i32> = [7, 9].into_iter().collect();
        assert_eq!(
            without_skill(&[(1, 7), (2, 8), (3, 9), (4, 8)], &skills),
            vec![2, 4]
        );
        assert!(without_skill(&[], &skills).is_empty());
    }

    #[test]
    fn confirmation_ids() {
        let seen = parse_ids("3, 17,x,42");
        assert_eq!(seen.iter().copied().collect::<Vec<_>>(), vec![3, 17, 42]);
        assert!(acknowledged(&[3, 42], &seen));
        assert!(!acknowledged(&[3, 5], &seen));
        assert!(acknowledged(&[], &BTreeSet::new()));
        assert_eq!(format_ids(&[3, 17]), "3,17");
    }
}
