//! The temporary-absence recalculation calculator: its form, result, document checklists, page and
//! handlers.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::form::Built;
use super::page::CalculatorForm;
use super::rows::{
    CHARGES, Column, Input, Row, RowListView, Submitted, parse_charges, persons, row_list, text,
};
use super::{
    Choice, Faults, chosen, rule_set_choices, used_rules, whose, with_status, yes_no_options,
};
use crate::app::AppState;
use crate::domain::rules::FieldError;
use crate::domain::rules::grounds::Ground;
use crate::domain::rules::requests::{
    AbsencePeriodRequest, AbsenceRequest, AbsenceResponse, DEFAULT_HEAT_RULE_SET,
};
use crate::domain::rules::services::Service;
use crate::domain::rules::{RuleSetRegistry, calculate_absence};
use crate::error::AppResult;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, render};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AbsenceForm {
    csrf: String,
    rule_set: String,
    application_date: String,
    from: String,
    to: String,
    ground: String,
    certificate_issued: String,
    registered_persons: String,
    absent_persons: String,
    #[serde(skip)]
    charges: Vec<Row>,
}

struct AbsenceLineView {
    month: String,
    service: String,
    charge: String,
    amount: String,
    explanation: String,
}

pub(crate) struct AbsenceView {
    whose: String,
    rule_set: String,
    rule_set_title: String,
    version: u32,
    currency: String,
    eligible: bool,
    reasons: Vec<String>,
    counted_days: u32,
    total: String,
    lines: Vec<AbsenceLineView>,
    explanation: Vec<String>,
}

#[derive(Template)]
#[template(path = "calculators/absence.html")]
struct AbsencePage {
    chrome: Chrome,
    form: AbsenceForm,
    rule_sets: Vec<Choice>,
    grounds: Vec<Choice>,
    charges: RowListView,
    /// Whose rules the chosen rule set is.
    jurisdiction: String,
    faults: Faults,
    result: Option<AbsenceView>,
    checklists: Vec<ChecklistView>,
}

/// The documents a ground needs under one rule set, for residents to prepare.
struct ChecklistView {
    ground: String,
    /// (document, how much it is needed)
    documents: Vec<(String, String)>,
}

fn checklists(t: Tr, state: &AppState, rule_set: &str) -> Vec<ChecklistView> {
    let Ok(rules) = state
        .rules
        .get(rule_set.trim())
        .or_else(|_| state.rules.get(DEFAULT_HEAT_RULE_SET))
    else {
        return Vec::new();
    };
    let docs = &rules.absence.documents;
    docs.grounds()
        .map(|g| ChecklistView {
            ground: t.pick(&g.name()).to_string(),
            documents: docs
                .checklist(g)
                .into_iter()
                .map(|item| {
                    let need = match item.need {
                        crate::domain::rules::grounds::Need::Required => "calc.need.required",
                        crate::domain::rules::grounds::Need::OneOf => "calc.need.one_of",
                        crate::domain::rules::grounds::Need::IfNeeded => "calc.need.if_needed",
                    };
                    (t.pick(&item.document.name).to_string(), t.get(need))
                })
                .collect(),
        })
        .collect()
}

impl CalculatorForm for AbsenceForm {
    type Request = AbsenceRequest;
    type Response = AbsenceResponse;
    type View = AbsenceView;

