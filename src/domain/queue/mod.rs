//! The live queue: ticket numbers, the call-next ordering, the ticket's state machine and the
//! estimated wait. Pure rules; `store::queue` loads the rows and applies the decisions.

pub mod checkin;
pub mod hours;
pub mod number;
pub mod order;
pub mod ticket;

pub use number::TicketNumber;
pub use order::{CallPolicy, Candidate, Pick, pick_next};
pub use ticket::{Action, TicketStatus, Transition, transition};

/// Minutes a resident at `position` (1 = next) may expect to wait: the tickets ahead of them
/// times the average norm, spread over the desks serving. Rounded up; 0 for the next one.
pub fn estimated_wait_minutes(position: u32, avg_norm_minutes: u32, desks: u32) -> u32 {
    let ahead = position.saturating_sub(1);
    let desks = desks.max(1);
    (ahead * avg_norm_minutes).div_ceil(desks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimated_wait_spreads_over_desks() {
        assert_eq!(estimated_wait_minutes(1, 10, 1), 0);
        assert_eq!(estimated_wait_minutes(3, 10, 1), 20);
        assert_eq!(estimated_wait_minutes(3, 10, 3), 7);
        assert_eq!(estimated_wait_minutes(5, 7, 0), 28);
    }
}
