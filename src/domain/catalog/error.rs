//! What can be wrong with a catalog file or one of its notations, said in both languages.

use std::fmt;

use super::notation::Channel;
use crate::domain::lang::Text;

/// Why a duration such as "5-7 хв" could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationProblem {
    Empty,
    NoNumber,
    Zero,
    MinAboveMax {
        min: u32,
        max: u32,
    },
    MissingUnit,
    UnknownUnit(String),
    /// Something left over that is not part of the notation.
    Garbage(String),
    Overflow,
}

/// Why a channel list such as "контактний центр особистий візит" could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelsProblem {
    Empty,
    Unknown(String),
    Duplicate(Channel),
}

/// What is wrong with the file's shape, said in cherga's own words (the TOML parser's message is
/// English only, so it is only ever logged, never shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// Not readable as TOML at all (an unclosed quote, a stray character).
    Toml,
    MissingField(String),
    UnknownField(String),
    /// A value of the wrong kind (a number where text was expected, a table instead of a list).
    WrongType,
    /// The file is larger than an import may be.
    TooLarge {
        max_bytes: usize,
    },
}

/// Which kind of record a code belongs to, so a message can say which one is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOwner {
    Category,
    Service,
}

impl CodeOwner {
    fn text(self) -> Text {
        match self {
            CodeOwner::Category => Text::new("категорії", "category"),
            CodeOwner::Service => Text::new("послуги", "service"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid TOML or does not have the expected fields.
    Syntax {
        line: Option<usize>,
        problem: SyntaxProblem,
    },
    /// A text field longer than cherga keeps; `code` names the record (empty for the center).
    TooLong {
        code: String,
        field: String,
        max: usize,
    },
    Duration {
        input: String,
        problem: DurationProblem,
    },
    Channels {
        input: String,
        problem: ChannelsProblem,
    },
    BadCode {
        owner: CodeOwner,
        code: String,
    },
    DuplicateCode {
        owner: CodeOwner,
        code: String,
    },
    DuplicateLetter {
        letter: String,
        code: String,
    },
    BadLetter {
        letter: String,
        code: String,
    },
    /// A title (Ukrainian or English) is empty; `code` is the category or service.
    EmptyTitle {
        owner: CodeOwner,
        code: String,
    },
    EmptyCenterName,
    UnknownCategory {
        service: String,
        category: String,
    },
    /// A problem inside one service's record: names the service so an admin can find it.
    InService {
        service: String,
        #[source]
        source: Box<CatalogError>,
    },
}

impl CatalogError {
    pub fn text(&self) -> Text {
        match self {
            CatalogError::Syntax { line, problem } => {
                let (uk, en) = syntax_words(problem);
                match line {
                    Some(line) => Text::new(
                        format!("Файл каталогу, рядок {line}: {uk}"),
                        format!("Catalog file, line {line}: {en}"),
                    ),
                    None => Text::new(
                        format!("Файл каталогу: {uk}"),
                        format!("Catalog file: {en}"),
                    ),
                }
            }
            CatalogError::TooLong { code, field, max } => {
                if code.is_empty() {
                    Text::new(
                        format!("Поле «{field}» центру довше за {max} символів"),
                        format!("The center's field \"{field}\" is longer than {max} characters"),
                    )
                } else {
                    Text::new(
                        format!("Поле «{field}» запису «{code}» довше за {max} символів"),
                        format!(
                            "The field \"{field}\" of \"{code}\" is longer than {max} characters"
                        ),
                    )
                }
            }
            CatalogError::Duration { input, problem } => duration_text(input, problem),
            CatalogError::Channels { input, problem } => channels_text(input, problem),
            CatalogError::BadCode { owner, code } => {
                let o = owner.text();
                Text::new(
                    format!(
                        "Код {} «{code}» має складатися з малих латинських літер, цифр і дефісів і починатися з літери або цифри",
                        o.uk
                    ),
                    format!(
                        "The {} code \"{code}\" must use lowercase Latin letters, digits and hyphens, starting with a letter or digit",
                        o.en
                    ),
                )
            }
            CatalogError::DuplicateCode { owner, code } => {
                let o = owner.text();
                Text::new(
                    format!("Код {} «{code}» зустрічається більше одного разу", o.uk),
                    format!("The {} code \"{code}\" is used more than once", o.en),
                )
            }
            CatalogError::DuplicateLetter { letter, code } => Text::new(
                format!("Літера талона «{letter}» категорії «{code}» вже зайнята іншою категорією"),
                format!(
                    "The ticket letter \"{letter}\" of category \"{code}\" is already used by another category"
                ),
            ),
            CatalogError::BadLetter { letter, code } => Text::new(
                format!(
                    "Літера талона категорії «{code}» має бути однією великою літерою, а не «{letter}»"
                ),
                format!(
                    "The ticket letter of category \"{code}\" must be a single capital letter, not \"{letter}\""
                ),
            ),
            CatalogError::EmptyTitle { owner, code } => {
                let o = owner.text();
                Text::new(
                    format!(
                        "Назва {} «{code}» порожня (українською чи англійською)",
                        o.uk
                    ),
                    format!(
                        "The title of {} \"{code}\" is empty (Ukrainian or English)",
                        o.en
                    ),
                )
            }
            CatalogError::EmptyCenterName => Text::new(
                "Назва центру порожня (українською чи англійською)",
                "The center's name is empty (Ukrainian or English)",
            ),
            CatalogError::UnknownCategory { service, category } => Text::new(
                format!("Послуга «{service}» посилається на невідому категорію «{category}»"),
                format!("Service \"{service}\" refers to an unknown category \"{category}\""),
            ),
            CatalogError::InService { service, source } => {
                let inner = source.text();
                Text::new(
                    format!("Послуга «{service}»: {}", inner.uk),
                    format!("Service \"{service}\": {}", inner.en),
                )
            }
        }
    }
}

fn syntax_words(problem: &SyntaxProblem) -> (String, String) {
    match problem {
        SyntaxProblem::Toml => (
            "це не правильний TOML (перевірте лапки, дужки та знаки «=»)".to_string(),
            "this is not valid TOML (check quotes, brackets and \"=\" signs)".to_string(),
        ),
        SyntaxProblem::MissingField(f) => (
            format!("бракує обов'язкового поля «{f}»"),
            format!("the required field \"{f}\" is missing"),
        ),
        SyntaxProblem::UnknownField(f) => (
            format!("невідоме поле «{f}»"),
            format!("unknown field \"{f}\""),
        ),
        SyntaxProblem::WrongType => (
            "значення не того виду (очікувався текст у лапках або список записів)".to_string(),
            "a value of the wrong kind (quoted text or a list of records was expected)".to_string(),
        ),
        SyntaxProblem::TooLarge { max_bytes } => (
            format!("файл більший за {} КБ", max_bytes / 1024),
            format!("the file is larger than {} KB", max_bytes / 1024),
        ),
    }
}

fn duration_text(input: &str, problem: &DurationProblem) -> Text {
    let (uk, en) = match problem {
        DurationProblem::Empty => (
            "тривалість не вказано".to_string(),
            "the duration is empty".to_string(),
        ),
        DurationProblem::NoNumber => (
            "очікувалося число хвилин".to_string(),
            "a number of minutes was expected".to_string(),
        ),
        DurationProblem::Zero => (
            "тривалість не може бути нульовою".to_string(),
            "a duration cannot be zero".to_string(),
        ),
        DurationProblem::MinAboveMax { min, max } => (
            format!("нижня межа {min} більша за верхню {max}"),
            format!("the lower bound {min} is greater than the upper bound {max}"),
        ),
        DurationProblem::MissingUnit => (
            "не вказано одиницю виміру (хв)".to_string(),
            "the unit is missing (хв, minutes)".to_string(),
        ),
        DurationProblem::UnknownUnit(unit) => (
            format!("невідома одиниця «{unit}», очікувалося «хв»"),
            format!("unknown unit \"{unit}\", expected \"хв\" (minutes)"),
        ),
        DurationProblem::Garbage(rest) => (
            format!("незрозуміла частина «{rest}»"),
            format!("cannot read \"{rest}\""),
        ),
        DurationProblem::Overflow => (
            "число завелике".to_string(),
            "the number is too large".to_string(),
        ),
    };
    Text::new(
        format!("Тривалість «{input}»: {uk}. Приклади: «7 хв», «5-7 хв», «від 10 хв»"),
        format!("Duration \"{input}\": {en}. Examples: \"7 хв\", \"5-7 хв\", \"від 10 хв\""),
    )
}

fn channels_text(input: &str, problem: &ChannelsProblem) -> Text {
    let (uk, en) = match problem {
        ChannelsProblem::Empty => (
            "не вказано жодного способу".to_string(),
            "no channel is given".to_string(),
        ),
        ChannelsProblem::Unknown(word) => (
            format!("невідомий спосіб «{word}»"),
            format!("unknown channel \"{word}\""),
        ),
        ChannelsProblem::Duplicate(channel) => {
            let label = channel.label();
            (
                format!("спосіб «{}» вказано двічі", label.uk),
                format!("the channel \"{}\" is given twice", label.en),
            )
        }
    };
    Text::new(
        format!(
            "Способи отримання «{input}»: {uk}. Допустимі: «контактний центр», «особистий візит», «сайт»"
        ),
        format!(
            "Channels \"{input}\": {en}. Allowed: \"контактний центр\", \"особистий візит\", \"сайт\""
        ),
    )
}

// Logs and plain `?` chains read English; handlers use `text()` for the user's language.
impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}
