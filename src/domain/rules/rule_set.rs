//! Rule sets: versioned parameters loaded from `data/rule-sets.toml` and checked once at start-up.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::grounds::{Document, DocumentRules, Ground, GroundDocuments};
use super::numbers::{NumberInput, parse_decimal};
use super::services::Service;
use crate::domain::lang::Text;

/// The rule sets shipped with the application.
const EMBEDDED: &str = include_str!("../../../data/rule-sets.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("rule sets file cannot be read: {0}")]
    Parse(String),
    #[error("rule set {rule_set}: {problem}")]
    Invalid { rule_set: String, problem: String },
    #[error("rule set {0} is defined twice")]
    Duplicate(String),
    #[error("unknown rule set: {0}")]
    Unknown(String),
}

impl RuleSetError {
    pub fn text(&self) -> Text {
        match self {
            RuleSetError::Parse(e) => Text::new(
                format!("Файл правил перерахунку пошкоджений: {e}"),
                format!("The recalculation rules file is broken: {e}"),
            ),
            RuleSetError::Invalid { rule_set, problem } => Text::new(
                format!("Правила «{rule_set}» містять помилку: {problem}"),
                format!("The rule set \"{rule_set}\" is invalid: {problem}"),
            ),
            RuleSetError::Duplicate(id) => Text::new(
                format!("Правила «{id}» визначено двічі."),
                format!("The rule set \"{id}\" is defined twice."),
            ),
            RuleSetError::Unknown(id) => {
                let id = super::numbers::echo(id);
                Text::new(
                    format!("Невідомі правила перерахунку «{id}»."),
                    format!("Unknown recalculation rule set \"{id}\"."),
                )
            }
        }
    }
}

/// How the days of an absence are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Both end dates are days of absence.
    Inclusive,
    /// The departure day and the arrival day are not counted.
    Exclusive,
}

/// What happens to an application filed after the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatePolicy {
    /// Recalculated only from the first day of the application's quarter.
    CurrentQuarter,
    /// Refused.
    Reject,
}

