//! JSON shapes of the three calculators: requests with plain strings (parsed and checked here, every
//! fault named by its field, in both languages) and responses with amounts as decimal strings.

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::absence::{self, AbsenceInput, AbsenceResult, Charge};
use super::calendar::{YearMonth, parse_date};
use super::grounds::Ground;
use super::heat::{self, HeatInput, HeatResult, Premise};
use super::hot_water::{
    self, HotWaterInput, HotWaterResult, Interruption, InterruptionKind, LineKind, Reading,
};
use super::numbers::{NumberInput, fixed, parse_decimal, parse_quantity};
use super::rule_set::{RuleSet, RuleSetRegistry};
use super::services::Service;
use crate::domain::lang::Text;
use crate::domain::money::Money;

/// A checked request: the rule set it names and the typed domain input.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated<'r, T> {
    pub rule_set: &'r RuleSet,
    pub input: T,
}

// why: the heat request has no rule set in the shape; heating in these centers follows
// Ukrainian rules, so the Ukrainian rule set is the default and `rule_set` may name another.
pub const DEFAULT_HEAT_RULE_SET: &str = "ua-zaporizhzhia-2023";

// ---- requests --------------------------------------------------------------------------------------

// why: every field is optional at the serde level so that a missing one is reported like any other
// fault (by name, in both languages) instead of failing the whole body on the first one; unknown
// fields are refused because a misspelt "temperature_c" would silently count an hour as normal.

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotWaterRequest {
    pub rule_set: Option<String>,
    pub month: Option<String>,
    pub timezone: Option<String>,
    pub charge: Option<NumberInput>,
    pub hot_tariff: Option<NumberInput>,
    pub cold_tariff: Option<NumberInput>,
    pub volume_m3: Option<NumberInput>,
    #[serde(default)]
    pub readings: Vec<ReadingRequest>,
    #[serde(default)]
    pub interruptions: Vec<InterruptionRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingRequest {
    pub hour: Option<String>,
    pub temperature_c: Option<NumberInput>,
    pub pressure_mpa: Option<NumberInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterruptionRequest {
    pub start: Option<String>,
    pub end: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceRequest {
    pub rule_set: Option<String>,
    pub application_date: Option<String>,
    pub absence: Option<AbsencePeriodRequest>,
    pub certificate_issued: Option<String>,
    /// Absent: documents are not checked (a resident's estimate).
    pub documents_seen: Option<Vec<String>>,
    pub registered_persons: Option<i64>,
    pub absent_persons: Option<i64>,
    #[serde(default)]
    pub charges: Vec<ChargeRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsencePeriodRequest {
    pub from: Option<String>,
    pub to: Option<String>,
    pub ground: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    pub month: Option<String>,
    pub service: Option<String>,
    pub amount: Option<NumberInput>,
    pub metered: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeatRequest {
    /// Optional; `ua-zaporizhzhia-2023` when absent.
    pub rule_set: Option<String>,
    pub heat_gcal: Option<NumberInput>,
    pub tariff_per_gcal: Option<NumberInput>,
    pub common_share: Option<NumberInput>,
    #[serde(default)]
    pub premises: Vec<PremiseRequest>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PremiseRequest {
    pub id: Option<String>,
    pub area_m2: Option<NumberInput>,
    pub connected: Option<bool>,
}

// ---- responses -------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HotWaterResponse {
    pub rule_set: String,
    pub version: u32,
    /// Whose rules these are: country, city, document, in force, legal status.
    pub rules: Text,
    pub charge: String,
    pub total: String,
    pub lines: Vec<HotWaterLineResponse>,
    pub explanation: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HotWaterLineResponse {
    pub kind: LineKind,
    pub amount: String,
    pub explanation: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AbsenceResponse {
    pub rule_set: String,
    pub version: u32,
    /// Whose rules these are: country, city, document, in force, legal status.
    pub rules: Text,
    pub eligible: bool,
    pub reasons: Vec<Text>,
    pub counted_days: u32,
    pub total: String,
    pub lines: Vec<AbsenceLineResponse>,
    pub explanation: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AbsenceLineResponse {
    pub month: String,
    pub service: Service,
    pub charge: String,
    pub amount: String,
    pub explanation: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HeatResponse {
    pub rule_set: String,
    pub version: u32,
    /// Whose rules these are: country, city, document, in force, legal status.
    pub rules: Text,
    pub common_share: String,
    pub premises: Vec<PremiseHeatResponse>,
    pub total_gcal: String,
    pub total_charge: String,
    pub explanation: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PremiseHeatResponse {
    pub id: String,
    pub heat_gcal: String,
    pub charge: String,
    pub explanation: Text,
}

impl From<HotWaterResult> for HotWaterResponse {
    fn from(r: HotWaterResult) -> Self {
        HotWaterResponse {
            rule_set: r.rule_set,
            version: r.version,
            rules: Text::default(),
            charge: r.charge.to_string(),
            total: r.total.to_string(),
            lines: r
                .lines
                .into_iter()
                .map(|l| HotWaterLineResponse {
                    kind: l.kind,
                    amount: l.amount.to_string(),
                    explanation: l.explanation,
                })
                .collect(),
            explanation: r.explanation,
        }
    }
}

impl From<AbsenceResult> for AbsenceResponse {
    fn from(r: AbsenceResult) -> Self {
        AbsenceResponse {
            rule_set: r.rule_set,
            version: r.version,
            rules: Text::default(),
            eligible: r.eligible,
            reasons: r.reasons,
            counted_days: r.counted_days,
            total: r.total.to_string(),
            lines: r
                .lines
                .into_iter()
                .map(|l| AbsenceLineResponse {
                    month: l.month.to_string(),
                    service: l.service,
                    charge: l.charge.to_string(),
                    amount: l.amount.to_string(),
                    explanation: l.explanation,
                })
                .collect(),
            explanation: r.explanation,
        }
    }
}

fn heat_response(r: HeatResult, dp: u32) -> HeatResponse {
    HeatResponse {
        rule_set: r.rule_set,
        version: r.version,
        rules: Text::default(),
        common_share: r.common_share.normalize().to_string(),
        premises: r
            .premises
            .into_iter()
            .map(|p| PremiseHeatResponse {
                id: p.id,
                heat_gcal: fixed(p.heat_gcal, dp),
                charge: p.charge.to_string(),
                explanation: p.explanation,
            })
            .collect(),
        total_gcal: fixed(r.total_gcal, dp),
        total_charge: r.total_charge.to_string(),
        explanation: r.explanation,
    }
}

// ---- entry points ----------------------------------------------------------------------------------

/// Hot water of poor quality (`ru-354`).
pub fn calculate_hot_water(
    request: &HotWaterRequest,
    registry: &RuleSetRegistry,
) -> Result<HotWaterResponse, Vec<FieldError>> {
    let v = request.validate(registry)?;
    hot_water::calculate(v.rule_set, &v.input).map(|r| HotWaterResponse {
        rules: v.rule_set.jurisdiction.whose(),
        ..r.into()
    })
}

/// Temporary absence of residents.
pub fn calculate_absence(
    request: &AbsenceRequest,
    registry: &RuleSetRegistry,
) -> Result<AbsenceResponse, Vec<FieldError>> {
    let v = request.validate(registry)?;
    absence::calculate(v.rule_set, &v.input).map(|r| AbsenceResponse {
        rules: v.rule_set.jurisdiction.whose(),
        ..r.into()
    })
}

/// Heat allocation by a building heat meter.
pub fn calculate_heat(
    request: &HeatRequest,
    registry: &RuleSetRegistry,
) -> Result<HeatResponse, Vec<FieldError>> {
    let v = request.validate(registry)?;
    let dp = v.rule_set.heat.quantity_decimals;
    heat::calculate(v.rule_set, &v.input).map(|r| HeatResponse {
        rules: v.rule_set.jurisdiction.whose(),
        ..heat_response(r, dp)
    })
}

// ---- field parsing ---------------------------------------------------------------------------------

/// Collects faults while parsing; each parser returns `None` after recording why.
#[derive(Default)]
struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    fn fail(&mut self, field: &str, message: Text) {
        self.errors.push(FieldError::new(field, message));
    }

    fn required<'a, T>(&mut self, field: &str, value: Option<&'a T>) -> Option<&'a T> {
        if value.is_none() {
            self.fail(
                field,
                Text::new("Поле обов'язкове.", "This field is required."),
            );
        }
        value
    }

    fn rule_set<'r>(
        &mut self,
        registry: &'r RuleSetRegistry,
        id: Option<&String>,
    ) -> Option<&'r RuleSet> {
        let id = self.required("rule_set", id)?;
        match registry.get(id) {
            Ok(rs) => Some(rs),
            Err(e) => {
                let known: Vec<&str> = registry.ids().collect();
                let t = e.text();
                self.fail(
                    "rule_set",
                    Text::new(
                        format!("{} Відомі: {}.", t.uk, known.join(", ")),
                        format!("{} Known: {}.", t.en, known.join(", ")),
                    ),
                );
                None
            }
        }
    }

    fn money(&mut self, field: &str, value: Option<&NumberInput>) -> Option<Money> {
        let v = self.required(field, value)?;
        match Money::parse_non_negative(&v.as_text()) {
            Ok(m) => Some(m),
            Err(e) => {
                self.fail(field, e.text());
                None
            }
        }
    }

    fn quantity(&mut self, field: &str, value: &NumberInput) -> Option<Decimal> {
        match parse_quantity(value) {
            Ok(d) => Some(d),
            Err(t) => {
                self.fail(field, t);
                None
            }
        }
    }

    fn date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        match parse_date(value) {
            Ok(d) => Some(d),
            Err(t) => {
                self.fail(field, t);
                None
            }
        }
    }

    fn month(&mut self, field: &str, value: Option<&String>) -> Option<YearMonth> {
        let v = self.required(field, value)?;
        match YearMonth::parse(v) {
            Ok(m) => Some(m),
            Err(t) => {
                self.fail(field, t);
                None
            }
        }
    }

    fn local_time(&mut self, field: &str, value: Option<&String>) -> Option<NaiveDateTime> {
        let v = self.required(field, value)?;
        let s = v.trim();
        let parsed = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"));
        match parsed {
            Ok(t) => Some(t),
            Err(_) => {
                let v = super::numbers::echo(v);
                self.fail(
                    field,
                    Text::new(
                        format!("«{v}» — не дата й час; потрібен формат РРРР-ММ-ДДTГГ:ХХ, наприклад 2024-04-02T14:00."),
                        format!("\"{v}\" is not a date and time; use YYYY-MM-DDTHH:MM, e.g. 2024-04-02T14:00."),
                    ),
                );
                None
            }
        }
    }

    fn count(&mut self, field: &str, value: Option<i64>) -> Option<u32> {
        let v = *self.required(field, value.as_ref())?;
        // why: 1000 persons in one dwelling is already absurd; the bound keeps the arithmetic small.
        match u32::try_from(v) {
            Ok(n) if (1..=1000).contains(&n) => Some(n),
            _ => {
                self.fail(
                    field,
                    Text::new(
                        format!("Кількість осіб має бути цілим числом від 1 до 1000, а не {v}."),
                        format!(
                            "The number of persons must be a whole number from 1 to 1000, not {v}."
                        ),
                    ),
                );
                None
            }
        }
    }

    fn done<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

impl HotWaterRequest {
    /// Parses every field; returns the typed input or every field at fault.
    pub fn validate<'r>(
        &self,
        registry: &'r RuleSetRegistry,
    ) -> Result<Validated<'r, HotWaterInput>, Vec<FieldError>> {
        let mut f = Fields::default();
        let rule_set = f.rule_set(registry, self.rule_set.as_ref());
        let month = f.month("month", self.month.as_ref());
        let timezone = match &self.timezone {
            None => rule_set.map(|rs| rs.timezone),
            Some(name) => match name.trim().parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    f.fail(
                        "timezone",
                        Text::new(
                            format!("Невідомий часовий пояс «{name}»; наприклад, Europe/Kyiv."),
                            format!("Unknown time zone \"{name}\"; e.g. Europe/Kyiv."),
                        ),
                    );
                    None
                }
            },
        };
        let charge = f.money("charge", self.charge.as_ref());
        let hot_tariff = f.money("hot_tariff", self.hot_tariff.as_ref());
        let cold_tariff = f.money("cold_tariff", self.cold_tariff.as_ref());
        let volume = f
            .required("volume_m3", self.volume_m3.as_ref())
            .and_then(|v| f.quantity("volume_m3", v));
        let mut readings = Vec::new();
        for (i, r) in self.readings.iter().enumerate() {
            let hour = f.local_time(&format!("readings[{i}].hour"), r.hour.as_ref());
            let field_t = format!("readings[{i}].temperature_c");
            let temperature = r.temperature_c.as_ref().map(|t| f.quantity(&field_t, t));
            let field_p = format!("readings[{i}].pressure_mpa");
            let pressure = r.pressure_mpa.as_ref().map(|p| f.quantity(&field_p, p));
            if let (Some(hour), Some(temperature_c), Some(pressure_mpa)) = (
                hour,
                temperature.map_or(Some(None), |t| t.map(Some)),
                pressure.map_or(Some(None), |p| p.map(Some)),
            ) {
                readings.push(Reading {
                    hour,
                    temperature_c,
                    pressure_mpa,
                });
            }
        }
        let mut interruptions = Vec::new();
        for (i, it) in self.interruptions.iter().enumerate() {
            let start = f.local_time(&format!("interruptions[{i}].start"), it.start.as_ref());
            let end = f.local_time(&format!("interruptions[{i}].end"), it.end.as_ref());
            let kind_field = format!("interruptions[{i}].kind");
            let kind = f.required(&kind_field, it.kind.as_ref()).and_then(|k| {
                let parsed = InterruptionKind::parse(k);
                if parsed.is_none() {
                    f.fail(
                        &kind_field,
                        Text::new(
                            format!("Невідомий вид перерви «{k}»; можливі: planned, accident, dead_end_accident."),
                            format!("Unknown interruption kind \"{k}\"; allowed: planned, accident, dead_end_accident."),
                        ),
                    );
                }
                parsed
            });
            if let (Some(start), Some(end), Some(kind)) = (start, end, kind) {
                interruptions.push(Interruption { start, end, kind });
            }
        }
        let input = match (
            rule_set,
            month,
            timezone,
            charge,
            hot_tariff,
            cold_tariff,
            volume,
        ) {
            (
                Some(rs),
                Some(month),
                Some(timezone),
                Some(charge),
                Some(hot_tariff),
                Some(cold_tariff),
                Some(volume_m3),
            ) => Some((
                rs,
                HotWaterInput {
                    month,
                    timezone,
                    charge,
                    hot_tariff,
                    cold_tariff,
                    volume_m3,
                    readings,
                    interruptions,
                },
            )),
            _ => None,
        };
        let (rule_set, input) = f.done(input)?;
        let errors = hot_water::check(rule_set, &input);
        if errors.is_empty() {
            Ok(Validated { rule_set, input })
        } else {
            Err(errors)
        }
    }
}

impl AbsenceRequest {
    /// Parses every field; returns the typed input or every field at fault.
    pub fn validate<'r>(
        &self,
        registry: &'r RuleSetRegistry,
    ) -> Result<Validated<'r, AbsenceInput>, Vec<FieldError>> {
        let mut f = Fields::default();
        let rule_set = f.rule_set(registry, self.rule_set.as_ref());
        let application_date = f
            .required("application_date", self.application_date.as_ref())
            .and_then(|s| f.date("application_date", s));
        let period = f.required("absence", self.absence.as_ref());
        let (mut from, mut to, mut ground) = (None, None, None);
        if let Some(p) = period {
            from = f
                .required("absence.from", p.from.as_ref())
                .and_then(|s| f.date("absence.from", s));
            to = f
                .required("absence.to", p.to.as_ref())
                .and_then(|s| f.date("absence.to", s));
            ground = f
                .required("absence.ground", p.ground.as_ref())
                .and_then(|g| {
                    let parsed = Ground::parse(g);
                    if parsed.is_none() {
                        let ids: Vec<&str> = Ground::ALL.iter().map(|g| g.id()).collect();
                        f.fail(
                            "absence.ground",
                            Text::new(
                                format!("Невідома підстава «{g}»; можливі: {}.", ids.join(", ")),
                                format!("Unknown ground \"{g}\"; allowed: {}.", ids.join(", ")),
                            ),
                        );
                    }
                    parsed
                });
        }
        let certificate_issued = match &self.certificate_issued {
            None => Some(None),
            Some(s) => f.date("certificate_issued", s).map(Some),
        };
        let registered = f.count("registered_persons", self.registered_persons);
        let absent = f.count("absent_persons", self.absent_persons);
        let mut charges = Vec::new();
        for (i, c) in self.charges.iter().enumerate() {
            let month = f.month(&format!("charges[{i}].month"), c.month.as_ref());
            let service_field = format!("charges[{i}].service");
            let service = f
                .required(&service_field, c.service.as_ref())
                .and_then(|s| {
                    let parsed = Service::parse(s);
                    if parsed.is_none() {
                        f.fail(
                            &service_field,
                            Text::new(
                                format!("Невідома послуга «{s}»; можливі: {}.", Service::ids()),
                                format!("Unknown service \"{s}\"; allowed: {}.", Service::ids()),
                            ),
                        );
                    }
                    parsed
                });
            let amount = f.money(&format!("charges[{i}].amount"), c.amount.as_ref());
            let metered = f
                .required(&format!("charges[{i}].metered"), c.metered.as_ref())
                .copied();
            if let (Some(month), Some(service), Some(amount), Some(metered)) =
                (month, service, amount, metered)
            {
                charges.push(Charge {
                    month,
                    service,
                    amount,
                    metered,
                });
            }
        }
        let documents_seen = self
            .documents_seen
            .as_ref()
            .map(|ids| ids.iter().map(|s| s.trim().to_string()).collect());
        let input = match (
            rule_set,
            application_date,
            from,
            to,
            ground,
            certificate_issued,
            registered,
            absent,
        ) {
            (
                Some(rs),
                Some(application_date),
                Some(from),
                Some(to),
                Some(ground),
                Some(certificate_issued),
                Some(r),
                Some(a),
            ) => Some((
                rs,
                AbsenceInput {
                    application_date,
                    from,
                    to,
                    ground,
                    certificate_issued,
                    documents_seen,
                    registered_persons: r,
                    absent_persons: a,
                    charges,
                },
            )),
            _ => None,
        };
        let (rule_set, input) = f.done(input)?;
        let errors = absence::check(rule_set, &input);
        if errors.is_empty() {
            Ok(Validated { rule_set, input })
        } else {
            Err(errors)
        }
    }
}

