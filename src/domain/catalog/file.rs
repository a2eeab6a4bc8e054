//! The catalog file (TOML) and the checks that make it a usable catalog.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::edit::MAX_TITLE_CHARS;
use super::error::{CatalogError, CodeOwner, SyntaxProblem};
use super::notation::{Channel, DurationRange, parse_channels, parse_duration};
use crate::domain::lang::Text;

/// A validated catalog: categories and services in their published order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub center: Center,
    pub categories: Vec<Category>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Center {
    pub name: Text,
    pub phone: String,
    pub website: String,
    pub email: String,
    /// As published; the seed has only "адреса районного центру" (each district has its own).
    pub address: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub code: String,
    /// The letter on walk-in tickets of this category ("А-017").
    pub letter: char,
    /// `uk` is the published title, verbatim; `en` our translation.
    pub title: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub code: String,
    /// The code of the service's category.
    pub category: String,
    /// `uk` is the published title, verbatim; `en` our translation.
    pub title: Text,
    pub duration: DurationRange,
    /// The duration as published ("3-5 хв."), for showing it unchanged.
    pub duration_text: String,
    pub channels: Vec<Channel>,
    /// The channels as published ("контактний центр особистий візит"), for showing them unchanged.
    pub channels_text: String,
}

impl Catalog {
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// The services of one category, in published order.
    pub fn services_in<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| s.category == category)
    }
}

impl Service {
    pub fn has_channel(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }
}

/// The largest catalog file an import reads (the shipped one is about 15 KB).
pub const MAX_CATALOG_BYTES: usize = 512 * 1024;
/// The longest center name, phone, website, e-mail or address kept.
pub const MAX_CENTER_FIELD_CHARS: usize = 200;
/// The longest code, duration or channel notation kept.
const MAX_SHORT_FIELD_CHARS: usize = 100;

// The file's shape. Unknown fields are refused so a typo ("titel") is not silently ignored.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    center: CenterFile,
    #[serde(default)]
    categories: Vec<CategoryFile>,
    #[serde(default)]
    services: Vec<ServiceFile>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CenterFile {
    name_uk: String,
    name_en: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address_uk: String,
    #[serde(default)]
    address_en: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    code: String,
    letter: String,
    title: String,
    title_en: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    code: String,
    category: String,
    title: String,
    title_en: String,
    duration: String,
    channels: String,
}

