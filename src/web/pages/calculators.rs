//! Residents' calculator pages: the JSON API's calculators as plain HTML forms that work without
//! JavaScript. Multi-row inputs are textareas, one row a line, parts separated by `;`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::home::online_answer;
use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::lang::Text;
use crate::domain::rules::grounds::Ground;
use crate::domain::rules::numbers::NumberInput;
use crate::domain::rules::requests::{
    AbsencePeriodRequest, AbsenceRequest, AbsenceResponse, ChargeRequest, DEFAULT_HEAT_RULE_SET,
    HeatRequest, HeatResponse, HotWaterRequest, HotWaterResponse, InterruptionRequest,
    PremiseRequest, ReadingRequest,
};
use crate::domain::rules::services::Service;
use crate::domain::rules::{
    FieldError, RuleSet, RuleSetRegistry, calculate_absence, calculate_heat, calculate_hot_water,
};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

pub const HOT_WATER_PATH: &str = "/calculators/hot-water-quality";
pub const ABSENCE_PATH: &str = "/calculators/temporary-absence";
pub const HEAT_PATH: &str = "/calculators/heat-allocation";

// ---- shared views ----------------------------------------------------------------------------------

/// One fault as shown beside the form: the input it belongs to, a readable name, the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorView {
    /// The `id` of the input the fault is about, for the link from the summary.
    pub target: String,
    pub label: String,
    pub message: String,
    /// The textarea line it is about (0 for a single input), to list faults in reading order.
    pub line: usize,
}

/// Every fault of a submitted form, looked up per input by the templates.
#[derive(Debug, Default)]
pub struct Faults {
    pub list: Vec<ErrorView>,
}

impl Faults {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The messages about one input, joined, when there are any.
    pub fn at(&self, target: &str) -> Option<String> {
        let msgs: Vec<String> = self
            .list
            .iter()
            .filter(|e| e.target == target)
            .map(|e| format!("{}: {}", e.label, e.message))
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    }

    /// Whether an input has a fault, so the template can mark it `aria-invalid`.
    pub fn has(&self, target: &str) -> bool {
        self.list.iter().any(|e| e.target == target)
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An identifier residents type into a textarea, with its name in their language.
pub struct Identifier {
    pub id: &'static str,
    pub label: String,
}

fn rule_set_choices<'a>(
    t: Tr,
    sets: impl Iterator<Item = &'a RuleSet>,
    selected: &str,
) -> Vec<Choice> {
    sets.map(|rs| Choice {
        value: rs.id.clone(),
        label: format!("{} — {}", rs.id, t.pick(&rs.title)),
        selected: rs.id == selected.trim(),
    })
    .collect()
}

/// The rule set a result names, for its title and currency.
struct UsedRules {
    title: String,
    currency: String,
}

fn used_rules(t: Tr, registry: &RuleSetRegistry, id: &str) -> UsedRules {
    match registry.get(id) {
        Ok(rs) => UsedRules {
            title: t.pick(&rs.title).to_string(),
            currency: t.pick(&rs.currency).to_string(),
        },
        Err(_) => UsedRules {
            title: String::new(),
            currency: t.get("calc.currency"),
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

// ---- textarea lines --------------------------------------------------------------------------------

/// A textarea line that does not split into the expected parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The textarea (and request list) it belongs to.
    pub list: &'static str,
    /// 1-based, counting every line of the textarea as the resident sees it.
    pub line: usize,
    pub message: Text,
}

/// The rows of one textarea as request items, with the textarea line each came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    /// `lines[i]` is the textarea line of `rows[i]`, so `charges[2]` can be named "line 5".
    pub lines: Vec<usize>,
    pub errors: Vec<LineError>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            rows: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// The non-blank lines of a textarea: (1-based line number, its parts split at `;`, trimmed).
fn data_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split(';').map(str::trim).collect()))
}

