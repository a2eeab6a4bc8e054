//! A ticket's life: waiting → called → in_service → finished, or → no_show; recalls, transfer
//! and return put it back in the queue with its original arrival time.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Waiting,
    Called,
    InService,
    Finished,
    NoShow,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::Waiting,
        TicketStatus::Called,
        TicketStatus::InService,
        TicketStatus::Finished,
        TicketStatus::NoShow,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::InService => "in_service",
            TicketStatus::Finished => "finished",
            TicketStatus::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.code() == s)
    }

    /// Called or in service: the desk is busy with it.
    pub fn is_at_desk(self) -> bool {
        matches!(self, TicketStatus::Called | TicketStatus::InService)
    }
}

/// What a desk does to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Call,
    Recall,
    Start,
    Finish,
    NoShow,
    Transfer,
    Return,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Call,
        Action::Recall,
        Action::Start,
        Action::Finish,
        Action::NoShow,
        Action::Transfer,
        Action::Return,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Call => "call",
            Action::Recall => "recall",
            Action::Start => "start",
            Action::Finish => "finish",
            Action::NoShow => "no-show",
            Action::Transfer => "transfer",
            Action::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == s)
    }
}

/// The outcome of an allowed action: the new status and recall count, and the board event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: TicketStatus,
    pub to: TicketStatus,
    pub recalls: u32,
    /// `called`, `recalled`, `started`, `finished`, `no_show`, `transferred`, `returned`.
    pub event: &'static str,
}

/// Applies `action` to a ticket in `status` that was recalled `recalls` times. A recall past
/// `max_recalls` marks the ticket a no-show. `None` when the action is not allowed now.
pub fn transition(
    status: TicketStatus,
    recalls: u32,
    action: Action,
    max_recalls: u32,
) -> Option<Transition> {
    use TicketStatus::*;
    let (to, recalls, event) = match (action, status) {
        (Action::Call, Waiting) => (Called, 0, "called"),
        (Action::Recall, Called) if recalls >= max_recalls => (NoShow, recalls, "no_show"),
        (Action::Recall, Called) => (Called, recalls + 1, "recalled"),
        (Action::Start, Called) => (InService, recalls, "started"),
        (Action::Finish, InService) => (Finished, recalls, "finished"),
        (Action::NoShow, Called) => (NoShow, recalls, "no_show"),
        (Action::Transfer, Called | InService) => (Waiting, 0, "transferred"),
        (Action::Return, Called | InService) => (Waiting, 0, "returned"),
        _ => return None,
    };
    Some(Transition {
        from: status,
        to,
        recalls,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn happy_path() {
        let t = transition(Waiting, 0, Action::Call, 2).unwrap();
        assert_eq!(t.to, Called);
        let t = transition(t.to, t.recalls, Action::Start, 2).unwrap();
        assert_eq!(t.to, InService);
        let t = transition(t.to, t.recalls, Action::Finish, 2).unwrap();
        assert_eq!((t.to, t.event), (Finished, "finished"));
    }

    #[test]
    fn recall_counts_then_no_show() {
        let t = transition(Called, 0, Action::Recall, 2).unwrap();
        assert_eq!((t.to, t.recalls, t.event), (Called, 1, "recalled"));
        let t = transition(t.to, t.recalls, Action::Recall, 2).unwrap();
        assert_eq!((t.to, t.recalls), (Called, 2));
        let t = transition(t.to, t.recalls, Action::Recall, 2).unwrap();
        assert_eq!((t.to, t.event), (NoShow, "no_show"));
    }

    #[test]
    fn transfer_and_return_go_back_to_waiting() {
        for a in [Action::Transfer, Action::Return] {
            assert_eq!(transition(Called, 1, a, 2).unwrap().to, Waiting);
            assert_eq!(transition(InService, 0, a, 2).unwrap().to, Waiting);
            assert_eq!(transition(Waiting, 0, a, 2), None);
        }
    }

    #[test]
    fn wrong_states_are_refused() {
        assert_eq!(transition(Waiting, 0, Action::Start, 2), None);
        assert_eq!(transition(Waiting, 0, Action::Finish, 2), None);
        assert_eq!(transition(Called, 0, Action::Finish, 2), None);
        assert_eq!(transition(Finished, 0, Action::Call, 2), None);
        assert_eq!(transition(NoShow, 0, Action::Recall, 2), None);
        assert_eq!(transition(InService, 0, Action::Call, 2), None);
    }

    #[test]
    fn codes_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.code()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
        }
    }
}