/// Reads and checks a catalog file. The first problem found is returned, naming the record at fault.
pub fn parse_catalog(toml_text: &str) -> Result<Catalog, CatalogError> {
    if toml_text.len() > MAX_CATALOG_BYTES {
        return Err(CatalogError::Syntax {
            line: None,
            problem: SyntaxProblem::TooLarge {
                max_bytes: MAX_CATALOG_BYTES,
            },
        });
    }
    // why: read as plain TOML first, so a broken file and a file of the wrong shape get
    // different messages of our own rather than the parser's English one.
    toml::from_str::<toml::Table>(toml_text)
        .map_err(|e| syntax_error(toml_text, &e, SyntaxProblem::Toml))?;
    let file: CatalogFile = toml::from_str(toml_text).map_err(|e| {
        let problem = shape_problem(e.message());
        syntax_error(toml_text, &e, problem)
    })?;
    check_center_lengths(&file.center)?;

    let center = Center {
        name: Text::new(file.center.name_uk.trim(), file.center.name_en.trim()),
        phone: file.center.phone.trim().to_string(),
        website: file.center.website.trim().to_string(),
        email: file.center.email.trim().to_string(),
        address: Text::new(file.center.address_uk.trim(), file.center.address_en.trim()),
    };
    if center.name.uk.is_empty() || center.name.en.is_empty() {
        return Err(CatalogError::EmptyCenterName);
    }

    let mut codes = HashSet::new();
    let mut letters = HashSet::new();
    let mut categories = Vec::with_capacity(file.categories.len());
    for raw in file.categories {
        let code = checked_code(CodeOwner::Category, &raw.code, &mut codes)?;
        let letter = single_capital(&raw.letter).ok_or_else(|| CatalogError::BadLetter {
            letter: raw.letter.clone(),
            code: code.clone(),
        })?;
        if !letters.insert(letter) {
            return Err(CatalogError::DuplicateLetter {
                letter: letter.to_string(),
                code,
            });
        }
        let title = checked_title(CodeOwner::Category, &code, &raw.title, &raw.title_en)?;
        categories.push(Category {
            code,
            letter,
            title,
        });
    }

    let mut codes = HashSet::new();
    let mut services = Vec::with_capacity(file.services.len());
    for raw in file.services {
        let code = checked_code(CodeOwner::Service, &raw.code, &mut codes)?;
        let in_service = |source: CatalogError| CatalogError::InService {
            service: code.clone(),
            source: Box::new(source),
        };
        let category = raw.category.trim().to_string();
        if !categories.iter().any(|c| c.code == category) {
            return Err(CatalogError::UnknownCategory {
                service: code,
                category,
            });
        }
        let title = checked_title(CodeOwner::Service, &code, &raw.title, &raw.title_en)?;
        check_len(
            &code,
            "duration",
            raw.duration.trim(),
            MAX_SHORT_FIELD_CHARS,
        )?;
        check_len(
            &code,
            "channels",
            raw.channels.trim(),
            MAX_SHORT_FIELD_CHARS,
        )?;
        let duration = parse_duration(&raw.duration).map_err(in_service)?;
        let channels = parse_channels(&raw.channels).map_err(in_service)?;
        services.push(Service {
            code,
            category,
            title,
            duration,
            duration_text: raw.duration.trim().to_string(),
            channels,
            channels_text: raw.channels.trim().to_string(),
        });
    }

    Ok(Catalog {
        center,
        categories,
        services,
    })
}

/// Names what serde found wrong, from its message ("missing field `title_en`").
fn shape_problem(message: &str) -> SyntaxProblem {
    let quoted = |prefix: &str| {
        let rest = message.trim().strip_prefix(prefix)?;
        let rest = rest.strip_prefix('`')?;
        Some(rest.split('`').next()?.to_string())
    };
    if let Some(f) = quoted("missing field ") {
        SyntaxProblem::MissingField(f)
    } else if let Some(f) = quoted("unknown field ") {
        SyntaxProblem::UnknownField(f)
    } else {
        SyntaxProblem::WrongType
    }
}

fn check_len(code: &str, field: &str, value: &str, max: usize) -> Result<(), CatalogError> {
    if value.chars().count() > max {
        return Err(CatalogError::TooLong {
            code: code.to_string(),
            field: field.to_string(),
            max,
        });
    }
    Ok(())
}

fn check_center_lengths(c: &CenterFile) -> Result<(), CatalogError> {
    for (field, value) in [
        ("name_uk", &c.name_uk),
        ("name_en", &c.name_en),
        ("phone", &c.phone),
        ("website", &c.website),
        ("email", &c.email),
        ("address_uk", &c.address_uk),
        ("address_en", &c.address_en),
    ] {
        check_len("", field, value.trim(), MAX_CENTER_FIELD_CHARS)?;
    }
    Ok(())
}

/// Writes a catalog in the file format `parse_catalog` reads (for export and re-import).
pub fn to_toml(catalog: &Catalog) -> String {
    let file = CatalogFile {
        center: CenterFile {
            name_uk: catalog.center.name.uk.clone(),
            name_en: catalog.center.name.en.clone(),
            phone: catalog.center.phone.clone(),
            website: catalog.center.website.clone(),
            email: catalog.center.email.clone(),
            address_uk: catalog.center.address.uk.clone(),
            address_en: catalog.center.address.en.clone(),
        },
        categories: catalog
            .categories
            .iter()
            .map(|c| CategoryFile {
                code: c.code.clone(),
                letter: c.letter.to_string(),
                title: c.title.uk.clone(),
                title_en: c.title.en.clone(),
            })
            .collect(),
        services: catalog
            .services
            .iter()
            .map(|s| ServiceFile {
                code: s.code.clone(),
                category: s.category.clone(),
                title: s.title.uk.clone(),
                title_en: s.title.en.clone(),
                duration: s.duration_text.clone(),
                channels: s.channels_text.clone(),
            })
            .collect(),
    };
    // why: every field is a string, a list or a table of strings, which TOML always represents.
    toml::to_string(&file).unwrap_or_default()
}