fn shape_error(list: &'static str, line: usize, format: &Text, got: usize) -> LineError {
    LineError {
        list,
        line,
        message: Text::new(
            format!(
                "рядок {line} має {got} част. через «;», а потрібно так: «{}».",
                format.uk
            ),
            format!(
                "line {line} has {got} part(s) separated by \";\"; it must look like \"{}\".",
                format.en
            ),
        ),
    }
}

fn bool_error(list: &'static str, line: usize, value: &str) -> LineError {
    LineError {
        list,
        line,
        message: Text::new(
            format!("рядок {line}: «{value}» — потрібно так або ні (також yes/no, 1/0)."),
            format!("line {line}: \"{value}\" must be yes or no (also так/ні, 1/0)."),
        ),
    }
}

/// Yes/no as residents type it, in either language.
pub fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "так" | "yes" | "y" | "1" | "true" | "т" | "+" => Some(true),
        "ні" | "no" | "n" | "0" | "false" | "н" | "-" => Some(false),
        _ => None,
    }
}

fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn number(s: &str) -> Option<NumberInput> {
    text(s).map(NumberInput::Text)
}

/// `YYYY-MM-DDTHH:MM; temperature; pressure` (temperature or pressure may be empty or left off).
pub fn parse_readings(input: &str) -> Rows<ReadingRequest> {
    let format = Text::new(
        "РРРР-ММ-ДДTГГ:ХХ; температура °C; тиск МПа",
        "YYYY-MM-DDTHH:MM; temperature °C; pressure MPa",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if !(1..=3).contains(&parts.len()) {
            out.errors
                .push(shape_error("readings", line, &format, parts.len()));
            continue;
        }
        out.rows.push(ReadingRequest {
            hour: text(parts[0]),
            temperature_c: parts.get(1).and_then(|s| number(s)),
            pressure_mpa: parts.get(2).and_then(|s| number(s)),
        });
        out.lines.push(line);
    }
    out
}

/// `start; end; kind`.
pub fn parse_interruptions(input: &str) -> Rows<InterruptionRequest> {
    let format = Text::new(
        "РРРР-ММ-ДДTГГ:ХХ; РРРР-ММ-ДДTГГ:ХХ; вид",
        "YYYY-MM-DDTHH:MM; YYYY-MM-DDTHH:MM; kind",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 3 {
            out.errors
                .push(shape_error("interruptions", line, &format, parts.len()));
            continue;
        }
        out.rows.push(InterruptionRequest {
            start: text(parts[0]),
            end: text(parts[1]),
            kind: text(parts[2]),
        });
        out.lines.push(line);
    }
    out
}

/// `YYYY-MM; service; amount; metered`.
pub fn parse_charges(input: &str) -> Rows<ChargeRequest> {
    let format = Text::new(
        "РРРР-ММ; послуга; сума; лічильник так/ні",
        "YYYY-MM; service; amount; metered yes/no",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 4 {
            out.errors
                .push(shape_error("charges", line, &format, parts.len()));
            continue;
        }
        let Some(metered) = parse_yes_no(parts[3]) else {
            out.errors.push(bool_error("charges", line, parts[3]));
            continue;
        };
        out.rows.push(ChargeRequest {
            month: text(parts[0]),
            service: text(parts[1]),
            amount: number(parts[2]),
            metered: Some(metered),
        });
        out.lines.push(line);
    }
    out
}

/// `id; area_m2; connected`.
pub fn parse_premises(input: &str) -> Rows<PremiseRequest> {
    let format = Text::new(
        "приміщення; площа м²; підключене так/ні",
        "premise; area m²; connected yes/no",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 3 {
            out.errors
                .push(shape_error("premises", line, &format, parts.len()));
            continue;
        }
        let Some(connected) = parse_yes_no(parts[2]) else {
            out.errors.push(bool_error("premises", line, parts[2]));
            continue;
        };
        out.rows.push(PremiseRequest {
            id: text(parts[0]),
            area_m2: number(parts[1]),
            connected: Some(connected),
        });
        out.lines.push(line);
    }
    out
}

