//! The hot-water-quality recalculation calculator: its form, result, page and handlers.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::form::Built;
use super::lines::{number, parse_interruptions, parse_readings, text};
use super::page::CalculatorForm;
use super::{Choice, Faults, Identifier, rule_set_choices, used_rules, with_status};
use crate::app::AppState;
use crate::domain::rules::FieldError;
use crate::domain::rules::requests::{HotWaterRequest, HotWaterResponse};
use crate::domain::rules::{RuleSetRegistry, calculate_hot_water};
use crate::error::AppResult;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HotWaterForm {
    csrf: String,
    rule_set: String,
    month: String,
    timezone: String,
    charge: String,
    hot_tariff: String,
    cold_tariff: String,
    volume_m3: String,
    readings: String,
    interruptions: String,
}

struct AmountLine {
    label: String,
    amount: String,
    explanation: String,
}

pub(crate) struct HotWaterView {
    rule_set: String,
    rule_set_title: String,
    version: u32,
    currency: String,
    charge: String,
    total: String,
    lines: Vec<AmountLine>,
    explanation: Vec<String>,
}

#[derive(Template)]
#[template(path = "calculators/hot_water.html")]
struct HotWaterPage {
    chrome: Chrome,
    form: HotWaterForm,
    rule_sets: Vec<Choice>,
    kinds: Vec<Identifier>,
    faults: Faults,
    result: Option<HotWaterView>,
}

impl CalculatorForm for HotWaterForm {
    type Request = HotWaterRequest;
    type Response = HotWaterResponse;
    type View = HotWaterView;

    fn blank() -> Self {
        HotWaterForm::default()
    }

    /// RULES.md §5: ten day hours at 54 °C, four night hours at 49 °C, 36 hours below 40 °C, plus one
    /// planned interruption short enough to be allowed. Total 14.26 + 31.50 = 45.76.
    fn example() -> HotWaterForm {
        let mut readings = Vec::new();
        for h in 10..20 {
            readings.push(format!("2024-04-02T{h:02}:00; 54; 0.3"));
        }
        for h in 0..4 {
            readings.push(format!("2024-04-03T{h:02}:00; 49;"));
        }
        for day in 10..13 {
            for h in 8..20 {
                readings.push(format!("2024-04-{day}T{h:02}:00; 35,5"));
            }
        }
        HotWaterForm {
            csrf: String::new(),
            rule_set: "ru-354".into(),
            month: "2024-04".into(),
            timezone: String::new(),
            charge: "792.00".into(),
            hot_tariff: "220.00".into(),
            cold_tariff: "45.00".into(),
            volume_m3: "3.6".into(),
            readings: readings.join("\n"),
            interruptions: "2024-04-15T08:00; 2024-04-15T11:00; planned".into(),
        }
    }

    fn build(&self) -> Built<HotWaterRequest> {
        let readings = parse_readings(&self.readings);
        let interruptions = parse_interruptions(&self.interruptions);
        let mut line_errors = readings.errors;
        line_errors.extend(interruptions.errors);
        Built {
            request: HotWaterRequest {
                rule_set: text(&self.rule_set),
                month: text(&self.month),
                timezone: text(&self.timezone),
                charge: number(&self.charge),
                hot_tariff: number(&self.hot_tariff),
                cold_tariff: number(&self.cold_tariff),
                volume_m3: number(&self.volume_m3),
                readings: readings.rows,
                interruptions: interruptions.rows,
            },
            field_errors: Vec::new(),
            line_errors,
            lines: vec![
                ("readings", readings.lines),
                ("interruptions", interruptions.lines),
            ],
        }
    }

    fn csrf(&self) -> &str {
        &self.csrf
    }

    fn calculate(
        request: &HotWaterRequest,
        rules: &RuleSetRegistry,
    ) -> Result<HotWaterResponse, Vec<FieldError>> {
        calculate_hot_water(request, rules)
    }

    fn view(t: Tr, registry: &RuleSetRegistry, r: HotWaterResponse) -> HotWaterView {
        let used = used_rules(t, registry, &r.rule_set);
        HotWaterView {
            rule_set_title: used.title,
            currency: used.currency,
            version: r.version,
            charge: r.charge,
            total: r.total,
            lines: r
                .lines
                .into_iter()
                .map(|l| AmountLine {
                    label: t.get(&format!("calc.kind.{}", l.kind.id())),
                    amount: l.amount,
                    explanation: t.pick(&l.explanation).to_string(),
                })
                .collect(),
            explanation: r
                .explanation
                .iter()
                .map(|e| t.pick(e).to_string())
                .collect(),
            rule_set: r.rule_set,
        }
    }

    fn page(
        state: &AppState,
        ctx: &RequestContext,
        staff: Option<&Staff>,
        form: HotWaterForm,
        outcome: Result<Option<HotWaterView>, Faults>,
    ) -> AppResult<Response> {
        let t = Tr(ctx.lang);
        let ok = outcome.is_ok();
        let (result, faults) = match outcome {
            Ok(r) => (r, Faults::default()),
            Err(f) => (None, f),
        };
        let page = HotWaterPage {
            chrome: Chrome::new(ctx, staff),
            rule_sets: rule_set_choices(
                t,
                state.rules.iter().filter(|rs| rs.hot_water.is_some()),
                &form.rule_set,
            ),
            kinds: ["planned", "accident", "dead_end_accident"]
                .into_iter()
                .map(|id| Identifier {
                    id,
                    label: t.get(&format!("calc.interruption.{id}")),
                })
                .collect(),
            form,
            faults,
            result,
        };
        Ok(with_status(render(&page)?, ok))
    }
}
