//! Call-next: which waiting ticket a desk calls.
//!
//! The ordering, in this order:
//! 1. **Appointments due**: tickets of booked residents whose slot starts at most
//!    `grace_minutes` from now, earliest slot first.
//! 2. **Starvation guard**: any other ticket that has waited `max_wait_minutes` or more, longest
//!    wait first, whatever its class.
//! 3. **Priority and walk-ins by waiting time with a ratio**: after `priority_ratio` priority
//!    tickets in a row at this desk, one normal ticket goes next (when one waits); otherwise the
//!    longest-waiting priority ticket, else the longest-waiting normal ticket.
//! 4. Appointments not yet due are called only when nobody else waits (served early).
//!
//! Ties are broken by ticket id, so the choice is deterministic.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// An appointment is due from `grace_minutes` before its slot.
    pub grace_minutes: u32,
    /// Priority tickets called in a row before a normal one gets its turn.
    pub priority_ratio: u32,
    /// Anyone who has waited this long is called before priority and normal tickets.
    pub max_wait_minutes: u32,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            grace_minutes: 5,
            priority_ratio: 2,
            max_wait_minutes: 45,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i32,
    /// When the resident joined the queue (kept through transfers and returns).
    pub arrived_at: DateTime<Utc>,
    pub priority: bool,
    /// Slot start of a booked resident's appointment.
    pub appointment_at: Option<DateTime<Utc>>,
}

/// The decision: which ticket, why, and the desk's priority streak after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub id: i32,
    pub reason: Reason,
    pub streak: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    AppointmentDue,
    WaitedTooLong,
    Priority,
    Normal,
    EarlyAppointment,
}

