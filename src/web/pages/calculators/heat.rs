//! The heat-allocation calculator: its form, result, page and handlers.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::form::{Built, outcome};
use super::lines::{number, parse_premises, text};
use super::{Choice, ExampleQuery, Faults, rule_set_choices, used_rules, with_status};
use crate::app::AppState;
use crate::domain::rules::requests::{DEFAULT_HEAT_RULE_SET, HeatRequest, HeatResponse};
use crate::domain::rules::{RuleSetRegistry, calculate_heat};
use crate::error::AppResult;
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
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
    premises: String,
}

impl HeatForm {
    fn blank() -> HeatForm {
        HeatForm {
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            ..HeatForm::default()
        }
    }

    /// 12 Gcal, a quarter shared by area; C (10 m²) is disconnected and pays only the common part:
    /// 0.25 × 12 × 10/100 = 0.3 Gcal.
    pub(super) fn example() -> HeatForm {
        HeatForm {
            csrf: String::new(),
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            heat_gcal: "12".into(),
            tariff_per_gcal: "1523.17".into(),
            common_share: "0.25".into(),
            premises: ["A; 60; так", "B; 30; так", "C; 10; ні"].join("\n"),
        }
    }

    pub(super) fn build(&self) -> Built<HeatRequest> {
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
}

struct PremiseView {
    id: String,
    heat_gcal: String,
    charge: String,
    explanation: String,
}

struct HeatView {
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

fn heat_view(t: Tr, registry: &RuleSetRegistry, r: HeatResponse) -> HeatView {
    let used = used_rules(t, registry, &r.rule_set);
    HeatView {
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

#[derive(Template)]
#[template(path = "calculators/heat.html")]
struct HeatPage {
    chrome: Chrome,
    form: HeatForm,
    rule_sets: Vec<Choice>,
    faults: Faults,
    result: Option<HeatView>,
}

fn heat_page(
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
    let page = HeatPage {
        chrome: Chrome::new(ctx, staff),
        rule_sets: rule_set_choices(t, state.rules.iter(), &form.rule_set),
        form,
        faults,
        result,
    };
    Ok(with_status(render(&page)?, ok))
}

pub async fn heat_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<ExampleQuery>,
) -> AppResult<Response> {
    let form = if q.example.is_some() {
        HeatForm::example()
    } else {
        HeatForm::blank()
    };
    heat_page(&state, &ctx, staff.as_ref(), form, Ok(None))
}

pub async fn heat_submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    axum::Form(form): axum::Form<HeatForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let t = Tr(ctx.lang);
    let built = form.build();
    let outcome = outcome(t, &built, |q| calculate_heat(q, &state.rules))
        .map(|r| Some(heat_view(t, &state.rules, r)));
    heat_page(&state, &ctx, staff.as_ref(), form, outcome)
}