/// How a partial temperature step is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRounding {
    Floor,
    Ceil,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AbsenceRules {
    pub reducible_services: Vec<Service>,
    pub day_count: DayCount,
    pub eligible_more_than_days: u32,
    pub certificate_valid_days: Option<u32>,
    pub late_after_days: u32,
    pub late_policy: LatePolicy,
    pub documents: DocumentRules,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotWaterRules {
    #[serde(deserialize_with = "de_decimal")]
    pub temperature_min_c: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub temperature_max_c: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub day_tolerance_c: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub night_tolerance_c: Decimal,
    pub night_start_hour: u32,
    pub night_end_hour: u32,
    #[serde(deserialize_with = "de_decimal")]
    pub step_c: Decimal,
    pub step_rounding: StepRounding,
    #[serde(deserialize_with = "de_decimal")]
    pub step_percent: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub cold_below_c: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub pressure_min_mpa: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub pressure_max_mpa: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub pressure_hour_percent: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    pub pressure_day_over_percent: Decimal,
    pub interruption_single_hours: u32,
    pub interruption_month_hours: u32,
    pub dead_end_single_hours: u32,
    #[serde(deserialize_with = "de_decimal")]
    pub interruption_hour_percent: Decimal,
}

impl HotWaterRules {
    /// Whether a local hour (0–23) is in the night band.
    pub fn is_night(&self, hour: u32) -> bool {
        let (s, e) = (self.night_start_hour, self.night_end_hour);
        if s <= e {
            s <= hour && hour < e
        } else {
            hour >= s || hour < e
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatRules {
    #[serde(deserialize_with = "de_decimal")]
    pub default_common_share: Decimal,
    pub quantity_decimals: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterSealRules {
    pub seal_day_included: bool,
}

/// One named, versioned set of recalculation rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub id: String,
    pub version: u32,
    pub title: Text,
    pub timezone: Tz,
    /// The currency label shown after amounts ("грн" / "UAH").
    pub currency: Text,
    /// Whose rules these are: country, city, document, in force from/to, legal status.
    pub jurisdiction: super::jurisdiction::Jurisdiction,
    pub absence: AbsenceRules,
    /// Hot-water quality rules; not every rule set has them.
    pub hot_water: Option<HotWaterRules>,
    pub heat: HeatRules,
    pub meter_seal: MeterSealRules,
}

/// All known rule sets by id.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSetRegistry {
    sets: BTreeMap<String, RuleSet>,
}

impl RuleSetRegistry {
    /// The rule sets shipped in `data/rule-sets.toml`.
    pub fn embedded() -> Result<RuleSetRegistry, RuleSetError> {
        RuleSetRegistry::from_toml(EMBEDDED)
    }

    /// Loads and checks rule sets from TOML text in the shape of `data/rule-sets.toml`.
    pub fn from_toml(text: &str) -> Result<RuleSetRegistry, RuleSetError> {
        let file: RawFile = toml::from_str(text).map_err(|e| RuleSetError::Parse(e.to_string()))?;
        let mut sets = BTreeMap::new();
        for raw in file.rule_set {
            let set = raw.into_rule_set()?;
            if sets.contains_key(&set.id) {
                return Err(RuleSetError::Duplicate(set.id));
            }
            sets.insert(set.id.clone(), set);
        }
        if sets.is_empty() {
            return Err(RuleSetError::Parse("no [[rule_set]] entries".into()));
        }
        Ok(RuleSetRegistry { sets })
    }

    pub fn get(&self, id: &str) -> Result<&RuleSet, RuleSetError> {
        self.sets
            .get(id.trim())
            .ok_or_else(|| RuleSetError::Unknown(id.to_string()))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.values()
    }
}

// ---- the file as written -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rule_set: Vec<RawRuleSet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    id: String,
    version: u32,
    title: Text,
    timezone: Tz,
    currency: Text,
    jurisdiction: super::jurisdiction::Jurisdiction,
    absence: RawAbsence,
    hot_water: Option<HotWaterRules>,
    heat: HeatRules,
    meter_seal: MeterSealRules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAbsence {
    reducible_services: Vec<Service>,
    day_count: DayCount,
    eligible_more_than_days: u32,
    certificate_valid_days: Option<u32>,
    late_after_days: u32,
    late_policy: LatePolicy,
    documents: Vec<RawDocument>,
    grounds: Vec<RawGround>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    id: String,
    uk: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGround {
    id: Ground,
    required: Vec<String>,
    #[serde(default)]
    one_of: Vec<String>,
    #[serde(default)]
    if_needed: Vec<String>,
    #[serde(default = "yes")]
    certificate_expires: bool,
}

fn yes() -> bool {
    true
}

fn de_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let n = NumberInput::deserialize(d)?;
    parse_decimal(&n.as_text()).map_err(|t| serde::de::Error::custom(t.en))
}

impl RawRuleSet {
    fn into_rule_set(self) -> Result<RuleSet, RuleSetError> {
        let id = self.id.trim().to_string();
        let bad = |problem: String| RuleSetError::Invalid {
            rule_set: id.clone(),
            problem,
        };
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(format!(
                "id {:?} must be letters, digits, '-' or '_'",
                self.id
            )));
        }
        if self.version == 0 {
            return Err(bad("version must be 1 or more".into()));
        }
        let j = &self.jurisdiction;
        if j.country.len() != 2 || !j.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                "jurisdiction.country must be an ISO code like \"UA\"".into()
            ));
        }
        if j.in_force_to.is_some_and(|to| to < j.in_force_from) {
            return Err(bad(
                "jurisdiction.in_force_to is before in_force_from".into()
            ));
        }
        let absence = self.absence.check(&bad)?;
        if let Some(hw) = &self.hot_water {
            check_hot_water(hw, &bad)?;
        }
        let share = self.heat.default_common_share;
        if share < Decimal::ZERO || share > Decimal::ONE {
            return Err(bad("heat.default_common_share must be within 0..1".into()));
        }
        if self.heat.quantity_decimals > 10 {
            return Err(bad("heat.quantity_decimals must be at most 10".into()));
        }
        Ok(RuleSet {
            id: id.clone(),
            version: self.version,
            title: self.title,
            timezone: self.timezone,
            currency: self.currency,
            jurisdiction: self.jurisdiction,
            absence,
            hot_water: self.hot_water,
            heat: self.heat,
            meter_seal: self.meter_seal,
        })
    }
}

impl RawAbsence {
    fn check(self, bad: &dyn Fn(String) -> RuleSetError) -> Result<AbsenceRules, RuleSetError> {
        if self.reducible_services.is_empty() {
            return Err(bad("absence.reducible_services is empty".into()));
        }
        for never in [
            Service::Heating,
            Service::Maintenance,
            Service::CommonHouseNeeds,
        ] {
            // why: RULES.md §1 says these are never reduced for an absence, whatever a city writes.
            if self.reducible_services.contains(&never) {
                return Err(bad(format!(
                    "absence.reducible_services must not contain {}",
                    never.id()
                )));
            }
        }
        let mut doc_ids = BTreeSet::new();
        let mut documents = Vec::new();
        for d in self.documents {
            if d.id.trim().is_empty() || d.uk.trim().is_empty() || d.en.trim().is_empty() {
                return Err(bad("a document needs an id and both names".into()));
            }
            if !doc_ids.insert(d.id.clone()) {
                return Err(bad(format!("document {} is listed twice", d.id)));
            }
            documents.push(Document {
                id: d.id,
                name: Text::new(d.uk, d.en),
            });
        }
        let mut seen_grounds = BTreeSet::new();
        let mut grounds = Vec::new();
        for g in self.grounds {
            if !seen_grounds.insert(g.id) {
                return Err(bad(format!("ground {} is listed twice", g.id.id())));
            }
            if g.required.is_empty() {
                return Err(bad(format!("ground {} requires no document", g.id.id())));
            }
            for doc in g.required.iter().chain(&g.one_of).chain(&g.if_needed) {
                if !doc_ids.contains(doc) {
                    return Err(bad(format!(
                        "ground {} names unknown document {doc}",
                        g.id.id()
                    )));
                }
            }
            grounds.push(GroundDocuments {
                ground: g.id,
                required: g.required,
                one_of: g.one_of,
                if_needed: g.if_needed,
                certificate_expires: g.certificate_expires,
            });
        }
        if grounds.is_empty() {
            return Err(bad("absence.grounds is empty".into()));
        }
        Ok(AbsenceRules {
            reducible_services: self.reducible_services,
            day_count: self.day_count,
            eligible_more_than_days: self.eligible_more_than_days,
            certificate_valid_days: self.certificate_valid_days,
            late_after_days: self.late_after_days,
            late_policy: self.late_policy,
            documents: DocumentRules { documents, grounds },
        })
    }
}

