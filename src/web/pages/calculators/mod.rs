//! Residents' calculator pages: the JSON API's calculators as plain HTML forms that work without
//! JavaScript. Lists (charges, readings, premises) are rows of labelled inputs: a button adds a row,
//! and without JavaScript a few empty rows are always there.

mod absence;
mod form;
mod heat;
mod hot_water;
mod page;
mod rows;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::home::today;
use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::rules::jurisdiction::{Calculator, OnlineAnswer, online_answer};
use crate::domain::rules::{RuleSet, RuleSetRegistry};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;

pub use absence::AbsenceForm;
pub use heat::HeatForm;
pub use hot_water::HotWaterForm;
pub(crate) use page::{show, submit};

const HOT_WATER_PATH: &str = "/calculators/hot-water-quality";
const ABSENCE_PATH: &str = "/calculators/temporary-absence";
const HEAT_PATH: &str = "/calculators/heat-allocation";

// ---- shared views ----------------------------------------------------------------------------------

/// One fault as shown beside the form: the input it belongs to, a readable name, the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorView {
    /// The `id` of the input the fault is about, for the link from the summary.
    target: String,
    label: String,
    message: String,
    /// The textarea line it is about (0 for a single input), to list faults in reading order.
    line: usize,
}

/// Every fault of a submitted form, looked up per input by the templates.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    list: Vec<ErrorView>,
}

impl Faults {
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The messages about one input (or a row list as a whole), joined, when there are any.
    fn at(&self, target: &str) -> Option<String> {
        self.at_line(target, 0)
    }

    /// The messages about one row of a list (`line` 0: the input or list itself).
    fn at_line(&self, target: &str, line: usize) -> Option<String> {
        let msgs: Vec<String> = self
            .list
            .iter()
            .filter(|e| e.target == target && e.line == line)
            .map(|e| format!("{}: {}", e.label, e.message))
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    }

    /// The one fault of a form whose CSRF token did not match: the data is kept and the page
    /// carries a fresh token, so sending it again works.
    pub(crate) fn expired(t: Tr) -> Faults {
        Faults {
            list: vec![ErrorView {
                target: "calc-form".into(),
                label: t.get("calc.expired.label"),
                message: t.get("calc.expired.message"),
                line: 0,
            }],
        }
    }

    /// Whether an input has a fault, so the template can mark it `aria-invalid`.
    fn has(&self, target: &str) -> bool {
        self.list.iter().any(|e| e.target == target)
    }
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn rule_set_choices<'a>(
    t: Tr,
    sets: impl Iterator<Item = &'a RuleSet>,
    selected: &str,
) -> Vec<Choice> {
    sets.map(|rs| Choice {
        value: rs.id.clone(),
        label: format!(
            "{}: {}",
            t.pick(&rs.jurisdiction.country_name),
            t.pick(&rs.title)
        ),
        selected: rs.id == selected.trim(),
    })
    .collect()
}

/// The rule set a result names, for its title and currency.
struct UsedRules {
    title: String,
    currency: String,
    /// Whose rules these are, in a sentence.
    whose: String,
}

/// The rule set a select shows as chosen: the selected one, else the first.
fn chosen(choices: &[Choice]) -> String {
    choices
        .iter()
        .find(|c| c.selected)
        .or(choices.first())
        .map(|c| c.value.clone())
        .unwrap_or_default()
}

/// Whose rules a chosen rule set is, for the page before any result; empty when unknown.
fn whose(t: Tr, registry: &RuleSetRegistry, id: &str) -> String {
    registry
        .get(id)
        .map(|rs| t.pick(&rs.jurisdiction.whose()).to_string())
        .unwrap_or_default()
}

