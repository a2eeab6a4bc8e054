//! The center's public contacts, edited by the administrator and shown on the home page.

use serde::{Deserialize, Serialize};

use crate::domain::catalog::Center;
use crate::domain::lang::Text;
use crate::domain::validation::FieldError;

pub const NAME_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 300;
pub const PHONE_MAX: usize = 40;
pub const EMAIL_MAX: usize = 254;
pub const WEBSITE_MAX: usize = 200;
pub const HOURS_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterContacts {
    pub name: Text,
    pub address: Text,
    pub phone: String,
    pub email: String,
    pub website: String,
    /// Free text ("Пн–Чт 8:00–17:00, Пт 8:00–15:45"); may be empty.
    #[serde(default = "empty_text")]
    pub hours: Text,
}

fn empty_text() -> Text {
    Text::new("", "")
}

impl From<Center> for CenterContacts {
    /// The catalog file's `[center]` seeds the contacts on first start.
    fn from(c: Center) -> Self {
        CenterContacts {
            name: c.name,
            address: c.address,
            phone: c.phone,
            email: c.email,
            website: c.website,
            hours: empty_text(),
        }
    }
}

impl CenterContacts {
    /// The phone as a `tel:` target: "(044) 247-40-40" dials as +380442474040.
    pub fn phone_href(&self) -> String {
        let digits: String = self.phone.chars().filter(char::is_ascii_digit).collect();
        if self.phone.trim_start().starts_with('+') {
            format!("+{digits}")
        } else {
            format!("+38{digits}")
        }
    }
}

/// The contacts form or JSON, as sent.
#[derive(Debug, Clone, Default)]
pub struct ContactsInput<'a> {
    pub name_uk: &'a str,
    pub name_en: &'a str,
    pub address_uk: &'a str,
    pub address_en: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub website: &'a str,
    pub hours_uk: &'a str,
    pub hours_en: &'a str,
}

fn field(
    errors: &mut Vec<FieldError>,
    name: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let v = raw.trim();
    if required && v.is_empty() {
        errors.push(FieldError::bilingual(
            name,
            "Заповніть це поле.",
            "Fill in this field.",
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::bilingual(
            name,
            format!("Не довше за {max} символів."),
            format!("At most {max} characters."),
        ));
    }
    v.to_string()
}

pub fn validate_contacts(i: &ContactsInput) -> Result<CenterContacts, Vec<FieldError>> {
    let mut e = Vec::new();
    let c = CenterContacts {
        name: Text::new(
            field(&mut e, "name_uk", i.name_uk, NAME_MAX, true),
            field(&mut e, "name_en", i.name_en, NAME_MAX, true),
        ),
        address: Text::new(
            field(&mut e, "address_uk", i.address_uk, ADDRESS_MAX, true),
            field(&mut e, "address_en", i.address_en, ADDRESS_MAX, true),
        ),
        phone: field(&mut e, "phone", i.phone, PHONE_MAX, true),
        email: field(&mut e, "email", i.email, EMAIL_MAX, true),
        website: field(&mut e, "website", i.website, WEBSITE_MAX, false),
        hours: Text::new(
            field(&mut e, "hours_uk", i.hours_uk, HOURS_MAX, false),
            field(&mut e, "hours_en", i.hours_en, HOURS_MAX, false),
        ),
    };
    if !c.phone.is_empty()
        && !c
            .phone
            .chars()
            .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch))
    {
        e.push(FieldError::bilingual(
            "phone",
            "Телефон може містити лише цифри, пробіли та знаки + - ( ).",
            "The phone may contain only digits, spaces and + - ( ).",
        ));
    }
    let at = c.email.split_once('@');
    if !c.email.is_empty()
        && !at.is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !c.email.contains(char::is_whitespace)
        })
    {
        e.push(FieldError::bilingual(
            "email",
            "Вкажіть адресу електронної пошти, як-от name@example.com.",
            "Enter an email address such as name@example.com.",
        ));
    }
    if e.is_empty() { Ok(c) } else { Err(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ContactsInput<'static> {
        ContactsInput {
            name_uk: "ЦКС",
            name_en: "CSC",
            address_uk: "вул. Хрещатик, 1",
            address_en: "1 Khreshchatyk St",
            phone: "(044) 247-40-40",
            email: "cks@example.com",
            website: "",
            hours_uk: "",
            hours_en: "",
        }
    }

    #[test]
    fn valid_contacts_parse() {
        let c = validate_contacts(&input()).unwrap();
        assert_eq!(c.phone_href(), "+380442474040");
        assert_eq!(c.address.en, "1 Khreshchatyk St");
    }

    #[test]
    fn faults_are_named() {
        let long = "a".repeat(301);
        let i = ContactsInput {
            address_uk: &long,
            email: "nope",
            phone: "call us",
            name_en: " ",
            ..input()
        };
        let e = validate_contacts(&i).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name_en", "address_uk", "phone", "email"]);
    }
}