fn check_hot_water(
    hw: &HotWaterRules,
    bad: &dyn Fn(String) -> RuleSetError,
) -> Result<(), RuleSetError> {
    let non_negative = [
        ("day_tolerance_c", hw.day_tolerance_c),
        ("night_tolerance_c", hw.night_tolerance_c),
        ("step_percent", hw.step_percent),
        ("pressure_hour_percent", hw.pressure_hour_percent),
        ("pressure_day_over_percent", hw.pressure_day_over_percent),
        ("interruption_hour_percent", hw.interruption_hour_percent),
    ];
    for (name, v) in non_negative {
        if v < Decimal::ZERO {
            return Err(bad(format!("hot_water.{name} must not be negative")));
        }
    }
    if hw.temperature_min_c >= hw.temperature_max_c {
        return Err(bad(
            "hot_water.temperature_min_c must be below temperature_max_c".into(),
        ));
    }
    if hw.step_c <= Decimal::ZERO {
        return Err(bad("hot_water.step_c must be positive".into()));
    }
    if hw.pressure_min_mpa <= Decimal::ZERO || hw.pressure_min_mpa >= hw.pressure_max_mpa {
        return Err(bad(
            "hot_water pressure bounds must satisfy 0 < min < max".into()
        ));
    }
    if hw.night_start_hour > 23 || hw.night_end_hour > 24 {
        return Err(bad("hot_water night hours must be within 0..24".into()));
    }
    if hw.interruption_single_hours > hw.interruption_month_hours {
        return Err(bad(
            "hot_water.interruption_single_hours exceeds interruption_month_hours".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rule_sets_load() {
        let reg = RuleSetRegistry::embedded().unwrap();
        assert_eq!(
            reg.ids().collect::<Vec<_>>(),
            ["ru-354", "ua-zaporizhzhia-2023"]
        );
        let z = reg.get("ua-zaporizhzhia-2023").unwrap();
        assert_eq!(z.version, 1);
        assert_eq!(z.absence.certificate_valid_days, Some(90));
        assert_eq!(z.absence.day_count, DayCount::Inclusive);
        assert!(z.hot_water.is_none());
        assert_eq!(z.timezone, chrono_tz::Europe::Kyiv);
        let r = reg.get("ru-354").unwrap();
        let hw = r.hot_water.as_ref().unwrap();
        assert_eq!(hw.step_percent.to_string(), "0.1");
        assert!(hw.is_night(0) && hw.is_night(4) && !hw.is_night(5) && !hw.is_night(23));
        assert_eq!(r.absence.late_policy, LatePolicy::Reject);
    }

    #[test]
    fn unknown_rule_set_is_an_error() {
        let reg = RuleSetRegistry::embedded().unwrap();
        let err = reg.get("ua-kyiv-2030").unwrap_err();
        assert_eq!(err, RuleSetError::Unknown("ua-kyiv-2030".into()));
        assert!(err.text().uk.contains("ua-kyiv-2030"));
    }

    #[test]
    fn broken_data_is_rejected() {
        let dup = format!(
            "{EMBEDDED}\n{}",
            &EMBEDDED[EMBEDDED.find("[[rule_set]]").unwrap()..]
        );
        assert!(matches!(
            RuleSetRegistry::from_toml(&dup),
            Err(RuleSetError::Duplicate(_))
        ));
        let heating = EMBEDDED.replacen("\"waste\"]", "\"waste\", \"heating\"]", 1);
        assert!(matches!(
            RuleSetRegistry::from_toml(&heating),
            Err(RuleSetError::Invalid { .. })
        ));
        let unknown_doc =
            EMBEDDED.replacen("\"passports\", \"foreign_passport\"", "\"passport\"", 1);
        assert!(matches!(
            RuleSetRegistry::from_toml(&unknown_doc),
            Err(RuleSetError::Invalid { .. })
        ));
        let bad_ground = EMBEDDED.replacen("id = \"abroad\"", "id = \"holiday\"", 1);
        assert!(matches!(
            RuleSetRegistry::from_toml(&bad_ground),
            Err(RuleSetError::Parse(_))
        ));
        let bad_share = EMBEDDED.replacen(
            "default_common_share = \"0\"",
            "default_common_share = \"1.5\"",
            1,
        );
        assert!(matches!(
            RuleSetRegistry::from_toml(&bad_share),
            Err(RuleSetError::Invalid { .. })
        ));
        assert!(matches!(
            RuleSetRegistry::from_toml("x = 1"),
            Err(RuleSetError::Parse(_))
        ));
    }
}