/// A whole number of persons; text that is not one is a fault of its own.
fn persons(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!("«{s}» — не ціле число."),
                    format!("\"{s}\" is not a whole number."),
                ),
            ));
            None
        }
    }
}

// ---- from a form to a request and back to what the page shows -------------------------------------

/// A request built from a form, with the faults found before the calculator saw it.
pub struct Built<Q> {
    pub request: Q,
    pub field_errors: Vec<FieldError>,
    pub line_errors: Vec<LineError>,
    /// For each textarea: the textarea line of each request item.
    pub lines: Vec<(&'static str, Vec<usize>)>,
}

/// The readable name of an input, from `calc.field.<name>`; the name itself when there is none.
fn field_label(t: Tr, name: &str) -> String {
    let key = format!("calc.field.{name}");
    let label = t.get(&key);
    if label == key {
        name.to_string()
    } else {
        label
    }
}

/// Names a calculator's field path for a resident: `readings[3].hour` → "Readings, line 5: hour".
pub fn describe_field(
    t: Tr,
    field: &str,
    lines: &[(&'static str, Vec<usize>)],
) -> (String, String, usize) {
    let field = field.strip_prefix("absence.").unwrap_or(field);
    let Some((list, rest)) = field.split_once('[') else {
        return (field.to_string(), field_label(t, field), 0);
    };
    let (index, sub) = rest.split_once(']').unwrap_or((rest, ""));
    let sub = sub.trim_start_matches('.');
    let line = index.parse::<usize>().ok().map(|i| {
        lines
            .iter()
            .find(|(name, _)| *name == list)
            .and_then(|(_, ls)| ls.get(i).copied())
            .unwrap_or(i + 1)
    });
    let mut label = field_label(t, list);
    if let Some(n) = line {
        label = format!("{label}, {} {n}", t.get("calc.line"));
    }
    if !sub.is_empty() {
        label = format!("{label}: {}", field_label(t, sub));
    }
    (list.to_string(), label, line.unwrap_or(0))
}

/// Runs the calculator unless the form itself was faulty, and names every fault for the page.
fn outcome<Q, R>(
    t: Tr,
    built: &Built<Q>,
    calculate: impl FnOnce(&Q) -> Result<R, Vec<FieldError>>,
) -> Result<R, Faults> {
    let computed = calculate(&built.request);
    let domain = match computed {
        Ok(r) if built.field_errors.is_empty() && built.line_errors.is_empty() => return Ok(r),
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    // why: a number the form could not read reaches the calculator as missing; its "required"
    // would only repeat the form's own, clearer, message.
    let own: Vec<&str> = built
        .field_errors
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    let mut list: Vec<ErrorView> = built
        .field_errors
        .iter()
        .chain(domain.iter().filter(|e| !own.contains(&e.field.as_str())))
        .map(|e| {
            let (target, label, line) = describe_field(t, &e.field, &built.lines);
            ErrorView {
                target,
                label,
                message: t.pick(&e.message).to_string(),
                line,
            }
        })
        .collect();
    list.extend(built.line_errors.iter().map(|e| ErrorView {
        target: e.list.to_string(),
        label: format!(
            "{}, {} {}",
            field_label(t, e.list),
            t.get("calc.line"),
            e.line
        ),
        message: t.pick(&e.message).to_string(),
        line: e.line,
    }));
    // why: the calculator lists faults in form order and the line faults come last; grouping them
    // by input and then by line reads like the form, top to bottom.
    let order: Vec<String> = list.iter().map(|e| e.target.clone()).collect();
    list.sort_by_key(|e| (order.iter().position(|o| *o == e.target), e.line));
    Err(Faults { list })
}

// ---- index -----------------------------------------------------------------------------------------

pub struct CalculatorCard {
    pub href: &'static str,
    pub title: String,
    pub summary: String,
    /// Titles of the catalog services the calculator answers.
    pub services: Vec<String>,
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
    let services = match store::catalog::list_services(&state.db, false).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "catalog unavailable for the calculators index");
            Vec::new()
        }
    };
    let cards = [
        (HOT_WATER_PATH, "hw"),
        (ABSENCE_PATH, "abs"),
        (HEAT_PATH, "heat"),
    ]
    .into_iter()
    .map(|(href, key)| CalculatorCard {
        href,
        title: t.get(&format!("calc.{key}.title")),
        summary: t.get(&format!("calc.{key}.summary")),
        services: services
            .iter()
            .filter(|s| online_answer(&s.code) == Some(href))
            .map(|s| t.pick(&s.title).to_string())
            .collect(),
    })
    .collect();
    render(&IndexPage {
        chrome: Chrome::new(&ctx, staff.as_ref()),
        cards,
    })
}

// ---- hot water -------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HotWaterForm {
    pub csrf: String,
    pub rule_set: String,
    pub month: String,
    pub timezone: String,
    pub charge: String,
    pub hot_tariff: String,
    pub cold_tariff: String,
    pub volume_m3: String,
    pub readings: String,
    pub interruptions: String,
}