fn syntax_error(text: &str, e: &toml::de::Error, problem: SyntaxProblem) -> CatalogError {
    let line = e.span().map(|span| {
        let offset = span.start.min(text.len());
        text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    tracing::debug!(detail = e.message().trim(), "catalog file rejected");
    CatalogError::Syntax { line, problem }
}

/// Codes go into URLs, logs and the database, so they stay plain: `^[a-z0-9][a-z0-9-]*$`.
fn is_valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn checked_code(
    owner: CodeOwner,
    raw: &str,
    seen: &mut HashSet<String>,
) -> Result<String, CatalogError> {
    if !is_valid_code(raw) || raw.len() > MAX_SHORT_FIELD_CHARS {
        return Err(CatalogError::BadCode {
            owner,
            code: raw.to_string(),
        });
    }
    if !seen.insert(raw.to_string()) {
        return Err(CatalogError::DuplicateCode {
            owner,
            code: raw.to_string(),
        });
    }
    Ok(raw.to_string())
}

fn checked_title(owner: CodeOwner, code: &str, uk: &str, en: &str) -> Result<Text, CatalogError> {
    let title = Text::new(uk.trim(), en.trim());
    if title.uk.is_empty() || title.en.is_empty() {
        return Err(CatalogError::EmptyTitle {
            owner,
            code: code.to_string(),
        });
    }
    check_len(code, "title", &title.uk, MAX_TITLE_CHARS)?;
    check_len(code, "title_en", &title.en, MAX_TITLE_CHARS)?;
    Ok(title)
}

fn single_capital(s: &str) -> Option<char> {
    let mut chars = s.trim().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_alphabetic() && c.is_uppercase() => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::error::{ChannelsProblem, DurationProblem};

    const CENTER: &str = "[center]\nname_uk = \"Центр\"\nname_en = \"Center\"\n";

    fn category(code: &str, letter: &str) -> String {
        format!(
            "[[categories]]\ncode = \"{code}\"\nletter = \"{letter}\"\ntitle = \"Назва\"\ntitle_en = \"Title\"\n"
        )
    }

    fn service(code: &str, category: &str, duration: &str, channels: &str) -> String {
        format!(
            "[[services]]\ncode = \"{code}\"\ncategory = \"{category}\"\ntitle = \"Послуга\"\ntitle_en = \"Service\"\nduration = \"{duration}\"\nchannels = \"{channels}\"\n"
        )
    }

    fn err(text: &str) -> CatalogError {
        match parse_catalog(text) {
            Err(e) => e,
            Ok(c) => panic!("should be rejected: {c:?}"),
        }
    }

    #[test]
    fn a_small_catalog_parses() {
        let text = [
            CENTER.to_string(),
            category("payments", "А"),
            service(
                "payment-search",
                "payments",
                " 3-5 хв. ",
                "сайт особистий візит",
            ),
        ]
        .concat();
        let catalog = match parse_catalog(&text) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(catalog.categories[0].letter, 'А');
        let s = &catalog.services[0];
        assert_eq!(s.duration_text, "3-5 хв.");
        assert_eq!(
            s.duration,
            DurationRange {
                min: 3,
                max: Some(5)
            }
        );
        assert_eq!(s.channels, vec![Channel::Website, Channel::Visit]);
        assert_eq!(s.channels_text, "сайт особистий візит");
        assert!(s.has_channel(Channel::Visit) && !s.has_channel(Channel::ContactCenter));
        assert_eq!(catalog.services_in("payments").count(), 1);
        assert!(catalog.service("payment-search").is_some() && catalog.category("x").is_none());
    }

    #[test]
    fn toml_syntax_errors_give_the_line() {
        let text = format!("{CENTER}\n[[categories]]\ncode = \"payments\nletter = \"А\"\n");
        match err(&text) {
            CatalogError::Syntax { line, .. } => assert_eq!(line, Some(6)),
            other => panic!("{other:?}"),
        }
        let e = err(&text);
        assert!(e.text().uk.contains("рядок 6"), "{}", e.text().uk);
        assert!(e.text().en.contains("line 6"), "{}", e.text().en);
    }

    #[test]
    fn missing_and_unknown_fields_are_errors() {
        let missing =
            format!("{CENTER}[[categories]]\ncode = \"a\"\nletter = \"А\"\ntitle = \"Т\"\n");
        assert!(matches!(err(&missing), CatalogError::Syntax { .. }));
        let unknown = format!("{CENTER}{}titel = \"x\"\n", category("a", "А"));
        assert!(matches!(err(&unknown), CatalogError::Syntax { .. }));
        assert!(matches!(err(""), CatalogError::Syntax { .. }));
    }

    #[test]
    fn file_errors_are_our_own_words_in_both_languages() {
        let text = format!("{CENTER}\n[[categories]]\ncode = \"payments\nletter = \"А\"\n");
        let e = err(&text).text();
        assert_eq!(
            e.uk,
            "Файл каталогу, рядок 6: це не правильний TOML (перевірте лапки, дужки та знаки «=»)"
        );
        assert!(
            e.en.starts_with("Catalog file, line 6: this is not valid TOML"),
            "{}",
            e.en
        );
        let missing =
            format!("{CENTER}[[categories]]\ncode = \"a\"\nletter = \"А\"\ntitle = \"Т\"\n");
        match err(&missing) {
            CatalogError::Syntax { problem, .. } => {
                assert_eq!(problem, SyntaxProblem::MissingField("title_en".into()))
            }
            other => panic!("{other:?}"),
        }
        let unknown = format!("{CENTER}{}titel = \"x\"\n", category("a", "А"));
        let e = err(&unknown);
        assert!(
            matches!(&e, CatalogError::Syntax { problem: SyntaxProblem::UnknownField(f), .. } if f == "titel"),
            "{e:?}"
        );
        assert!(
            e.text().uk.contains("невідоме поле «titel»"),
            "{}",
            e.text().uk
        );
        let wrong = format!("{CENTER}{}", category("a", "А")).replace("\"Title\"", "5");
        assert!(matches!(
            err(&wrong),
            CatalogError::Syntax {
                problem: SyntaxProblem::WrongType,
                ..
            }
        ));
        // No English from the parser leaks into the Ukrainian text.
        for e in [err(&text), err(&missing), err(&unknown), err(&wrong)] {
            assert!(!e.text().uk.contains("expected"), "{}", e.text().uk);
        }
    }

    #[test]
    fn long_fields_and_large_files_are_refused() {
        let long = "я".repeat(MAX_TITLE_CHARS + 1);
        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("s", "a", "7 хв", "сайт"),
        ]
        .concat()
        .replace("title = \"Послуга\"", &format!("title = \"{long}\""));
        assert_eq!(
            err(&text),
            CatalogError::TooLong {
                code: "s".into(),
                field: "title".into(),
                max: MAX_TITLE_CHARS
            }
        );
        let exact = text.replace(&long, &"я".repeat(MAX_TITLE_CHARS));
        assert!(parse_catalog(&exact).is_ok());
        let center = CENTER.replace("\"Центр\"", &format!("\"{}\"", "x".repeat(201)));
        assert!(matches!(err(&center), CatalogError::TooLong { field, .. } if field == "name_uk"));
        let huge = format!("{CENTER}# {}\n", "x".repeat(MAX_CATALOG_BYTES));
        assert!(matches!(
            err(&huge),
            CatalogError::Syntax {
                problem: SyntaxProblem::TooLarge { .. },
                ..
            }
        ));
    }

    #[test]
    fn export_reads_back_the_same_catalog() {
        let c = match crate::domain::catalog::bundled() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let text = to_toml(&c);
        assert_eq!(parse_catalog(&text), Ok(c));
    }

    #[test]
    fn codes_must_be_plain_and_unique() {
        for bad in [
            "",
            "Payments",
            "-payments",
            "платежі",
            "pay_ments",
            "pay ments",
        ] {
            let text = format!("{CENTER}{}", category(bad, "А"));
            assert_eq!(
                err(&text),
                CatalogError::BadCode {
                    owner: CodeOwner::Category,
                    code: bad.into()
                }
            );
        }
        let text = format!("{CENTER}{}{}", category("a", "А"), category("a", "Б"));
        assert_eq!(
            err(&text),
            CatalogError::DuplicateCode {
                owner: CodeOwner::Category,
                code: "a".into()
            }
        );
        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("s-1", "a", "7 хв", "сайт"),
            service("s-1", "a", "7 хв", "сайт"),
        ]
        .concat();
        assert_eq!(
            err(&text),
            CatalogError::DuplicateCode {
                owner: CodeOwner::Service,
                code: "s-1".into()
            }
        );
    }

    #[test]
    fn letters_are_single_unique_capitals() {
        let text = format!("{CENTER}{}{}", category("a", "А"), category("b", "А"));
        assert_eq!(
            err(&text),
            CatalogError::DuplicateLetter {
                letter: "А".into(),
                code: "b".into()
            }
        );
        for bad in ["", "а", "АБ", "1"] {
            let text = format!("{CENTER}{}", category("a", bad));
            assert!(
                matches!(err(&text), CatalogError::BadLetter { .. }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn services_need_a_known_category_and_titles() {
        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("s", "b", "7 хв", "сайт"),
        ]
        .concat();
        assert_eq!(
            err(&text),
            CatalogError::UnknownCategory {
                service: "s".into(),
                category: "b".into()
            }
        );
        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("s", "a", "7 хв", "сайт"),
        ]
        .concat()
        .replace("title_en = \"Service\"", "title_en = \"  \"");
        assert_eq!(
            err(&text),
            CatalogError::EmptyTitle {
                owner: CodeOwner::Service,
                code: "s".into()
            }
        );
        let text = category("a", "А").replace("title = \"Назва\"", "title = \"\"");
        assert!(matches!(
            err(&format!("{CENTER}{text}")),
            CatalogError::EmptyTitle {
                owner: CodeOwner::Category,
                ..
            }
        ));
        let text = CENTER.replace("\"Центр\"", "\" \"");
        assert_eq!(err(&text), CatalogError::EmptyCenterName);
    }

    #[test]
    fn bad_notations_name_the_service() {
        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("slow-one", "a", "від 0 хв", "сайт"),
        ]
        .concat();
        let e = err(&text);
        match &e {
            CatalogError::InService { service, source } => {
                assert_eq!(service, "slow-one");
                assert!(matches!(
                    **source,
                    CatalogError::Duration {
                        problem: DurationProblem::Zero,
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.text().uk.contains("«slow-one»") && e.text().uk.contains("від 0 хв"));
        assert!(e.text().en.contains("\"slow-one\""));
        assert!(std::error::Error::source(&e).is_some());

        let text = [
            CENTER.to_string(),
            category("a", "А"),
            service("by-mail", "a", "7 хв", "пошта"),
        ]
        .concat();
        match err(&text) {
            CatalogError::InService { service, source } => {
                assert_eq!(service, "by-mail");
                assert_eq!(
                    *source,
                    CatalogError::Channels {
                        input: "пошта".into(),
                        problem: ChannelsProblem::Unknown("пошта".into())
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
