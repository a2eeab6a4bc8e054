//! Heating by a building heat meter: the month's heat shared by area, with disconnected premises
//! paying only the common share.

use std::collections::HashSet;

use rust_decimal::{Decimal, RoundingStrategy};

use super::FieldError;
use super::numbers::{MAX_AMOUNT, check_quantity, fixed, show};
use super::rule_set::RuleSet;
use crate::domain::lang::Text;
use crate::domain::money::Money;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Premise {
    pub id: String,
    pub area_m2: Decimal,
    /// Connected to central heating; a disconnected premise pays only the common share.
    pub connected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatInput {
    /// The building meter's heat for the month, Gcal.
    pub heat_gcal: Decimal,
    pub tariff_per_gcal: Money,
    /// The common share f in [0, 1]; `None` takes the rule set's default.
    pub common_share: Option<Decimal>,
    pub premises: Vec<Premise>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PremiseHeat {
    pub id: String,
    /// Rounded to the rule set's decimals (0.0001 Gcal) for display.
    pub heat_gcal: Decimal,
    /// The exact share, from which the charge is computed.
    pub heat_exact: Decimal,
    pub charge: Money,
    pub explanation: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatResult {
    pub rule_set: String,
    pub version: u32,
    pub common_share: Decimal,
    pub premises: Vec<PremiseHeat>,
    /// The sum of the shown quantities.
    pub total_gcal: Decimal,
    /// The sum of the charges.
    pub total_charge: Money,
    pub explanation: Vec<Text>,
}

/// Faults in the input, named as in the JSON request.
pub fn check(rule_set: &RuleSet, input: &HeatInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(t) = check_quantity(input.heat_gcal) {
        errors.push(FieldError::new("heat_gcal", t));
    }
    let tariff = input.tariff_per_gcal;
    if tariff.is_negative() {
        errors.push(FieldError::new(
            "tariff_per_gcal",
            Text::new(
                "Тариф не може бути від'ємним.",
                "The tariff cannot be negative.",
            ),
        ));
    } else if tariff.to_decimal() > MAX_AMOUNT {
        errors.push(FieldError::new(
            "tariff_per_gcal",
            Text::new("Тариф завеликий.", "The tariff is too large."),
        ));
    }
    let f = input
        .common_share
        .unwrap_or(rule_set.heat.default_common_share);
    if f < Decimal::ZERO || f > Decimal::ONE {
        errors.push(FieldError::new(
            "common_share",
            Text::new(
                format!(
                    "Частка на загальні потреби {} має бути від 0 до 1.",
                    show(f)
                ),
                format!("The common share {} must be between 0 and 1.", show(f)),
            ),
        ));
    }
    if input.premises.is_empty() {
        errors.push(FieldError::new(
            "premises",
            Text::new("Не вказано жодного приміщення.", "No premises are given."),
        ));
        return errors;
    }
    let mut ids = HashSet::new();
    let mut areas_ok = true;
    for (i, p) in input.premises.iter().enumerate() {
        let id = p.id.trim();
        if id.is_empty() {
            errors.push(FieldError::new(
                format!("premises[{i}].id"),
                Text::new("Номер приміщення не вказано.", "The premise id is empty."),
            ));
        } else if !ids.insert(id) {
            errors.push(FieldError::new(
                format!("premises[{i}].id"),
                Text::new(
                    format!("Приміщення «{id}» вказано двічі."),
                    format!("The premise \"{id}\" is listed twice."),
                ),
            ));
        }
        if let Err(t) = check_quantity(p.area_m2) {
            errors.push(FieldError::new(format!("premises[{i}].area_m2"), t));
            areas_ok = false;
        }
    }
    if areas_ok {
        let total: Decimal = input.premises.iter().map(|p| p.area_m2).sum();
        let connected: Decimal = input
            .premises
            .iter()
            .filter(|p| p.connected)
            .map(|p| p.area_m2)
            .sum();
        if total.is_zero() {
            errors.push(FieldError::new(
                "premises",
                Text::new(
                    "Загальна площа приміщень дорівнює нулю: тепло нема на що розподілити.",
                    "The total area of the premises is zero: there is nothing to share the heat over.",
                ),
            ));
        } else if connected.is_zero() && f < Decimal::ONE {
            errors.push(FieldError::new(
                "premises",
                Text::new(
                    format!(
                        "Тепло не можна розподілити: жодне приміщення (з площею) не підключене до опалення, а частка на загальні потреби f = {} менша за 1, тож частку (1 − f) нікому віднести.",
                        show(f)
                    ),
                    format!(
                        "The heat cannot be allocated: no premises (with area) are connected to heating, and the common share f = {} is below 1, so the share (1 − f) belongs to no one.",
                        show(f)
                    ),
                ),
            ));
        }
    }
    errors
}

/// Shares the month's heat among the premises.
pub fn calculate(rule_set: &RuleSet, input: &HeatInput) -> Result<HeatResult, Vec<FieldError>> {
    let errors = check(rule_set, input);
    if !errors.is_empty() {
        return Err(errors);
    }
    let cur = &rule_set.currency;
    let dp = rule_set.heat.quantity_decimals;
    let q = input.heat_gcal;
    let f = input
        .common_share
        .unwrap_or(rule_set.heat.default_common_share);
    let tariff = input.tariff_per_gcal;
    let total_area: Decimal = input.premises.iter().map(|p| p.area_m2).sum();
    let connected_area: Decimal = input
        .premises
        .iter()
        .filter(|p| p.connected)
        .map(|p| p.area_m2)
        .sum();
    let rest = Decimal::ONE - f;

    let mut premises = Vec::new();
    for p in &input.premises {
        let s = p.area_m2;
        let common = f * q * s / total_area;
        // why: with f = 1 every premise pays only by area; no connected area is then needed.
        let own = if p.connected && !connected_area.is_zero() {
            rest * q * s / connected_area
        } else {
            Decimal::ZERO
        };
        let exact = common + own;
        let shown = exact.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
        // why: inputs are bounded by `check`, but an absurd product saturates rather than panics.
        let charge = Money::reduction_capped(exact * tariff.to_decimal(), Money::MAX);
        let (qs, ss, fs, rs) = (show(q), show(s), show(f), show(rest));
        let (ta, ca) = (show(total_area), show(connected_area));
        let mut terms_uk = Vec::new();
        let mut terms_en = Vec::new();
        if !f.is_zero() {
            terms_uk.push(format!(
                "{fs} × {qs} Гкал × {ss} м² / {ta} м² (загальні потреби, уся площа)"
            ));
            terms_en.push(format!(
                "{fs} × {qs} Gcal × {ss} m² / {ta} m² (common share, all area)"
            ));
        }
        if p.connected && !rest.is_zero() {
            terms_uk.push(format!(
                "{rs} × {qs} Гкал × {ss} м² / {ca} м² (площа підключених приміщень)"
            ));
            terms_en.push(format!(
                "{rs} × {qs} Gcal × {ss} m² / {ca} m² (connected area)"
            ));
        }
        let (state_uk, state_en) = if p.connected {
            ("підключене", "connected")
        } else {
            (
                "відключене від централізованого опалення",
                "disconnected from central heating",
            )
        };
        let q4 = fixed(exact, dp);
        let sum_uk = if terms_uk.is_empty() {
            "0".to_string()
        } else {
            terms_uk.join(" + ")
        };
        let sum_en = if terms_en.is_empty() {
            "0".to_string()
        } else {
            terms_en.join(" + ")
        };
        premises.push(PremiseHeat {
            id: p.id.trim().to_string(),
            heat_gcal: shown,
            heat_exact: exact,
            charge,
            explanation: Text::new(
                format!(
                    "Приміщення {} ({ss} м², {state_uk}): {sum_uk} = {q4} Гкал; × {tariff} {}/Гкал = {charge} {} (з точної кількості).",
                    p.id.trim(),
                    cur.uk,
                    cur.uk
                ),
                format!(
                    "Premise {} ({ss} m², {state_en}): {sum_en} = {q4} Gcal; × {tariff} {}/Gcal = {charge} {} (from the exact quantity).",
                    p.id.trim(),
                    cur.en,
                    cur.en
                ),
            ),
        });
    }
    let total_gcal = premises.iter().map(|p| p.heat_gcal).sum();
    let total_charge = premises.iter().map(|p| p.charge).sum();
    let explanation = vec![Text::new(
        format!(
            "Будинковий лічильник: Q = {} Гкал за місяць, тариф {tariff} {}/Гкал. Частка f = {} іде на загальні потреби й ділиться на всю опалювану площу {} м²; решта (1 − f) ділиться на площу підключених приміщень {} м². Кількість показано до {} Гкал, вартість рахується з точної кількості; підсумки — суми рядків.",
            show(q),
            cur.uk,
            show(f),
            show(total_area),
            show(connected_area),
            fixed(Decimal::new(1, dp), dp),
        ),
        format!(
            "Building meter: Q = {} Gcal for the month, tariff {tariff} {}/Gcal. The share f = {} covers common needs and is shared over the whole heated area of {} m²; the rest (1 − f) is shared over the connected area of {} m². Quantities are shown to {} Gcal, charges come from the exact quantity; totals are sums of the lines.",
            show(q),
            cur.en,
            show(f),
            show(total_area),
            show(connected_area),
            fixed(Decimal::new(1, dp), dp),
        ),
    )];
    Ok(HeatResult {
        rule_set: rule_set.id.clone(),
        version: rule_set.version,
        common_share: f,
        premises,
        total_gcal,
        total_charge,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSetRegistry;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn premise(id: &str, area: &str, connected: bool) -> Premise {
        Premise {
            id: id.into(),
            area_m2: dec(area),
            connected,
        }
    }
    fn run(input: &HeatInput) -> Result<HeatResult, Vec<FieldError>> {
        let reg = RuleSetRegistry::embedded().unwrap();
        calculate(reg.get("ua-zaporizhzhia-2023").unwrap(), input)
    }
    fn shown(r: &HeatResult) -> Vec<(String, String, String)> {
        r.premises
            .iter()
            .map(|p| (p.id.clone(), fixed(p.heat_gcal, 4), p.charge.to_string()))
            .collect()
    }

    #[test]
    fn f_zero_disconnected_pay_nothing() {
        // Q = 10 Gcal, connected area 50 + 25 = 75 m²; f = 0.
        // A: 10 × 50/75 = 6.6666… → 6.6667 Gcal; × 1000.00 = 6666.666… → 6666.67
        // B: 10 × 25/75 = 3.3333… → 3.3333 Gcal; × 1000.00 = 3333.33
        // C: disconnected → 0.
        let i = HeatInput {
            heat_gcal: dec("10"),
            tariff_per_gcal: Money::parse("1000.00").unwrap(),
            common_share: None,
            premises: vec![
                premise("A", "50", true),
                premise("B", "25", true),
                premise("C", "25", false),
            ],
        };
        let r = run(&i).unwrap();
        assert_eq!(
            shown(&r),
            [
                ("A".into(), "6.6667".into(), "6666.67".into()),
                ("B".into(), "3.3333".into(), "3333.33".into()),
                ("C".into(), "0.0000".into(), "0.00".into())
            ]
        );
        assert_eq!(fixed(r.total_gcal, 4), "10.0000");
        assert_eq!(r.total_charge.to_string(), "10000.00");
    }

    #[test]
    fn f_positive_with_a_disconnected_premise() {
        // Q = 12 Gcal, f = 0.25, areas A 60 (on), B 30 (on), C 10 (off): total 100, connected 90.
        // A: 0.25×12×60/100 = 1.8 + 0.75×12×60/90 = 6 → 7.8; × 1523.17 = 11880.726 → 11880.73
        // B: 0.25×12×30/100 = 0.9 + 0.75×12×30/90 = 3 → 3.9; × 1523.17 = 5940.363 → 5940.36
        // C: 0.25×12×10/100 = 0.3;                                × 1523.17 = 456.951 → 456.95
        let i = HeatInput {
            heat_gcal: dec("12"),
            tariff_per_gcal: Money::parse("1523.17").unwrap(),
            common_share: Some(dec("0.25")),
            premises: vec![
                premise("A", "60", true),
                premise("B", "30", true),
                premise("C", "10", false),
            ],
        };
        let r = run(&i).unwrap();
        assert_eq!(
            shown(&r),
            [
                ("A".into(), "7.8000".into(), "11880.73".into()),
                ("B".into(), "3.9000".into(), "5940.36".into()),
                ("C".into(), "0.3000".into(), "456.95".into())
            ]
        );
        assert_eq!(r.total_charge.to_string(), "18278.04");
        assert!(r.premises[2].explanation.en.contains("disconnected"));
    }

    #[test]
    fn charge_comes_from_the_exact_quantity() {
        // Q = 1 Gcal over 3 equal connected premises: 0.33333… each, shown 0.3333.
        // × 3000.00 = 1000.00 exactly (from 0.3333 it would be 999.90).
        let i = HeatInput {
            heat_gcal: dec("1"),
            tariff_per_gcal: Money::parse("3000").unwrap(),
            common_share: Some(Decimal::ZERO),
            premises: vec![
                premise("1", "40", true),
                premise("2", "40", true),
                premise("3", "40", true),
            ],
        };
        let r = run(&i).unwrap();
        assert_eq!(
            shown(&r)[0],
            ("1".into(), "0.3333".into(), "1000.00".into())
        );
        // Totals are sums of the lines: 0.9999 Gcal shown, 3000.00 charged.
        assert_eq!(fixed(r.total_gcal, 4), "0.9999");
        assert_eq!(r.total_charge.to_string(), "3000.00");
    }

    #[test]
    fn all_disconnected() {
        let mut i = HeatInput {
            heat_gcal: dec("5"),
            tariff_per_gcal: Money::parse("100").unwrap(),
            common_share: Some(dec("0.5")),
            premises: vec![premise("1", "40", false), premise("2", "60", false)],
        };
        let errs = run(&i).unwrap_err();
        assert_eq!(errs[0].field, "premises");
        assert!(errs[0].message.en.contains("cannot be allocated"));
        // With f = 1 the whole heat is common and shared by area: 2 and 3 Gcal.
        i.common_share = Some(Decimal::ONE);
        let r = run(&i).unwrap();
        assert_eq!(shown(&r)[1], ("2".into(), "3.0000".into(), "300.00".into()));
    }

    #[test]
    fn input_errors() {
        let i = HeatInput {
            heat_gcal: dec("-1"),
            tariff_per_gcal: Money::from_kopiykas(-1),
            common_share: Some(dec("1.1")),
            premises: vec![premise("1", "0", true), premise("1", "-2", true)],
        };
        let fields: Vec<String> = run(&i).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "heat_gcal",
                "tariff_per_gcal",
                "common_share",
                "premises[1].id",
                "premises[1].area_m2"
            ]
        );
        let empty = HeatInput {
            premises: vec![],
            heat_gcal: dec("1"),
            tariff_per_gcal: Money::ZERO,
            common_share: None,
        };
        assert_eq!(run(&empty).unwrap_err()[0].field, "premises");
        let zero = HeatInput {
            premises: vec![premise("1", "0", true)],
            ..empty
        };
        assert!(run(&zero).unwrap_err()[0].message.en.contains("total area"));
    }

    proptest! {
        #[test]
        fn shares_add_up_and_order_does_not_matter(
            q in 0u32..100_000,
            f in 0u32..=100,
            areas in proptest::collection::vec((1u32..20_000, any::<bool>()), 1..12),
            rot in 0usize..12,
        ) {
            let premises: Vec<Premise> = areas.iter().enumerate()
                .map(|(k, (a, c))| Premise { id: k.to_string(), area_m2: Decimal::new(i64::from(*a), 1), connected: *c || k == 0 })
                .collect();
            let i = HeatInput {
                heat_gcal: Decimal::new(i64::from(q), 2),
                tariff_per_gcal: Money::parse("2045.67").unwrap(),
                common_share: Some(Decimal::new(i64::from(f), 2)),
                premises: premises.clone(),
            };
            let r = run(&i).unwrap();
            let exact: Decimal = r.premises.iter().map(|p| p.heat_exact).sum();
            prop_assert!((exact - i.heat_gcal).abs() < dec("0.000000001"));
            let mut j = i.clone();
            j.premises.rotate_left(rot % premises.len());
            let s = run(&j).unwrap();
            prop_assert_eq!(s.total_charge, r.total_charge);
            prop_assert_eq!(s.total_gcal, r.total_gcal);
        }
    }
}