impl HotWaterForm {
    /// RULES.md §5: ten day hours at 54 °C, four night hours at 49 °C, 36 hours below 40 °C, plus one
    /// planned interruption short enough to be allowed. Total 14.26 + 31.50 = 45.76.
    pub fn example() -> HotWaterForm {
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

    pub fn build(&self) -> Built<HotWaterRequest> {
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
}

pub struct AmountLine {
    pub label: String,
    pub amount: String,
    pub explanation: String,
}

pub struct HotWaterView {
    pub rule_set: String,
    pub rule_set_title: String,
    pub version: u32,
    pub currency: String,
    pub charge: String,
    pub total: String,
    pub lines: Vec<AmountLine>,
    pub explanation: Vec<String>,
}

fn hot_water_view(t: Tr, registry: &RuleSetRegistry, r: HotWaterResponse) -> HotWaterView {
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

fn hot_water_page(
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

pub async fn hot_water_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<ExampleQuery>,
) -> AppResult<Response> {
    let form = if q.example.is_some() {
        HotWaterForm::example()
    } else {
        HotWaterForm::default()
    };
    hot_water_page(&state, &ctx, staff.as_ref(), form, Ok(None))
}

pub async fn hot_water_submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    axum::Form(form): axum::Form<HotWaterForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let t = Tr(ctx.lang);
    let built = form.build();
    let outcome = outcome(t, &built, |q| calculate_hot_water(q, &state.rules))
        .map(|r| Some(hot_water_view(t, &state.rules, r)));
    hot_water_page(&state, &ctx, staff.as_ref(), form, outcome)
}

// ---- temporary absence -----------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AbsenceForm {
    pub csrf: String,
    pub rule_set: String,
    pub application_date: String,
    pub from: String,
    pub to: String,
    pub ground: String,
    pub certificate_issued: String,
    pub registered_persons: String,
    pub absent_persons: String,
    pub charges: String,
}

impl AbsenceForm {
    fn blank() -> AbsenceForm {
        AbsenceForm {
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            ..AbsenceForm::default()
        }
    }

    /// Two of three persons away studying from 20 March to 25 April (37 days):
    /// 93.00 × 2/3 × 12/31 = 24.00 and 90.00 × 2/3 × 25/30 = 50.00; heating is never reduced.
    pub fn example() -> AbsenceForm {
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
                "2024-03; cold_water; 93.00; ні",
                "2024-04; cold_water; 90.00; ні",
                "2024-04; heating; 1500.00; ні",
            ]
            .join("\n"),
        }
    }

    pub fn build(&self) -> Built<AbsenceRequest> {
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
}

