//! The heat-allocation calculator: its form, result, page and handlers.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::form::Built;
use super::page::CalculatorForm;
use super::rows::{
    Column, Input, PREMISES, Row, RowListView, Submitted, number, parse_premises, row_list, text,
};
use super::{
    Choice, Faults, chosen, rule_set_choices, used_rules, whose, with_status, yes_no_options,
};
use crate::app::AppState;
use crate::domain::rules::FieldError;
use crate::domain::rules::requests::{DEFAULT_HEAT_RULE_SET, HeatRequest, HeatResponse};
use crate::domain::rules::{RuleSetRegistry, calculate_heat};
use crate::error::AppResult;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeatForm {
    csrf: String,
    rule_set: String,
    heat_gcal: String,
    tariff_per_gcal: String,
    common_share: String,
    #[serde(skip)]
    premises: Vec<Row>,
}

struct PremiseView {
    id: String,
    heat_gcal: String,
    charge: String,
    explanation: String,
}

pub(crate) struct HeatView {
    whose: String,
    rule_set: String,
    rule_set_title: String,
    version: u32,
    currency: String,
    common_share: String,
    premises: Vec<PremiseView>,
    total_gcal: String,
    total_charge: String,
    explanation: Vec<String>,
}

#[derive(Template)]
#[template(path = "calculators/heat.html")]
struct HeatPage {
    chrome: Chrome,
    form: HeatForm,
    rule_sets: Vec<Choice>,
    premises: RowListView,
    /// Whose rules the chosen rule set is.
    jurisdiction: String,
    faults: Faults,
    result: Option<HeatView>,
}

impl CalculatorForm for HeatForm {
    type Request = HeatRequest;
    type Response = HeatResponse;
    type View = HeatView;

    const LISTS: &'static [&'static str] = &["premises"];

    fn set_rows(&mut self, submitted: &Submitted) {
        self.premises = submitted.rows("premises", PREMISES);
    }

    fn blank() -> HeatForm {
        HeatForm {
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            ..HeatForm::default()
        }
    }

    /// 12 Gcal, a quarter shared by area; C (10 m²) is disconnected and pays only the common part:
    /// 0.25 × 12 × 10/100 = 0.3 Gcal.
    fn example() -> HeatForm {
        HeatForm {
            csrf: String::new(),
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            heat_gcal: "12".into(),
            tariff_per_gcal: "1523.17".into(),
            common_share: "0.25".into(),
            premises: [["A", "60", "yes"], ["B", "30", "yes"], ["C", "10", "no"]]
                .into_iter()
                .map(|r| r.map(String::from).to_vec())
                .collect(),
        }
    }

    fn build(&self) -> Built<HeatRequest> {
        let premises = parse_premises(&self.premises);
        Built {
            request: HeatRequest {
                rule_set: text(&self.rule_set),
                heat_gcal: number(&self.heat_gcal),
                tariff_per_gcal: number(&self.tariff_per_gcal),
                common_share: number(&self.common_share),
                premises: premises.rows,
            },
            field_errors: Vec::new(),
            line_errors: premises.errors,
            lines: vec![("premises", premises.lines)],
        }
    }

    fn csrf(&self) -> &str {
        &self.csrf
    }

    fn calculate(
        request: &HeatRequest,
        rules: &RuleSetRegistry,
    ) -> Result<HeatResponse, Vec<FieldError>> {
        calculate_heat(request, rules)
    }

    fn view(t: Tr, registry: &RuleSetRegistry, r: HeatResponse) -> HeatView {
        let used = used_rules(t, registry, &r.rule_set);
        HeatView {
            whose: used.whose,
            rule_set_title: used.title,
            currency: used.currency,
            version: r.version,
            common_share: r.common_share,
            premises: r
                .premises
                .into_iter()
                .map(|p| PremiseView {
                    id: p.id,
                    heat_gcal: p.heat_gcal,
                    charge: p.charge,
                    explanation: t.pick(&p.explanation).to_string(),
                })
                .collect(),
            total_gcal: r.total_gcal,
            total_charge: r.total_charge,
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
        form: HeatForm,
        outcome: Result<Option<HeatView>, Faults>,
    ) -> AppResult<Response> {
        let t = Tr(ctx.lang);
        let ok = outcome.is_ok();
        let (result, faults) = match outcome {
            Ok(r) => (r, Faults::default()),
            Err(f) => (None, f),
        };
        let columns = [
            Column {
                name: "id",
                label: t.get("calc.col.premise"),
                input: Input::Typed("text", ""),
            },
            Column {
                name: "area_m2",
                label: t.get("calc.col.area"),
                input: Input::Typed("text", "decimal"),
            },
            Column {
                name: "connected",
                label: t.get("calc.col.connected"),
                input: Input::Select(yes_no_options(t)),
            },
        ];
        let premises = row_list("premises", &columns, &form.premises, |n| {
            faults.at_line("premises", n)
        });
        let rule_sets = rule_set_choices(t, state.rules.iter(), &form.rule_set);
        let chosen = chosen(&rule_sets);
        let page = HeatPage {
            premises,
            chrome: Chrome::new(ctx, staff),
            jurisdiction: whose(t, &state.rules, &chosen),
            rule_sets,
            form,
            faults,
            result,
        };
        Ok(with_status(render(&page)?, ok))
    }
}
