//! Whose rules a rule set is: the country, the city, the document and when it is in force, kept in
//! `data/rule-sets.toml` beside the rules, so every page and result can say so plainly. And which
//! catalog service a calculator answers: only one whose rules the calculator has.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::lang::Text;

use super::RuleSetRegistry;

/// How a rule set stands as law for a resident of Ukraine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalStatus {
    /// A Ukrainian act in force.
    InForce,
    /// A Ukrainian act no longer in force.
    Repealed,
    /// Another country's law: shown for comparison only.
    Foreign,
}

/// The jurisdiction and legal status of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    /// ISO 3166 code: "UA", "RU".
    pub country: String,
    pub country_name: Text,
    /// The city whose act it is; none for a national act.
    pub city: Option<Text>,
    /// A stable id of the document, as catalog services name it: "ua-kmu-630".
    pub document_id: String,
    pub document: Text,
    pub in_force_from: NaiveDate,
    pub in_force_to: Option<NaiveDate>,
    pub status: LegalStatus,
}

impl Jurisdiction {
    /// "Україна, м. Запоріжжя: рішення … (чинне з 31.05.2023)" — whose rules these are, in a line.
    pub fn whose(&self) -> Text {
        let place = |lang_uk: bool| {
            let country = if lang_uk {
                &self.country_name.uk
            } else {
                &self.country_name.en
            };
            match &self.city {
                Some(c) if lang_uk => format!("{country}, м. {}", c.uk),
                Some(c) => format!("{country}, {}", c.en),
                None => country.clone(),
            }
        };
        let from = self.in_force_from.format("%d.%m.%Y");
        let (period_uk, period_en) = match self.in_force_to {
            Some(to) => {
                let to = to.format("%d.%m.%Y");
                (
                    format!("діяв з {from} до {to}"),
                    format!("in force from {from} to {to}"),
                )
            }
            None => (format!("чинний з {from}"), format!("in force since {from}")),
        };
        let (note_uk, note_en) = match self.status {
            LegalStatus::InForce => ("", ""),
            LegalStatus::Repealed => (
                " Документ втратив чинність: розрахунок лише для довідки.",
                " The document is no longer in force: the computation is for reference only.",
            ),
            LegalStatus::Foreign => (
                " Це не право України: розрахунок лише для порівняння, він не є підставою для перерахунку в Україні.",
                " This is not Ukrainian law: the computation is for comparison only and is no ground for a recalculation in Ukraine.",
            ),
        };
        Text::new(
            format!(
                "{}: {} ({period_uk}).{note_uk}",
                place(true),
                self.document.uk
            ),
            format!(
                "{}: {} ({period_en}).{note_en}",
                place(false),
                self.document.en
            ),
        )
    }

    /// Whether these rules are a Ukrainian act in force on `day`.
    pub fn in_force_in_ukraine(&self, day: NaiveDate) -> bool {
        self.country == "UA"
            && self.status == LegalStatus::InForce
            && self.in_force_from <= day
            && self.in_force_to.is_none_or(|to| day <= to)
    }
}

/// The calculators, by the part of a rule set they use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calculator {
    TemporaryAbsence,
    HotWaterQuality,
    HeatAllocation,
}

impl Calculator {
    pub const ALL: [Calculator; 3] = [
        Calculator::HotWaterQuality,
        Calculator::TemporaryAbsence,
        Calculator::HeatAllocation,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Calculator::TemporaryAbsence => "/calculators/temporary-absence",
            Calculator::HotWaterQuality => "/calculators/hot-water-quality",
            Calculator::HeatAllocation => "/calculators/heat-allocation",
        }
    }
}

/// The rules a catalog service is about: named documents, or any Ukrainian act in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NamedRules {
    Documents(&'static [&'static str]),
    Ukrainian,
}

