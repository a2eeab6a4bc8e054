//! A resident's booking details, parsed once: name, contacts normalized so one person is
//! recognised however they type their phone or email, and the language of their messages.

use crate::domain::lang::Lang;
use crate::domain::validation::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub phone: Option<String>,
    /// Digits only, with the Ukrainian country code: `380671234567`.
    pub phone_norm: Option<String>,
    pub email: Option<String>,
    /// Lower case, trimmed.
    pub email_norm: Option<String>,
    /// Personal account number, digits only.
    pub account: Option<String>,
    pub lang: Lang,
}

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// "+38 (067) 123-45-67", "0671234567", "380671234567" → "380671234567".
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let other = s
        .chars()
        .any(|c| !(c.is_ascii_digit() || " +-()".contains(c)));
    if other {
        return None;
    }
    let full = match digits.len() {
        10 if digits.starts_with('0') => format!("38{digits}"),
        12 if digits.starts_with("380") => digits,
        // Other countries: 8 to 15 digits as typed (E.164 length).
        8..=15 if s.trim_start().starts_with('+') => digits,
        _ => return None,
    };
    Some(full)
}

/// A plain check: one `@`, something before it, a dot in the domain, no spaces.
pub fn normalize_email(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254;
    ok.then_some(s)
}

/// Parses the resident's details, reporting every fault at once.
pub fn parse_contact(
    name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    account: Option<&str>,
    lang: Option<&str>,
) -> Result<Contact, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::bilingual(
            "name",
            "Вкажіть ім'я.",
            "Enter your name.",
        ));
    } else if name.chars().count() > 120 {
        errors.push(FieldError::bilingual(
            "name",
            "Ім'я задовге (до 120 символів).",
            "The name is too long (up to 120 characters).",
        ));
    }
    let phone = blank(phone);
    let phone_norm = phone.and_then(normalize_phone);
    if phone.is_some() && phone_norm.is_none() {
        errors.push(FieldError::bilingual(
            "phone",
            "Невірний номер телефону, наприклад 067 123 45 67.",
            "Not a valid phone number, e.g. 067 123 45 67.",
        ));
    }
    let email = blank(email);
    let email_norm = email.and_then(normalize_email);
    if email.is_some() && email_norm.is_none() {
        errors.push(FieldError::bilingual(
            "email",
            "Невірна адреса електронної пошти.",
            "Not a valid email address.",
        ));
    }
    if phone.is_none() && email.is_none() {
        errors.push(FieldError::bilingual(
            "phone",
            "Вкажіть телефон або електронну пошту.",
            "Enter a phone number or an email address.",
        ));
    }
    let account = blank(account);
    if let Some(a) = account
        && (a.len() > 20 || !a.chars().all(|c| c.is_ascii_digit()))
    {
        errors.push(FieldError::bilingual(
            "account",
            "Особовий рахунок складається з цифр (до 20).",
            "The personal account number is digits only (up to 20).",
        ));
    }
    let lang = match blank(lang) {
        None => Lang::Uk,
        Some(l) => match Lang::parse(l) {
            Some(l) => l,
            None => {
                errors.push(FieldError::bilingual(
                    "lang",
                    "Мова: uk або en.",
                    "Language: uk or en.",
                ));
                Lang::Uk
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Contact {
        name: name.to_string(),
        phone: phone.map(str::to_string),
        phone_norm,
        email: email.map(str::to_string),
        email_norm,
        account: account.map(str::to_string),
        lang,
    })
}

/// The short code a resident types at the kiosk: 6 characters without look-alikes, made from
/// the random bytes given.
pub fn booking_code(random: [u8; 6]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFHJKLMNPRSTUVWXYZ23456789";
    random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalize() {
        assert_eq!(
            normalize_phone("+38 (067) 123-45-67").as_deref(),
            Some("380671234567")
        );
        assert_eq!(
            normalize_phone("0671234567").as_deref(),
            Some("380671234567")
        );
        assert_eq!(
            normalize_phone("380671234567").as_deref(),
            Some("380671234567")
        );
        assert_eq!(
            normalize_phone("+48 601 234 567").as_deref(),
            Some("48601234567")
        );
        assert_eq!(normalize_phone("12345"), None);
        assert_eq!(normalize_phone("067abc4567"), None);
    }

    #[test]
    fn emails_normalize() {
        assert_eq!(
            normalize_email(" Olena@Example.COM ").as_deref(),
            Some("olena@example.com")
        );
        assert_eq!(normalize_email("no-at.example.com"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a b@c.ua"), None);
    }

    #[test]
    fn contact_reports_every_fault() {
        let errs = parse_contact(" ", Some("12"), Some("x"), Some("12a"), Some("de")).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "phone", "email", "account", "lang"]);
        let errs = parse_contact("Olena", None, Some(""), None, None).unwrap_err();
        assert_eq!(errs[0].field, "phone");
        let ok = parse_contact("Olena", Some("067 123 45 67"), None, Some(""), Some("en")).unwrap();
        assert_eq!(ok.phone_norm.as_deref(), Some("380671234567"));
        assert_eq!(ok.account, None);
        assert_eq!(ok.lang, Lang::En);
    }

    #[test]
    fn codes_use_the_alphabet() {
        let c = booking_code([0, 1, 29, 30, 255, 100]);
        assert_eq!(c.len(), 6);
        assert!(
            c.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
        );
        assert!(!c.contains('0') && !c.contains('O') && !c.contains('1') && !c.contains('I'));
    }
}
