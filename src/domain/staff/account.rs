//! A staff account's fields, parsed once with their length limits (OWASP ASVS 2.1, 5.1).

use super::Role;
use crate::domain::validation::FieldError;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 64;
pub const DISPLAY_NAME_MAX: usize = 100;
/// why: ASVS 2.1.1 asks for at least 12 characters; 128 bounds the work of hashing one.
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// A new account, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// A change to an account by an administrator; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `Some(None)` unlinks the account from its specialist.
    pub specialist_id: Option<Option<i32>>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Lower-case Latin letters, digits, `.`, `_`, `-`; 3 to 64 characters.
pub fn parse_username(raw: &str) -> Result<String, FieldError> {
    let u = raw.trim().to_lowercase();
    if u.is_empty() {
        return Err(FieldError::bilingual(
            "username",
            "Вкажіть ім'я користувача.",
            "Enter the username.",
        ));
    }
    if chars(&u) < USERNAME_MIN || chars(&u) > USERNAME_MAX {
        return Err(FieldError::bilingual(
            "username",
            format!("Ім'я користувача має містити від {USERNAME_MIN} до {USERNAME_MAX} символів."),
            format!("The username must be {USERNAME_MIN} to {USERNAME_MAX} characters long."),
        ));
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(FieldError::bilingual(
            "username",
            "Ім'я користувача може містити лише латинські літери, цифри та знаки . _ -",
            "The username may contain only Latin letters, digits and . _ -",
        ));
    }
    Ok(u)
}

pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    let d = raw.trim();
    if d.is_empty() {
        return Err(FieldError::bilingual(
            "display_name",
            "Вкажіть ім'я, яке бачитимуть інші.",
            "Enter the name others will see.",
        ));
    }
    if chars(d) > DISPLAY_NAME_MAX {
        return Err(FieldError::bilingual(
            "display_name",
            format!("Ім'я має бути не довшим за {DISPLAY_NAME_MAX} символів."),
            format!("The name must be at most {DISPLAY_NAME_MAX} characters long."),
        ));
    }
    Ok(d.to_string())
}

/// A new password (not trimmed: spaces count).
pub fn check_new_password(field: &str, raw: &str) -> Result<String, FieldError> {
    let n = chars(raw);
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(FieldError::bilingual(
            field,
            format!("Пароль має містити від {PASSWORD_MIN} до {PASSWORD_MAX} символів."),
            format!("The password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."),
        ));
    }
    Ok(raw.to_string())
}

pub fn parse_role(raw: &str) -> Result<Role, FieldError> {
    Role::parse(raw.trim()).ok_or_else(|| {
        FieldError::bilingual(
            "role",
            "Оберіть роль: admin, supervisor, specialist або kiosk.",
            "Choose a role: admin, supervisor, specialist or kiosk.",
        )
    })
}

/// Checks every field of a new account and reports every fault at once.
pub fn validate_new_account(
    username: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> Result<NewAccount, Vec<FieldError>> {
    let (u, d, r, p) = (
        parse_username(username),
        parse_display_name(display_name),
        parse_role(role),
        check_new_password("password", password),
    );
    match (u, d, r, p) {
        (Ok(username), Ok(display_name), Ok(role), Ok(password)) => Ok(NewAccount {
            username,
            display_name,
            role,
            password,
        }),
        (u, d, r, p) => Err([u.err(), d.err(), r.err(), p.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// What a sign-in attempt may carry before any hashing: longer input is refused outright.
pub fn check_sign_in(username: &str, password: &str) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if username.trim().is_empty() {
        errors.push(FieldError::bilingual(
            "username",
            "Вкажіть ім'я користувача.",
            "Enter the username.",
        ));
    } else if chars(username.trim()) > USERNAME_MAX {
        errors.push(FieldError::bilingual(
            "username",
            format!("Ім'я користувача має бути не довшим за {USERNAME_MAX} символів."),
            format!("The username must be at most {USERNAME_MAX} characters long."),
        ));
    }
    if password.is_empty() {
        errors.push(FieldError::bilingual(
            "password",
            "Вкажіть пароль.",
            "Enter the password.",
        ));
    } else if chars(password) > PASSWORD_MAX {
        errors.push(FieldError::bilingual(
            "password",
            format!("Пароль має бути не довшим за {PASSWORD_MAX} символів."),
            format!("The password must be at most {PASSWORD_MAX} characters long."),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_bounded() {
        assert_eq!(parse_username("  Olena.K ").unwrap(), "olena.k");
        assert!(parse_username("ab").is_err());
        assert!(parse_username(&"a".repeat(65)).is_err());
        assert!(parse_username(&"a".repeat(64)).is_ok());
        assert!(parse_username("олена").is_err());
        assert!(parse_username("a b c").is_err());
    }

    #[test]
    fn passwords_are_bounded_in_characters() {
        assert!(check_new_password("password", "short").is_err());
        assert!(check_new_password("password", &"я".repeat(12)).is_ok());
        assert!(check_new_password("password", &"x".repeat(129)).is_err());
    }

    #[test]
    fn every_fault_is_reported() {
        let e = validate_new_account("", &"x".repeat(101), "root", "1").unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["username", "display_name", "role", "password"]);
        let ok = validate_new_account("kiosk1", "Кіоск", "kiosk", "a-long-password").unwrap();
        assert_eq!(ok.role, Role::Kiosk);
    }

    #[test]
    fn sign_in_refuses_huge_input_before_hashing() {
        assert_eq!(check_sign_in("", "").unwrap_err().len(), 2);
        assert!(check_sign_in("admin", &"x".repeat(100_000)).is_err());
        assert!(check_sign_in("admin", "x").is_ok());
    }
}