/// Chooses the next ticket among `candidates` (already filtered to the desk's services).
/// `streak` is how many priority tickets this desk called in a row before.
pub fn pick_next(
    candidates: &[Candidate],
    now: DateTime<Utc>,
    policy: &CallPolicy,
    streak: u32,
) -> Option<Pick> {
    let due_until = now + Duration::minutes(i64::from(policy.grace_minutes));
    let starve_before = now - Duration::minutes(i64::from(policy.max_wait_minutes));
    let oldest = |pred: &dyn Fn(&Candidate) -> bool| {
        candidates
            .iter()
            .filter(|c| pred(c))
            .min_by_key(|c| (c.arrived_at, c.id))
    };
    let pick = |c: &Candidate, reason: Reason| {
        let streak = match reason {
            Reason::Priority => streak + 1,
            Reason::Normal => 0,
            Reason::WaitedTooLong if c.priority => streak + 1,
            Reason::WaitedTooLong => 0,
            _ => streak,
        };
        Some(Pick {
            id: c.id,
            reason,
            streak,
        })
    };

    if let Some(c) = candidates
        .iter()
        .filter(|c| c.appointment_at.is_some_and(|at| at <= due_until))
        .min_by_key(|c| (c.appointment_at, c.id))
    {
        return pick(c, Reason::AppointmentDue);
    }
    let walk_in = |c: &Candidate| c.appointment_at.is_none();
    if let Some(c) = oldest(&|c| walk_in(c) && c.arrived_at <= starve_before) {
        return pick(c, Reason::WaitedTooLong);
    }
    let priority = oldest(&|c| walk_in(c) && c.priority);
    let normal = oldest(&|c| walk_in(c) && !c.priority);
    match (priority, normal) {
        (Some(p), Some(_)) if streak < policy.priority_ratio => pick(p, Reason::Priority),
        (_, Some(n)) => pick(n, Reason::Normal),
        (Some(p), None) => pick(p, Reason::Priority),
        (None, None) => candidates
            .iter()
            .min_by_key(|c| (c.appointment_at, c.id))
            .and_then(|c| pick(c, Reason::EarlyAppointment)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap()
    }

    fn walk_in(id: i32, minute: i64, priority: bool) -> Candidate {
        Candidate {
            id,
            arrived_at: t0() + Duration::minutes(minute),
            priority,
            appointment_at: None,
        }
    }

    fn booked(id: i32, arrived: i64, slot: i64) -> Candidate {
        Candidate {
            id,
            arrived_at: t0() + Duration::minutes(arrived),
            priority: false,
            appointment_at: Some(t0() + Duration::minutes(slot)),
        }
    }

    /// Calls everyone, one after another, at `now`, returning the order of ids.
    fn drain(mut c: Vec<Candidate>, now: DateTime<Utc>, policy: &CallPolicy) -> Vec<i32> {
        let mut streak = 0;
        let mut out = Vec::new();
        while let Some(p) = pick_next(&c, now, policy, streak) {
            streak = p.streak;
            out.push(p.id);
            c.retain(|x| x.id != p.id);
        }
        out
    }

    #[test]
    fn nobody_waiting_means_none() {
        assert_eq!(pick_next(&[], t0(), &CallPolicy::default(), 0), None);
    }

    #[test]
    fn walk_ins_by_waiting_time() {
        let c = vec![
            walk_in(1, 5, false),
            walk_in(2, 1, false),
            walk_in(3, 3, false),
        ];
        let now = t0() + Duration::minutes(10);
        assert_eq!(drain(c, now, &CallPolicy::default()), vec![2, 3, 1]);
    }

    #[test]
    fn ratio_two_priority_then_one_normal() {
        let c = vec![
            walk_in(1, 0, false),
            walk_in(2, 1, false),
            walk_in(3, 2, true),
            walk_in(4, 3, true),
            walk_in(5, 4, true),
            walk_in(6, 5, true),
        ];
        let now = t0() + Duration::minutes(10);
        assert_eq!(
            drain(c, now, &CallPolicy::default()),
            vec![3, 4, 1, 5, 6, 2]
        );
    }

    #[test]
    fn ratio_zero_means_no_priority_advantage_beyond_alternation() {
        let policy = CallPolicy {
            priority_ratio: 0,
            ..CallPolicy::default()
        };
        let c = vec![
            walk_in(1, 0, false),
            walk_in(2, 1, true),
            walk_in(3, 2, false),
        ];
        let now = t0() + Duration::minutes(10);
        assert_eq!(drain(c, now, &policy), vec![1, 3, 2]);
    }

    #[test]
    fn appointments_due_come_first_by_slot_time() {
        let c = vec![
            walk_in(1, 0, true),
            booked(2, 5, 32),
            booked(3, 1, 30),
            booked(4, 0, 90),
            walk_in(5, 1, false),
        ];
        // At 08:30 with 5 minutes of grace, slots up to 08:35 are due: 3 (08:30), 2 (08:32).
        let now = t0() + Duration::minutes(30);
        let order = drain(c, now, &CallPolicy::default());
        assert_eq!(order, vec![3, 2, 1, 5, 4]);
    }

    #[test]
    fn starvation_guard_beats_priority() {
        let policy = CallPolicy {
            max_wait_minutes: 30,
            ..CallPolicy::default()
        };
        let c = vec![
            walk_in(1, 0, false),
            walk_in(2, 35, true),
            walk_in(3, 36, true),
        ];
        // At 08:40 ticket 1 has waited 40 minutes: it goes before the priority tickets.
        let now = t0() + Duration::minutes(40);
        let first = pick_next(&c, now, &policy, 0).unwrap();
        assert_eq!((first.id, first.reason), (1, Reason::WaitedTooLong));
        assert_eq!(first.streak, 0);
    }

    #[test]
    fn transferred_ticket_keeps_its_place_by_arrival() {
        // A ticket transferred from another service keeps its original arrival time, so it
        // goes before later arrivals of the new service.
        let c = vec![walk_in(1, 10, false), walk_in(2, 2, false)];
        let now = t0() + Duration::minutes(12);
        assert_eq!(pick_next(&c, now, &CallPolicy::default(), 0).unwrap().id, 2);
    }

    proptest! {
        /// Whatever arrives, every ticket present is called within a bounded number of calls:
        /// after the guard's wait, it goes first among walk-ins (only due appointments and
        /// older starving tickets can go before it).
        #[test]
        fn nobody_starves(
            arrivals in proptest::collection::vec((0i64..600, any::<bool>()), 1..60),
            ratio in 0u32..5,
        ) {
            let policy = CallPolicy { grace_minutes: 5, priority_ratio: ratio, max_wait_minutes: 30 };
            // One call per minute, new arrivals keep coming, mostly priority.
            let mut waiting: Vec<Candidate> = Vec::new();
            let mut pending: Vec<Candidate> = arrivals
                .iter()
                .enumerate()
                .map(|(i, (m, p))| walk_in(i as i32, *m, *p))
                .collect();
            pending.sort_by_key(|c| c.arrived_at);
            let mut streak = 0;
            let mut minute = 0i64;
            let mut called_at: std::collections::HashMap<i32, i64> = Default::default();
            while (!pending.is_empty() || !waiting.is_empty()) && minute < 10_000 {
                let now = t0() + Duration::minutes(minute);
                let (arrived, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|c| c.arrived_at <= now);
                pending = rest;
                waiting.extend(arrived);
                if let Some(p) = pick_next(&waiting, now, &policy, streak) {
                    streak = p.streak;
                    called_at.insert(p.id, minute);
                    waiting.retain(|c| c.id != p.id);
                }
                minute += 1;
            }
            for c in arrivals.iter().enumerate().map(|(i, (m, p))| walk_in(i as i32, *m, *p)) {
                let called = called_at.get(&c.id).copied();
                prop_assert!(called.is_some(), "ticket {} never called", c.id);
                let waited = called.unwrap() - (c.arrived_at - t0()).num_minutes();
                // At most the guard plus the queue that was already starving before it.
                prop_assert!(waited <= 30 + arrivals.len() as i64, "ticket {} waited {waited}", c.id);
            }
        }
    }
}