    const LISTS: &'static [&'static str] = &["charges"];

    fn set_rows(&mut self, submitted: &Submitted) {
        self.charges = submitted.rows("charges", CHARGES);
    }

    fn blank() -> AbsenceForm {
        AbsenceForm {
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            ..AbsenceForm::default()
        }
    }

    /// Two of three persons away studying from 20 March to 25 April (37 days):
    /// 93.00 × 2/3 × 12/31 = 24.00 and 90.00 × 2/3 × 25/30 = 50.00; heating is never reduced.
    fn example() -> AbsenceForm {
        AbsenceForm {
            csrf: String::new(),
            rule_set: "ua-zaporizhzhia-2023".into(),
            application_date: "2024-04-28".into(),
            from: "2024-03-20".into(),
            to: "2024-04-25".into(),
            ground: "study".into(),
            certificate_issued: String::new(),
            registered_persons: "3".into(),
            absent_persons: "2".into(),
            charges: [
                ["2024-03", "cold_water", "93.00", "no"],
                ["2024-04", "cold_water", "90.00", "no"],
                ["2024-04", "heating", "1500.00", "no"],
            ]
            .into_iter()
            .map(|r| r.map(String::from).to_vec())
            .collect(),
        }
    }

    fn build(&self) -> Built<AbsenceRequest> {
        let charges = parse_charges(&self.charges);
        let mut field_errors = Vec::new();
        let registered_persons = persons(
            "registered_persons",
            &self.registered_persons,
            &mut field_errors,
        );
        let absent_persons = persons("absent_persons", &self.absent_persons, &mut field_errors);
        Built {
            request: AbsenceRequest {
                rule_set: text(&self.rule_set),
                application_date: text(&self.application_date),
                absence: Some(AbsencePeriodRequest {
                    from: text(&self.from),
                    to: text(&self.to),
                    ground: text(&self.ground),
                }),
                certificate_issued: text(&self.certificate_issued),
                // why: the page is a resident's estimate; which documents were seen is the clerk's check.
                documents_seen: None,
                registered_persons,
                absent_persons,
                charges: charges.rows,
            },
            field_errors,
            line_errors: charges.errors,
            lines: vec![("charges", charges.lines)],
        }
    }

    fn csrf(&self) -> &str {
        &self.csrf
    }

    fn calculate(
        request: &AbsenceRequest,
        rules: &RuleSetRegistry,
    ) -> Result<AbsenceResponse, Vec<FieldError>> {
        calculate_absence(request, rules)
    }

    fn view(t: Tr, registry: &RuleSetRegistry, r: AbsenceResponse) -> AbsenceView {
        let used = used_rules(t, registry, &r.rule_set);
        AbsenceView {
            whose: used.whose,
            rule_set_title: used.title,
            currency: used.currency,
            version: r.version,
            eligible: r.eligible,
            reasons: r.reasons.iter().map(|e| t.pick(e).to_string()).collect(),
            counted_days: r.counted_days,
            total: r.total,
            lines: r
                .lines
                .into_iter()
                .map(|l| AbsenceLineView {
                    month: l.month,
                    service: t.pick(&l.service.name()).to_string(),
                    charge: l.charge,
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
        form: AbsenceForm,
        outcome: Result<Option<AbsenceView>, Faults>,
    ) -> AppResult<Response> {
        let t = Tr(ctx.lang);
        let ok = outcome.is_ok();
        let (result, faults) = match outcome {
            Ok(r) => (r, Faults::default()),
            Err(f) => (None, f),
        };
        let mut services = vec![(String::new(), "—".to_string())];
        services.extend(
            Service::ALL
                .into_iter()
                .map(|s| (s.id().to_string(), t.pick(&s.name()).to_string())),
        );
        let columns = [
            Column {
                name: "month",
                label: t.get("calc.field.month"),
                input: Input::Typed("month", ""),
            },
            Column {
                name: "service",
                label: t.get("calc.col.service"),
                input: Input::Select(services),
            },
            Column {
                name: "amount",
                label: format!("{}, {}", t.get("calc.abs.charged"), t.get("calc.currency")),
                input: Input::Typed("text", "decimal"),
            },
            Column {
                name: "metered",
                label: t.get("calc.col.metered"),
                input: Input::Select(yes_no_options(t)),
            },
        ];
        let charges = row_list("charges", &columns, &form.charges, |n| {
            faults.at_line("charges", n)
        });
        let rule_sets = rule_set_choices(t, state.rules.iter(), &form.rule_set);
        let chosen = chosen(&rule_sets);
        let page = AbsencePage {
            charges,
            chrome: Chrome::new(ctx, staff),
            jurisdiction: whose(t, &state.rules, &chosen),
            rule_sets,
            grounds: Ground::ALL
                .into_iter()
                .map(|g| Choice {
                    value: g.id().to_string(),
                    label: t.pick(&g.name()).to_string(),
                    selected: g.id() == form.ground.trim(),
                })
                .collect(),
            checklists: checklists(t, state, &form.rule_set),
            form,
            faults,
            result,
        };
        Ok(with_status(render(&page)?, ok))
    }
}

#[cfg(test)]
mod tests {
    use super::super::form::outcome;
    use super::*;
    use crate::domain::lang::Lang;

    fn reg() -> RuleSetRegistry {
        RuleSetRegistry::embedded().unwrap()
    }

    #[test]
    fn unreadable_numbers_are_reported_once() {
        let mut form = AbsenceForm::example();
        form.registered_persons = "three".into();
        form.charges
            .push(["2024-04", "gas", "10", ""].map(String::from).to_vec());
        let built = form.build();
        let faults = outcome(Tr(Lang::En), &built, |q| calculate_absence(q, &reg())).unwrap_err();
        let targets: Vec<&str> = faults.list.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["registered_persons", "charges"]);
        assert!(faults.list[0].message.contains("three"));
        assert!(
            faults.list[1].label.contains("row 4"),
            "{}",
            faults.list[1].label
        );
    }
}
