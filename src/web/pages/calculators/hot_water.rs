//! The hot-water-quality recalculation calculator: its form, result, page and handlers.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::form::Built;
use super::page::CalculatorForm;
use super::rows::{
    Column, INTERRUPTIONS, Input, READINGS, Row, RowListView, Submitted, number,
    parse_interruptions, parse_readings, row_list, text,
};
use super::{Choice, Faults, chosen, rule_set_choices, used_rules, whose, with_status};
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
    #[serde(skip)]
    readings: Vec<Row>,
    #[serde(skip)]
    interruptions: Vec<Row>,
}

/// Time zones a resident may pick, with their names (IANA names stay the API's format).
const TIMEZONES: [(&str, &str); 5] = [
    ("Europe/Kyiv", "calc.tz.kyiv"),
    ("Europe/Warsaw", "calc.tz.warsaw"),
    ("Europe/Berlin", "calc.tz.berlin"),
    ("Europe/London", "calc.tz.london"),
    ("UTC", "calc.tz.utc"),
];

fn row(cells: &[&str]) -> Row {
    cells.iter().map(|s| s.to_string()).collect()
}

struct AmountLine {
    label: String,
    amount: String,
    explanation: String,
}

pub(crate) struct HotWaterView {
    whose: String,
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
    timezones: Vec<Choice>,
    readings: RowListView,
    interruptions: RowListView,
    /// Whose rules the chosen rule set is.
    jurisdiction: String,
    faults: Faults,
    result: Option<HotWaterView>,
}

impl CalculatorForm for HotWaterForm {
    type Request = HotWaterRequest;
    type Response = HotWaterResponse;
    type View = HotWaterView;

    const LISTS: &'static [&'static str] = &["readings", "interruptions"];

    fn set_rows(&mut self, submitted: &Submitted) {
        self.readings = submitted.rows("readings", READINGS);
        self.interruptions = submitted.rows("interruptions", INTERRUPTIONS);
    }

    fn blank() -> Self {
        HotWaterForm::default()
    }

    /// RULES.md §5: ten day hours at 54 °C, four night hours at 49 °C, 36 hours below 40 °C, plus one
    /// planned interruption short enough to be allowed. Total 14.26 + 31.50 = 45.76.
    fn example() -> HotWaterForm {
        let mut readings = Vec::new();
        for h in 10..20 {
            readings.push(row(&["2024-04-02", &format!("{h:02}:00"), "54", "0.3"]));
        }
        for h in 0..4 {
            readings.push(row(&["2024-04-03", &format!("{h:02}:00"), "49", ""]));
        }
        for day in 10..13 {
            for h in 8..20 {
                readings.push(row(&[
                    &format!("2024-04-{day}"),
                    &format!("{h:02}:00"),
                    "35,5",
                    "",
                ]));
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
            readings,
            interruptions: vec![row(&[
                "2024-04-15",
                "08:00",
                "2024-04-15",
                "11:00",
                "planned",
            ])],
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
            whose: used.whose,
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
        let reading_columns = [
            Column {
                name: "date",
                label: t.get("calc.col.date"),
                input: Input::Typed("date", ""),
            },
            Column {
                name: "time",
                label: t.get("calc.col.hour"),
                input: Input::Typed("time", ""),
            },
            Column {
                name: "temperature_c",
                label: t.get("calc.col.temperature"),
                input: Input::Typed("text", "decimal"),
            },
            Column {
                name: "pressure_mpa",
                label: t.get("calc.col.pressure"),
                input: Input::Typed("text", "decimal"),
            },
        ];
        let mut kinds = vec![(String::new(), "—".to_string())];
        kinds.extend(
            ["planned", "accident", "dead_end_accident"]
                .into_iter()
                .map(|id| (id.to_string(), t.get(&format!("calc.interruption.{id}")))),
        );
        let interruption_columns = [
            Column {
                name: "start_date",
                label: t.get("calc.col.start_date"),
                input: Input::Typed("date", ""),
            },
            Column {
                name: "start_time",
                label: t.get("calc.col.start_time"),
                input: Input::Typed("time", ""),
            },
            Column {
                name: "end_date",
                label: t.get("calc.col.end_date"),
                input: Input::Typed("date", ""),
            },
            Column {
                name: "end_time",
                label: t.get("calc.col.end_time"),
                input: Input::Typed("time", ""),
            },
            Column {
                name: "kind",
                label: t.get("calc.col.kind"),
                input: Input::Select(kinds),
            },
        ];
        let readings = row_list("readings", &reading_columns, &form.readings, |n| {
            faults.at_line("readings", n)
        });
        let interruptions = row_list(
            "interruptions",
            &interruption_columns,
            &form.interruptions,
            |n| faults.at_line("interruptions", n),
        );
        let mut timezones = vec![Choice {
            value: String::new(),
            label: t.get("calc.tz.rules"),
            selected: form.timezone.trim().is_empty(),
        }];
        timezones.extend(TIMEZONES.into_iter().map(|(id, key)| Choice {
            value: id.to_string(),
            label: t.get(key),
            selected: form.timezone.trim() == id,
        }));
        // why: a zone typed through the API or an old link still shows as chosen.
        if !form.timezone.trim().is_empty() && !timezones.iter().any(|c| c.selected) {
            timezones.push(Choice {
                value: form.timezone.trim().to_string(),
                label: form.timezone.trim().to_string(),
                selected: true,
            });
        }
        let rule_sets = rule_set_choices(
            t,
            state.rules.iter().filter(|rs| rs.hot_water.is_some()),
            &form.rule_set,
        );
        let chosen = chosen(&rule_sets);
        let page = HotWaterPage {
            timezones,
            readings,
            interruptions,
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
