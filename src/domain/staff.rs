//! Staff roles and what each may do; accounts, sign-in throttling and the center's contacts.

pub mod account;
pub mod center;
pub mod throttle;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Supervisor,
    Specialist,
    Kiosk,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Specialist, Role::Kiosk];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Specialist => "specialist",
            Role::Kiosk => "kiosk",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Editing the catalog and staff is an administrator's job.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// Offices and specialists are edited by admins and seen by supervisors, who plan the
    /// desks and answer for the bookings.
    pub fn can_view_offices(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }

    /// Staff pages (desk, reports) are open to every role but the kiosk, which only issues tickets.
    pub fn is_staff_desk(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor | Role::Specialist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_admin_administers() {
        assert!(Role::Admin.can_administer());
        assert!(!Role::Supervisor.can_administer());
        assert!(Role::Supervisor.can_view_offices());
        assert!(!Role::Specialist.can_view_offices());
        assert!(!Role::Kiosk.is_staff_desk());
    }
}