fn used_rules(t: Tr, registry: &RuleSetRegistry, id: &str) -> UsedRules {
    match registry.get(id) {
        Ok(rs) => UsedRules {
            title: t.pick(&rs.title).to_string(),
            currency: t.pick(&rs.currency).to_string(),
            whose: t.pick(&rs.jurisdiction.whose()).to_string(),
        },
        Err(_) => UsedRules {
            title: String::new(),
            currency: t.get("calc.currency"),
            whose: String::new(),
        },
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ExampleQuery {
    example: Option<String>,
}

fn with_status(mut resp: Response, ok: bool) -> Response {
    if !ok {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    resp
}
impl ErrorView {
    /// Where the summary links to: the row of a list, or the input.
    fn anchor(&self) -> String {
        if self.line > 0 {
            format!("{}-row-{}", self.target, self.line)
        } else {
            self.target.clone()
        }
    }
}

/// Yes and no for a row's select, "no" first as the default.
fn yes_no_options(t: Tr) -> Vec<(String, String)> {
    vec![
        ("no".to_string(), t.get("calc.no")),
        ("yes".to_string(), t.get("calc.yes")),
    ]
}

// ---- index -----------------------------------------------------------------------------------------

struct CalculatorCard {
    href: &'static str,
    title: String,
    summary: String,
    /// Titles of the catalog services the calculator answers.
    services: Vec<String>,
    /// Whose rules it computes by, one line per rule set.
    rules: Vec<String>,
}

#[derive(Template)]
#[template(path = "calculators/index.html")]
struct IndexPage {
    chrome: Chrome,
    cards: Vec<CalculatorCard>,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    // why: the calculators work without the database; only the catalog titles come from it, so a
    // database fault leaves the list of questions out rather than the whole page.
    let services = match store::catalog::snapshot(&state.caches, &state.db).await {
        Ok(s) => s.active_services().cloned().collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e, "catalog unavailable for the calculators index");
            Vec::new()
        }
    };
    let today = today();
    let cards = [
        (Calculator::HotWaterQuality, HOT_WATER_PATH, "hw"),
        (Calculator::TemporaryAbsence, ABSENCE_PATH, "abs"),
        (Calculator::HeatAllocation, HEAT_PATH, "heat"),
    ]
    .into_iter()
    .map(|(calculator, href, key)| CalculatorCard {
        href,
        title: t.get(&format!("calc.{key}.title")),
        summary: t.get(&format!("calc.{key}.summary")),
        services: services
            .iter()
            .filter(|s| {
                online_answer(&s.code, &state.rules, today)
                    == Some(OnlineAnswer::Calculator(calculator))
            })
            .map(|s| t.pick(&s.title).to_string())
            .collect(),
        rules: state
            .rules
            .iter()
            .filter(|rs| calculator != Calculator::HotWaterQuality || rs.hot_water.is_some())
            .map(|rs| t.pick(&rs.jurisdiction.whose()).to_string())
            .collect(),
    })
    .collect();
    render(&IndexPage {
        chrome: Chrome::new(&ctx, staff.as_ref()),
        cards,
    })
}

#[cfg(test)]
mod tests {
    use super::absence::AbsenceForm;
    use super::heat::HeatForm;
    use super::hot_water::HotWaterForm;
    use super::page::CalculatorForm;
    use crate::domain::rules::{
        RuleSetRegistry, calculate_absence, calculate_heat, calculate_hot_water,
    };

    fn reg() -> RuleSetRegistry {
        RuleSetRegistry::embedded().unwrap()
    }

    #[test]
    fn examples_compute() {
        let r = reg();
        let hw = HotWaterForm::example().build();
        assert!(hw.line_errors.is_empty());
        assert_eq!(calculate_hot_water(&hw.request, &r).unwrap().total, "45.76");
        let ab = AbsenceForm::example().build();
        assert_eq!(calculate_absence(&ab.request, &r).unwrap().total, "74.00");
        let h = HeatForm::example().build();
        assert_eq!(
            calculate_heat(&h.request, &r).unwrap().total_charge,
            "18278.04"
        );
    }
}