pub struct AbsenceLineView {
    pub month: String,
    pub service: String,
    pub charge: String,
    pub amount: String,
    pub explanation: String,
}

pub struct AbsenceView {
    pub rule_set: String,
    pub rule_set_title: String,
    pub version: u32,
    pub currency: String,
    pub eligible: bool,
    pub reasons: Vec<String>,
    pub counted_days: u32,
    pub total: String,
    pub lines: Vec<AbsenceLineView>,
    pub explanation: Vec<String>,
}

fn absence_view(t: Tr, registry: &RuleSetRegistry, r: AbsenceResponse) -> AbsenceView {
    let used = used_rules(t, registry, &r.rule_set);
    AbsenceView {
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

#[derive(Template)]
#[template(path = "calculators/absence.html")]
struct AbsencePage {
    chrome: Chrome,
    form: AbsenceForm,
    rule_sets: Vec<Choice>,
    grounds: Vec<Choice>,
    services: Vec<Identifier>,
    faults: Faults,
    result: Option<AbsenceView>,
    checklists: Vec<ChecklistView>,
}

/// The documents a ground needs under one rule set, for residents to prepare.
pub struct ChecklistView {
    pub ground: String,
    /// (document, how much it is needed)
    pub documents: Vec<(String, String)>,
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

fn absence_page(
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
    let page = AbsencePage {
        chrome: Chrome::new(ctx, staff),
        rule_sets: rule_set_choices(t, state.rules.iter(), &form.rule_set),
        grounds: Ground::ALL
            .into_iter()
            .map(|g| Choice {
                value: g.id().to_string(),
                label: format!("{} ({})", t.pick(&g.name()), g.id()),
                selected: g.id() == form.ground.trim(),
            })
            .collect(),
        services: Service::ALL
            .into_iter()
            .map(|s| Identifier {
                id: s.id(),
                label: t.pick(&s.name()).to_string(),
            })
            .collect(),
        checklists: checklists(t, state, &form.rule_set),
        form,
        faults,
        result,
    };
    Ok(with_status(render(&page)?, ok))
}

pub async fn absence_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<ExampleQuery>,
) -> AppResult<Response> {
    let form = if q.example.is_some() {
        AbsenceForm::example()
    } else {
        AbsenceForm::blank()
    };
    absence_page(&state, &ctx, staff.as_ref(), form, Ok(None))
}

pub async fn absence_submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    axum::Form(form): axum::Form<AbsenceForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let t = Tr(ctx.lang);
    let built = form.build();
    let outcome = outcome(t, &built, |q| calculate_absence(q, &state.rules))
        .map(|r| Some(absence_view(t, &state.rules, r)));
    absence_page(&state, &ctx, staff.as_ref(), form, outcome)
}

// ---- heat ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeatForm {
    pub csrf: String,
    pub rule_set: String,
    pub heat_gcal: String,
    pub tariff_per_gcal: String,
    pub common_share: String,
    pub premises: String,
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
    pub fn example() -> HeatForm {
        HeatForm {
            csrf: String::new(),
            rule_set: DEFAULT_HEAT_RULE_SET.into(),
            heat_gcal: "12".into(),
            tariff_per_gcal: "1523.17".into(),
            common_share: "0.25".into(),
            premises: ["A; 60; так", "B; 30; так", "C; 10; ні"].join("\n"),
        }
    }

    pub fn build(&self) -> Built<HeatRequest> {
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

pub struct PremiseView {
    pub id: String,
    pub heat_gcal: String,
    pub charge: String,
    pub explanation: String,
}

pub struct HeatView {
    pub rule_set: String,
    pub rule_set_title: String,
    pub version: u32,
    pub currency: String,
    pub common_share: String,
    pub premises: Vec<PremiseView>,
    pub total_gcal: String,
    pub total_charge: String,
    pub explanation: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lang::Lang;

    fn reg() -> RuleSetRegistry {
        RuleSetRegistry::embedded().unwrap()
    }

    #[test]
    fn readings_keep_their_line_numbers_and_optional_parts() {
        let rows = parse_readings(
            "\n2024-04-02T10:00; 54; 0.3\n\n2024-04-02T11:00; ; 0,2\n2024-04-02T12:00\n",
        );
        assert!(rows.errors.is_empty());
        assert_eq!(rows.lines, [2, 4, 5]);
        assert_eq!(rows.rows[0].temperature_c, Some(NumberInput::from("54")));
        assert_eq!(rows.rows[1].temperature_c, None);
        assert_eq!(rows.rows[1].pressure_mpa, Some(NumberInput::from("0,2")));
        assert_eq!(rows.rows[2].pressure_mpa, None);
        let bad = parse_readings("2024-04-02T10:00; 54; 0.3; extra");
        assert_eq!(bad.errors.len(), 1);
        assert_eq!(bad.errors[0].line, 1);
        assert!(bad.errors[0].message.uk.contains("рядок 1"));
        assert!(bad.errors[0].message.en.contains("line 1"));
        assert!(bad.rows.is_empty());
    }

    #[test]
    fn charges_and_premises_need_every_part_and_a_yes_or_no() {
        let c = parse_charges(
            "2024-03; gas; 10; так\n2024-03; gas; 10\n2024-03; gas; 10; maybe\n2024-04; waste; 5; No",
        );
        assert_eq!(c.lines, [1, 4]);
        assert_eq!(c.rows[0].metered, Some(true));
        assert_eq!(c.rows[1].metered, Some(false));
        assert_eq!(c.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
        assert!(c.errors[1].message.en.contains("maybe"));
        let p = parse_premises("A; 60; 1\nB; 30\nC; 10; ні");
        assert_eq!(p.lines, [1, 3]);
        assert_eq!(p.rows[1].connected, Some(false));
        assert_eq!(p.errors[0].line, 2);
        let i = parse_interruptions("2024-04-01T10:00; 2024-04-01T12:00; planned\nnope");
        assert_eq!(i.rows.len(), 1);
        assert_eq!(i.errors[0].list, "interruptions");
    }

    #[test]
    fn yes_no_in_both_languages() {
        for s in ["так", "Так", "yes", "1", "TRUE"] {
            assert_eq!(parse_yes_no(s), Some(true), "{s}");
        }
        for s in ["ні", "НІ", "no", "0", "false"] {
            assert_eq!(parse_yes_no(s), Some(false), "{s}");
        }
        assert_eq!(parse_yes_no("maybe"), None);
    }

    #[test]
    fn field_paths_become_line_labels() {
        let lines = vec![("readings", vec![2, 4, 7])];
        let (target, label, line) = describe_field(Tr(Lang::En), "readings[2].hour", &lines);
        assert_eq!(line, 7);
        assert_eq!(target, "readings");
        assert!(label.contains("line 7"), "{label}");
        let (target, label, _) = describe_field(Tr(Lang::Uk), "absence.from", &lines);
        assert_eq!(target, "from");
        assert_ne!(label, "from");
        // A list the page did not number falls back to the position.
        let (_, label, _) = describe_field(Tr(Lang::En), "premises[0].id", &lines);
        assert!(label.contains("line 1"), "{label}");
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

    #[test]
    fn unreadable_numbers_are_reported_once() {
        let mut form = AbsenceForm::example();
        form.registered_persons = "three".into();
        form.charges.push_str("\n2024-04; gas");
        let built = form.build();
        let faults = outcome(Tr(Lang::En), &built, |q| calculate_absence(q, &reg())).unwrap_err();
        let targets: Vec<&str> = faults.list.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["registered_persons", "charges"]);
        assert!(faults.list[0].message.contains("three"));
        assert!(
            faults.list[1].label.contains("line 4"),
            "{}",
            faults.list[1].label
        );
    }
}