impl HeatRequest {
    /// Parses every field; returns the typed input or every field at fault.
    pub fn validate<'r>(
        &self,
        registry: &'r RuleSetRegistry,
    ) -> Result<Validated<'r, HeatInput>, Vec<FieldError>> {
        let mut f = Fields::default();
        let id = self
            .rule_set
            .clone()
            .unwrap_or_else(|| DEFAULT_HEAT_RULE_SET.to_string());
        let rule_set = f.rule_set(registry, Some(&id));
        let heat = f
            .required("heat_gcal", self.heat_gcal.as_ref())
            .and_then(|v| f.quantity("heat_gcal", v));
        let tariff = f.money("tariff_per_gcal", self.tariff_per_gcal.as_ref());
        let common_share = match &self.common_share {
            None => Some(None),
            // why: parsed without the quantity bounds so that a share of 1.5 or −0.1 gets the clearer
            // "must be between 0 and 1" message from the domain check.
            Some(v) => match parse_decimal(&v.as_text()) {
                Ok(d) => Some(Some(d)),
                Err(t) => {
                    f.fail("common_share", t);
                    None
                }
            },
        };
        let mut premises = Vec::new();
        for (i, p) in self.premises.iter().enumerate() {
            let id = f
                .required(&format!("premises[{i}].id"), p.id.as_ref())
                .cloned();
            let field = format!("premises[{i}].area_m2");
            let area = f.required(&field, p.area_m2.as_ref()).and_then(|v| {
                match parse_decimal(&v.as_text()) {
                    Ok(d) => Some(d),
                    Err(t) => {
                        f.fail(&field, t);
                        None
                    }
                }
            });
            let connected = f
                .required(&format!("premises[{i}].connected"), p.connected.as_ref())
                .copied();
            if let (Some(id), Some(area_m2), Some(connected)) = (id, area, connected) {
                premises.push(Premise {
                    id,
                    area_m2,
                    connected,
                });
            }
        }
        let input = match (rule_set, heat, tariff, common_share) {
            (Some(rs), Some(heat_gcal), Some(tariff_per_gcal), Some(common_share)) => Some((
                rs,
                HeatInput {
                    heat_gcal,
                    tariff_per_gcal,
                    common_share,
                    premises,
                },
            )),
            _ => None,
        };
        let (rule_set, input) = f.done(input)?;
        let errors = heat::check(rule_set, &input);
        if errors.is_empty() {
            Ok(Validated { rule_set, input })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reg() -> RuleSetRegistry {
        RuleSetRegistry::embedded().unwrap()
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn hot_water_worked_example_as_json() {
        let mut readings = Vec::new();
        for h in 10..20 {
            readings.push(json!({"hour": format!("2024-04-02T{h:02}:00"), "temperature_c": 54}));
        }
        for h in 0..4 {
            readings.push(json!({"hour": format!("2024-04-03T{h:02}:00"), "temperature_c": "49"}));
        }
        for day in 10..13 {
            for h in 0..12 {
                readings.push(
                    json!({"hour": format!("2024-04-{day}T{h:02}:00"), "temperature_c": 35.5}),
                );
            }
        }
        let body = json!({
            "rule_set": "ru-354", "month": "2024-04", "charge": "792.00",
            "hot_tariff": "220", "cold_tariff": 45, "volume_m3": 3.6,
            "readings": readings, "interruptions": []
        });
        let req: HotWaterRequest = serde_json::from_value(body).unwrap();
        let resp = calculate_hot_water(&req, &reg()).unwrap();
        let out = serde_json::to_value(&resp).unwrap();
        assert_eq!(out["rule_set"], "ru-354");
        assert_eq!(out["version"], 1);
        assert_eq!(out["total"], "45.76");
        assert_eq!(out["lines"][0]["kind"], "temperature");
        assert_eq!(out["lines"][0]["amount"], "14.26");
        assert_eq!(out["lines"][1]["kind"], "below_40");
        assert_eq!(out["lines"][1]["amount"], "31.50");
        assert_eq!(out["lines"][2]["amount"], "0.00");
        assert_eq!(out["lines"][3]["kind"], "interruptions");
        assert!(
            out["lines"][0]["explanation"]["uk"]
                .as_str()
                .unwrap()
                .contains("14.26 грн")
        );
        assert!(
            out["lines"][0]["explanation"]["en"]
                .as_str()
                .unwrap()
                .contains("14.26 UAH")
        );
    }

    #[test]
    fn hot_water_lists_every_bad_field() {
        let body = json!({
            "rule_set": "ru-999", "month": "2024-4", "timezone": "Mars/Olympus",
            "charge": "792.001", "hot_tariff": "-1", "volume_m3": "lots",
            "readings": [{"hour": "2024-04-02 10:00", "temperature_c": "hot"}, {"hour": "2024-04-02T11:00", "pressure_mpa": -0.2}],
            "interruptions": [{"start": "2024-04-01T10:00", "end": "2024-04-01T11:00", "kind": "meteor"}]
        });
        let req: HotWaterRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_hot_water(&req, &reg()).unwrap_err();
        assert_eq!(
            fields(&errs),
            [
                "rule_set",
                "month",
                "timezone",
                "charge",
                "hot_tariff",
                "cold_tariff",
                "volume_m3",
                "readings[0].hour",
                "readings[0].temperature_c",
                "readings[1].pressure_mpa",
                "interruptions[0].kind"
            ]
        );
        assert!(
            errs[0].message.en.contains("ru-354"),
            "{}",
            errs[0].message.en
        );
        assert!(errs[3].message.uk.contains("більше двох знаків"));
        assert!(errs[5].message.en.contains("required"));
    }

    #[test]
    fn hot_water_domain_faults_come_after_parsing() {
        let body = json!({
            "rule_set": "ru-354", "month": "2024-03", "charge": "100", "hot_tariff": "50", "cold_tariff": "20",
            "volume_m3": "2", "readings": [{"hour": "2024-03-31T03:00", "temperature_c": 50}]
        });
        let req: HotWaterRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_hot_water(&req, &reg()).unwrap_err();
        assert_eq!(fields(&errs), ["readings[0].hour"]);
        assert!(errs[0].message.en.contains("clocks moved forward"));
        // In another time zone that hour exists.
        let mut req = req;
        req.timezone = Some("UTC".into());
        assert!(calculate_hot_water(&req, &reg()).is_ok());
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let body = json!({"rule_set": "ru-354", "readings": [{"hour": "2024-04-01T00:00", "temprature_c": 50}]});
        assert!(serde_json::from_value::<HotWaterRequest>(body).is_err());
    }

    fn absence_body() -> serde_json::Value {
        json!({
            "rule_set": "ua-zaporizhzhia-2023",
            "application_date": "2024-04-28",
            "absence": {"from": "2024-03-20", "to": "2024-04-25", "ground": "study"},
            "registered_persons": 3,
            "absent_persons": 2,
            "charges": [
                {"month": "2024-03", "service": "cold_water", "amount": "93.00", "metered": false},
                {"month": "2024-04", "service": "cold_water", "amount": 90, "metered": false},
                {"month": "2024-04", "service": "heating", "amount": "1500", "metered": false}
            ]
        })
    }

    #[test]
    fn absence_as_json() {
        let req: AbsenceRequest = serde_json::from_value(absence_body()).unwrap();
        let out = serde_json::to_value(calculate_absence(&req, &reg()).unwrap()).unwrap();
        // 93 × 2/3 × 12/31 = 24.00; 90 × 2/3 × 25/30 = 50.00; heating 0.
        assert_eq!(out["eligible"], true);
        assert_eq!(out["counted_days"], 37);
        assert_eq!(out["total"], "74.00");
        assert_eq!(out["lines"][0]["month"], "2024-03");
        assert_eq!(out["lines"][0]["service"], "cold_water");
        assert_eq!(out["lines"][0]["amount"], "24.00");
        assert_eq!(out["lines"][2]["service"], "heating");
        assert_eq!(out["lines"][2]["amount"], "0.00");
        assert_eq!(out["rule_set"], "ua-zaporizhzhia-2023");
        assert_eq!(out["version"], 1);
        assert_eq!(out["reasons"], json!([]));
    }

    #[test]
    fn absence_documents_checked_only_when_given() {
        let mut body = absence_body();
        body["documents_seen"] = json!(["application", "passports"]);
        let req: AbsenceRequest = serde_json::from_value(body).unwrap();
        let resp = calculate_absence(&req, &reg()).unwrap();
        assert!(!resp.eligible);
        assert_eq!(resp.reasons.len(), 1);
        assert!(
            resp.reasons[0].uk.contains("довідка з місця навчання"),
            "{}",
            resp.reasons[0].uk
        );
        assert_eq!(resp.total, "0.00");
    }

    #[test]
    fn absence_validation_is_strict() {
        let body = json!({
            "rule_set": "ua-zaporizhzhia-2023",
            "application_date": "2024-02-30",
            "absence": {"from": "2024-03-20", "ground": "holiday"},
            "certificate_issued": "yesterday",
            "registered_persons": 0,
            "absent_persons": -1,
            "charges": [{"month": "03.2024", "service": "internet", "amount": "-5", "metered": false},
                        {"month": "2024-03", "service": "gas", "amount": "5"}]
        });
        let req: AbsenceRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_absence(&req, &reg()).unwrap_err();
        assert_eq!(
            fields(&errs),
            [
                "application_date",
                "absence.to",
                "absence.ground",
                "certificate_issued",
                "registered_persons",
                "absent_persons",
                "charges[0].month",
                "charges[0].service",
                "charges[0].amount",
                "charges[1].metered"
            ]
        );
        // Parsed fine but inconsistent: more absent than registered, to before from.
        let mut body = absence_body();
        body["absent_persons"] = json!(4);
        body["absence"]["to"] = json!("2024-03-01");
        let req: AbsenceRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_absence(&req, &reg()).unwrap_err();
        assert_eq!(fields(&errs), ["absence.to", "absent_persons"]);
    }

    #[test]
    fn heat_as_json() {
        let body = json!({
            "heat_gcal": "12", "tariff_per_gcal": "1523.17", "common_share": 0.25,
            "premises": [{"id": "A", "area_m2": 60, "connected": true}, {"id": "B", "area_m2": "30", "connected": true},
                         {"id": "C", "area_m2": 10, "connected": false}]
        });
        let req: HeatRequest = serde_json::from_value(body).unwrap();
        let out = serde_json::to_value(calculate_heat(&req, &reg()).unwrap()).unwrap();
        assert_eq!(out["premises"][0]["heat_gcal"], "7.8000");
        assert_eq!(out["premises"][0]["charge"], "11880.73");
        assert_eq!(out["premises"][2]["heat_gcal"], "0.3000");
        assert_eq!(out["total_gcal"], "12.0000");
        assert_eq!(out["total_charge"], "18278.04");
        assert_eq!(out["rule_set"], "ua-zaporizhzhia-2023");
    }

    #[test]
    fn heat_errors() {
        let body = json!({
            "heat_gcal": "-1", "tariff_per_gcal": "abc", "common_share": "x",
            "premises": [{"id": "A", "area_m2": 60}]
        });
        let req: HeatRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_heat(&req, &reg()).unwrap_err();
        assert_eq!(
            fields(&errs),
            [
                "heat_gcal",
                "tariff_per_gcal",
                "common_share",
                "premises[0].connected"
            ]
        );
        let body =
            json!({"heat_gcal": 5, "tariff_per_gcal": 100, "common_share": 2, "premises": []});
        let req: HeatRequest = serde_json::from_value(body).unwrap();
        let errs = calculate_heat(&req, &reg()).unwrap_err();
        assert_eq!(fields(&errs), ["common_share", "premises"]);
        assert!(errs[0].message.uk.contains("від 0 до 1"));
    }
}
