//! Availability engine benchmark (issue 6, item 11): one service, 20 specialists, 30 days,
//! in-process, no database. Prints p50/p90/p99 of one `free_slots` call.
//! Run: `cargo bench --bench availability`.

use std::collections::BTreeSet;
use std::time::Instant;

use cherga::domain::booking::schedule::WorkDay;
use cherga::domain::booking::{LocalWindow, OfficePlan, Rules, SpecialistPlan, free_slots};
use chrono::{NaiveDate, TimeZone, Utc};

fn main() {
    let w = |a: &str, b: &str| LocalWindow::parse(a, b).expect("window");
    let office = OfficePlan {
        timezone: chrono_tz::Europe::Kyiv,
        grid_minutes: 5,
        hours: std::array::from_fn(|d| (d < 5).then(|| w("08:00", "17:00"))),
        closed: BTreeSet::new(),
    };
    let from = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let start_min = Utc
        .with_ymd_and_hms(2027, 3, 1, 6, 0, 0)
        .unwrap()
        .timestamp()
        / 60;
    let specialists: Vec<SpecialistPlan> = (1..=20)
        .map(|id| {
            let mut s = SpecialistPlan::new(id);
            s.week = std::array::from_fn(|d| WorkDay {
                work: (d < 5).then(|| w("08:00", "17:00")),
                breaks: vec![w("12:00", "12:45")],
                walk_in: vec![w("16:00", "17:00")],
            });
            // About a third of each day booked, in 30-minute pieces.
            for day in 0..30i64 {
                for k in 0..6i64 {
                    let s0 = start_min + day * 1440 + (k * 90 + i64::from(id) * 5) % 480;
                    s.busy.push((s0, s0 + 30));
                }
            }
            s
        })
        .collect();
    let rules = Rules {
        now: Utc.with_ymd_and_hms(2027, 2, 28, 0, 0, 0).unwrap(),
        min_notice_minutes: 60,
        horizon_days: 60,
    };
    let to = from + chrono::Duration::days(29);
    let mut times = Vec::new();
    let mut slots = 0;
    for _ in 0..300 {
        let t = Instant::now();
        slots = free_slots(&office, &specialists, &rules, from, to, 30).len();
        times.push(t.elapsed());
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "availability: 20 specialists x 30 days, {slots} free starts; p50 {:?}, p90 {:?}, p99 {:?} ({} runs)",
        p(0.5),
        p(0.9),
        p(0.99),
        times.len()
    );
}