/// The calculator that would answer a service, and the rules the service names.
fn service_rules(service_code: &str) -> Option<(Calculator, NamedRules)> {
    use Calculator::*;
    use NamedRules::*;
    Some(match service_code {
        // why: the service names "Постанови КМУ № 630 та № 151"; another country's decree is not them.
        "quality-check-procedure" => (HotWaterQuality, Documents(&["ua-kmu-630", "ua-kmu-151"])),
        "towel-rail-hot-water-tariff" | "recalculation-explanation" => (HotWaterQuality, Ukrainian),
        "temporary-absence-recalculation" => (TemporaryAbsence, Ukrainian),
        "heat-metering-info"
        | "apartment-heat-calculation"
        | "building-meter-charges-explanation" => (HeatAllocation, Ukrainian),
        _ => return None,
    })
}

/// What the website offers for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineAnswer {
    /// A calculator under the rules the service names.
    Calculator(Calculator),
    /// The service is about a recalculation, but no calculator has its rules yet.
    NotYet(Calculator),
}

impl OnlineAnswer {
    /// The calculator's page, when it answers the service.
    pub fn href(self) -> Option<&'static str> {
        match self {
            OnlineAnswer::Calculator(c) => Some(c.path()),
            OnlineAnswer::NotYet(_) => None,
        }
    }
}

/// Whether the registry has rules for `calculator` that a service naming `named` means, on `day`.
fn has_rules(
    registry: &RuleSetRegistry,
    calculator: Calculator,
    named: NamedRules,
    day: NaiveDate,
) -> bool {
    registry.iter().any(|rs| {
        let fits = match calculator {
            Calculator::HotWaterQuality => rs.hot_water.is_some(),
            Calculator::TemporaryAbsence | Calculator::HeatAllocation => true,
        };
        let j = &rs.jurisdiction;
        fits && match named {
            NamedRules::Documents(ids) => {
                ids.contains(&j.document_id.as_str()) && j.in_force_in_ukraine(day)
            }
            NamedRules::Ukrainian => j.in_force_in_ukraine(day),
        }
    })
}

/// What the website offers for a catalog service on `day`: its calculator only when the
/// calculator has the rules the service names.
pub fn online_answer(
    service_code: &str,
    registry: &RuleSetRegistry,
    day: NaiveDate,
) -> Option<OnlineAnswer> {
    let (calculator, named) = service_rules(service_code)?;
    Some(if has_rules(registry, calculator, named, day) {
        OnlineAnswer::Calculator(calculator)
    } else {
        OnlineAnswer::NotYet(calculator)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn the_ukrainian_hot_water_procedure_is_not_the_russian_decree() {
        let reg = RuleSetRegistry::embedded().unwrap();
        assert_eq!(
            online_answer("quality-check-procedure", &reg, day()),
            Some(OnlineAnswer::NotYet(Calculator::HotWaterQuality))
        );
        assert_eq!(
            online_answer("temporary-absence-recalculation", &reg, day())
                .and_then(OnlineAnswer::href),
            Some("/calculators/temporary-absence")
        );
        assert_eq!(
            online_answer("apartment-heat-calculation", &reg, day()).and_then(OnlineAnswer::href),
            Some("/calculators/heat-allocation")
        );
        assert_eq!(online_answer("payment-search", &reg, day()), None);
    }

    #[test]
    fn every_rule_set_says_whose_rules_it_is() {
        let reg = RuleSetRegistry::embedded().unwrap();
        let ru = reg.get("ru-354").unwrap();
        assert_eq!(ru.jurisdiction.country, "RU");
        assert_eq!(ru.jurisdiction.status, LegalStatus::Foreign);
        assert!(ru.jurisdiction.whose().uk.contains("не право України"));
        assert!(ru.jurisdiction.whose().en.contains("not Ukrainian law"));
        let zp = reg.get("ua-zaporizhzhia-2023").unwrap();
        assert!(zp.jurisdiction.in_force_in_ukraine(day()));
        assert!(zp.jurisdiction.whose().uk.contains("м. Запоріжжя"));
        let before = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        assert!(!zp.jurisdiction.in_force_in_ukraine(before));
    }
}
