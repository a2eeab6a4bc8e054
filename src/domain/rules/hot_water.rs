//! Hot water of poor quality: temperature, water below 40 °C, pressure and interruptions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use super::FieldError;
use super::calendar::YearMonth;
use super::numbers::{MAX_AMOUNT, check_quantity, en_plural, show, show_rounded, uk_plural};
use super::rule_set::{HotWaterRules, RuleSet, StepRounding};
use crate::domain::lang::Text;
use crate::domain::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptionKind {
    Planned,
    Accident,
    /// An accident on a dead-end main: 24 h at a time allowed, not counted toward the monthly 8 h.
    DeadEndAccident,
}

impl InterruptionKind {
    pub fn parse(id: &str) -> Option<InterruptionKind> {
        match id.trim() {
            "planned" => Some(InterruptionKind::Planned),
            "accident" => Some(InterruptionKind::Accident),
            "dead_end_accident" => Some(InterruptionKind::DeadEndAccident),
            _ => None,
        }
    }
}

/// What was measured at the draw-off point during one local hour (starting at `hour`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub hour: NaiveDateTime,
    pub temperature_c: Option<Decimal>,
    pub pressure_mpa: Option<Decimal>,
}

/// A break in supply, in local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub kind: InterruptionKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotWaterInput {
    pub month: YearMonth,
    pub timezone: Tz,
    /// The month's hot-water charge P.
    pub charge: Money,
    pub hot_tariff: Money,
    pub cold_tariff: Money,
    /// The month's hot-water volume V, m³.
    pub volume_m3: Decimal,
    /// Hours not listed were normal.
    pub readings: Vec<Reading>,
    pub interruptions: Vec<Interruption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Temperature,
    #[serde(rename = "below_40")]
    Below40,
    Pressure,
    Interruptions,
}

impl LineKind {
    pub fn id(self) -> &'static str {
        match self {
            LineKind::Temperature => "temperature",
            LineKind::Below40 => "below_40",
            LineKind::Pressure => "pressure",
            LineKind::Interruptions => "interruptions",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotWaterLine {
    pub kind: LineKind,
    pub amount: Money,
    pub explanation: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotWaterResult {
    pub rule_set: String,
    pub version: u32,
    pub charge: Money,
    /// The sum of the lines, never above the charge.
    pub total: Money,
    /// Always four lines, in the order temperature, below_40, pressure, interruptions.
    pub lines: Vec<HotWaterLine>,
    pub explanation: Vec<Text>,
}

fn rules_of(rule_set: &RuleSet) -> Result<&HotWaterRules, FieldError> {
    rule_set.hot_water.as_ref().ok_or_else(|| {
        FieldError::new(
            "rule_set",
            Text::new(
                format!(
                    "Правила «{}» не містять перерахунку за якість гарячої води.",
                    rule_set.id
                ),
                format!(
                    "The rule set \"{}\" has no hot-water quality rules.",
                    rule_set.id
                ),
            ),
        )
    })
}

/// A local time as an instant; `latest` picks the second of two repeated times (clocks moved back).
fn instant(tz: Tz, local: NaiveDateTime, latest: bool) -> Option<DateTime<Utc>> {
    let r = tz.from_local_datetime(&local);
    let picked = if latest { r.latest() } else { r.earliest() };
    picked.map(|t| t.with_timezone(&Utc))
}

/// The month as instants: [first midnight, next month's first midnight).
fn month_bounds(tz: Tz, month: YearMonth) -> (DateTime<Utc>, DateTime<Utc>) {
    let edge = |d: NaiveDate| {
        let local = d.and_time(chrono::NaiveTime::MIN);
        // why: a zone whose clocks skip midnight would have no local 00:00; the UTC reading of it
        // is then the nearest sensible edge.
        instant(tz, local, false).unwrap_or_else(|| local.and_utc())
    };
    (edge(month.first_day()), edge(month.next().first_day()))
}

fn amount_error(field: &str, m: Money) -> Option<FieldError> {
    if m.is_negative() {
        Some(FieldError::new(
            field,
            Text::new(
                "Сума не може бути від'ємною.",
                "The amount cannot be negative.",
            ),
        ))
    } else if m.to_decimal() > MAX_AMOUNT {
        Some(FieldError::new(
            field,
            Text::new("Сума завелика.", "The amount is too large."),
        ))
    } else {
        None
    }
}

/// Faults in the input, named as in the JSON request.
pub fn check(rule_set: &RuleSet, input: &HotWaterInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = rules_of(rule_set) {
        errors.push(e);
    }
    for (field, m) in [
        ("charge", input.charge),
        ("hot_tariff", input.hot_tariff),
        ("cold_tariff", input.cold_tariff),
    ] {
        errors.extend(amount_error(field, m));
    }
    // why: a hot tariff below the cold one would turn the below-40 °C line into a surcharge.
    if input.hot_tariff < input.cold_tariff {
        errors.push(FieldError::new(
            "hot_tariff",
            Text::new(
                "Тариф на гарячу воду не може бути нижчим за тариф на холодну.",
                "The hot-water tariff cannot be below the cold-water tariff.",
            ),
        ));
    }
    if let Err(t) = check_quantity(input.volume_m3) {
        errors.push(FieldError::new("volume_m3", t));
    }
    let tz = input.timezone;
    let mut hours: HashMap<NaiveDateTime, usize> = HashMap::new();
    for (i, r) in input.readings.iter().enumerate() {
        let field = format!("readings[{i}].hour");
        let h = r.hour;
        if h.minute() != 0 || h.second() != 0 || h.nanosecond() != 0 {
            errors.push(FieldError::new(
                field,
                Text::new(
                    "Показник має бути на початок години (хвилини 00).",
                    "A reading must be at the start of an hour (minutes 00).",
                ),
            ));
        } else if !input.month.contains(h.date()) {
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!(
                        "Година {} не належить до місяця {}.",
                        h.format("%Y-%m-%d %H:%M"),
                        input.month
                    ),
                    format!(
                        "The hour {} is outside the month {}.",
                        h.format("%Y-%m-%d %H:%M"),
                        input.month
                    ),
                ),
            ));
        } else if instant(tz, h, false).is_none() {
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!(
                        "Години {} немає в поясі {tz}: годинник переводили вперед.",
                        h.format("%Y-%m-%d %H:%M")
                    ),
                    format!(
                        "The hour {} does not exist in {tz}: clocks moved forward.",
                        h.format("%Y-%m-%d %H:%M")
                    ),
                ),
            ));
        } else if let Some(first) = hours.insert(h, i) {
            hours.insert(h, first);
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!(
                        "Година {} уже є в показниках (readings[{first}]).",
                        h.format("%Y-%m-%d %H:%M")
                    ),
                    format!(
                        "The hour {} is already listed (readings[{first}]).",
                        h.format("%Y-%m-%d %H:%M")
                    ),
                ),
            ));
        }
        if let Some(t) = r.temperature_c
            && let Err(msg) = check_quantity(t)
        {
            errors.push(FieldError::new(format!("readings[{i}].temperature_c"), msg));
        }
        if let Some(p) = r.pressure_mpa
            && let Err(msg) = check_quantity(p)
        {
            errors.push(FieldError::new(format!("readings[{i}].pressure_mpa"), msg));
        }
    }
    let (month_start, month_end) = month_bounds(tz, input.month);
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>, usize)> = Vec::new();
    for (i, it) in input.interruptions.iter().enumerate() {
        let missing = |which: &str, t: NaiveDateTime| {
            FieldError::new(
                format!("interruptions[{i}].{which}"),
                Text::new(
                    format!(
                        "Часу {} немає в поясі {tz}: годинник переводили вперед.",
                        t.format("%Y-%m-%d %H:%M")
                    ),
                    format!(
                        "The time {} does not exist in {tz}: clocks moved forward.",
                        t.format("%Y-%m-%d %H:%M")
                    ),
                ),
            )
        };
        // why: of a repeated local time (clocks moved back), the start takes the first and the end the
        // second occurrence, so a doubtful interruption is counted at its longest, in the resident's favour.
        let start = instant(tz, it.start, false);
        let end = instant(tz, it.end, true);
        if start.is_none() {
            errors.push(missing("start", it.start));
        }
        if end.is_none() {
            errors.push(missing("end", it.end));
        }
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        if end <= start {
            errors.push(FieldError::new(
                format!("interruptions[{i}].end"),
                Text::new(
                    "Кінець перерви має бути пізніше за початок.",
                    "The end of an interruption must be after its start.",
                ),
            ));
            continue;
        }
        if end <= month_start || start >= month_end {
            errors.push(FieldError::new(
                format!("interruptions[{i}].start"),
                Text::new(
                    format!("Перерва повністю поза місяцем {}.", input.month),
                    format!(
                        "The interruption lies entirely outside the month {}.",
                        input.month
                    ),
                ),
            ));
            continue;
        }
        spans.push((start, end, i));
    }
    // why: overlapping interruptions would count the same hours twice; ask the caller to merge them.
    spans.sort();
    for pair in spans.windows(2) {
        let ((_, prev_end, a), (next_start, _, b)) = (pair[0], pair[1]);
        if next_start < prev_end {
            let (first, second) = (a.min(b), a.max(b));
            errors.push(FieldError::new(
                format!("interruptions[{second}].start"),
                Text::new(
                    format!("Перерва перекривається з interruptions[{first}]."),
                    format!("The interruption overlaps interruptions[{first}]."),
                ),
            ));
        }
    }
    errors
}

/// "4 год" / "2 год 30 хв".
fn duration_text(minutes: i64) -> Text {
    let (h, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        Text::new(format!("{h} год"), format!("{h} h"))
    } else {
        Text::new(format!("{h} год {m} хв"), format!("{h} h {m} min"))
    }
}

fn pct(d: Decimal) -> Decimal {
    d / Decimal::ONE_HUNDRED
}

/// Computes the four lines and their total, capped at the charge.
pub fn calculate(
    rule_set: &RuleSet,
    input: &HotWaterInput,
) -> Result<HotWaterResult, Vec<FieldError>> {
    let errors = check(rule_set, input);
    if !errors.is_empty() {
        return Err(errors);
    }
    let rules = rules_of(rule_set).map_err(|e| vec![e])?;
    let cur = &rule_set.currency;
    let p = input.charge;
    let pd = p.to_decimal();
    let days = input.month.days();

    // ---- temperature and below 40 °C ----
    let mut step_hours: BTreeMap<u64, u32> = BTreeMap::new();
    let mut below_hours: u32 = 0;
    for r in &input.readings {
        let Some(t) = r.temperature_c else { continue };
        if t < rules.cold_below_c {
            below_hours += 1;
            continue;
        }
        let tol = if rules.is_night(r.hour.hour()) {
            rules.night_tolerance_c
        } else {
            rules.day_tolerance_c
        };
        let (low, high) = (rules.temperature_min_c - tol, rules.temperature_max_c + tol);
        let excess = if t < low {
            low - t
        } else if t > high {
            t - high
        } else {
            continue;
        };
        let ratio = excess / rules.step_c;
        let steps = match rules.step_rounding {
            StepRounding::Floor => ratio.floor(),
            StepRounding::Ceil => ratio.ceil(),
        };
        let steps = u64::try_from(steps).unwrap_or(0);
        if steps > 0 {
            *step_hours.entry(steps).or_default() += 1;
        }
    }
    let total_steps: u64 = step_hours.iter().map(|(s, h)| s * u64::from(*h)).sum();
    let temp_raw = pd * pct(rules.step_percent) * Decimal::from(total_steps);

    let volume = input.volume_m3;
    let tariff_gap = input.hot_tariff.to_decimal() - input.cold_tariff.to_decimal();
    let below_raw = volume * Decimal::from(below_hours) / Decimal::from(24 * days) * tariff_gap;

    // ---- pressure ----
    let mut over_days: BTreeSet<NaiveDate> = BTreeSet::new();
    let mut small_hours: Vec<NaiveDate> = Vec::new();
    let limit = pct(rules.pressure_day_over_percent);
    for r in &input.readings {
        let Some(pr) = r.pressure_mpa else { continue };
        let (gap, bound) = if pr < rules.pressure_min_mpa {
            (rules.pressure_min_mpa - pr, rules.pressure_min_mpa)
        } else if pr > rules.pressure_max_mpa {
            (pr - rules.pressure_max_mpa, rules.pressure_max_mpa)
        } else {
            continue;
        };
        // why: compared as gap > limit × bound, so the share is never a rounded quotient and exactly 25 % stays "up to 25 %".
        if gap > limit * bound {
            over_days.insert(r.hour.date());
        } else {
            small_hours.push(r.hour.date());
        }
    }
    let small = small_hours
        .iter()
        .filter(|d| !over_days.contains(*d))
        .count();
    let small = u32::try_from(small).unwrap_or(u32::MAX);
    let day_count = u32::try_from(over_days.len()).unwrap_or(u32::MAX);
    let pressure_raw = pd * pct(rules.pressure_hour_percent) * Decimal::from(small)
        + pd * Decimal::from(day_count) / Decimal::from(days);

    // ---- interruptions (in whole minutes, so the sums are exact and order-free) ----
    let tz = input.timezone;
    let (month_start, month_end) = month_bounds(tz, input.month);
    let mut dead_end_excess: i64 = 0;
    let mut single_excess: i64 = 0;
    let mut other_total: i64 = 0;
    let mut listed: Vec<(NaiveDateTime, Text)> = Vec::new();
    let single = i64::from(rules.interruption_single_hours) * 60;
    let dead_single = i64::from(rules.dead_end_single_hours) * 60;
    for it in &input.interruptions {
        let (Some(s), Some(e)) = (instant(tz, it.start, false), instant(tz, it.end, true)) else {
            continue;
        };
        let minutes = (e.min(month_end) - s.max(month_start)).num_minutes().max(0);
        let dur = duration_text(minutes);
        let label = if it.kind == InterruptionKind::DeadEndAccident {
            Text::new(
                format!("{} (тупикова магістраль)", dur.uk),
                format!("{} (dead-end main)", dur.en),
            )
        } else {
            dur
        };
        listed.push((it.start, label));
        if it.kind == InterruptionKind::DeadEndAccident {
            dead_end_excess += (minutes - dead_single).max(0);
        } else {
            single_excess += (minutes - single).max(0);
            other_total += minutes;
        }
    }
    listed.sort_by_key(|(start, _)| *start);
    let month_over = (other_total - i64::from(rules.interruption_month_hours) * 60).max(0);
    let excess_minutes = dead_end_excess + single_excess.max(month_over);
    let excess_hours = Decimal::from(excess_minutes) / Decimal::from(60);
    let interruption_raw = pd * pct(rules.interruption_hour_percent) * excess_hours;

    // ---- lines, each rounded, the running total capped at P ----
    let texts = Explainer {
        rules,
        cur,
        p,
        days,
    };
    let raw = [
        (
            LineKind::Temperature,
            temp_raw,
            texts.temperature(&step_hours, total_steps),
        ),
        (
            LineKind::Below40,
            below_raw,
            texts.below_40(below_hours, volume, input),
        ),
        (
            LineKind::Pressure,
            pressure_raw,
            texts.pressure(small, day_count),
        ),
        (
            LineKind::Interruptions,
            interruption_raw,
            texts.interruptions(
                &listed,
                single_excess,
                month_over,
                dead_end_excess,
                excess_hours,
            ),
        ),
    ];
    let mut lines = Vec::new();
    let mut used = Money::ZERO;
    for (kind, value, text) in raw {
        let own = Money::reduction_capped(value, p);
        let left = p - used;
        let amount = own.min(left);
        let explanation = if amount < own {
            Text::new(
                format!(
                    "{} Зменшено до {amount} {}, щоб загальне зменшення не перевищило місячну плату {p} {}.",
                    text.uk, cur.uk, cur.uk
                ),
                format!(
                    "{} Cut to {amount} {} so that the total reduction does not exceed the month's charge of {p} {}.",
                    text.en, cur.en, cur.en
                ),
            )
        } else {
            text
        };
        used = used + amount;
        lines.push(HotWaterLine {
            kind,
            amount,
            explanation,
        });
    }
    let total = lines.iter().map(|l| l.amount).sum();
    let explanation = vec![Text::new(
        format!(
            "Місячна плата за гарячу воду P = {p} {}, днів у місяці D = {days}; години — місцеві ({tz}); години без показників вважаються нормальними. Загальне зменшення не більше за P.",
            cur.uk
        ),
        format!(
            "The month's hot-water charge P = {p} {}, days in the month D = {days}; hours are local ({tz}); hours without readings count as normal. The total reduction never exceeds P.",
            cur.en
        ),
    )];
    Ok(HotWaterResult {
        rule_set: rule_set.id.clone(),
        version: rule_set.version,
        charge: p,
        total,
        lines,
        explanation,
    })
}

struct Explainer<'a> {
    rules: &'a HotWaterRules,
    cur: &'a Text,
    p: Money,
    days: u32,
}

impl Explainer<'_> {
    fn temperature(&self, step_hours: &BTreeMap<u64, u32>, total_steps: u64) -> Text {
        let r = self.rules;
        let (cur, p) = (self.cur, self.p);
        let norm_uk = format!(
            "норма {}–{} °C, допуск {} °C удень і {} °C уночі, з {:02}:00 до {:02}:00",
            show(r.temperature_min_c),
            show(r.temperature_max_c),
            show(r.day_tolerance_c),
            show(r.night_tolerance_c),
            r.night_start_hour,
            r.night_end_hour
        );
        let norm_en = format!(
            "norm {}–{} °C, allowed deviation {} °C by day and {} °C at night, {:02}:00–{:02}:00",
            show(r.temperature_min_c),
            show(r.temperature_max_c),
            show(r.day_tolerance_c),
            show(r.night_tolerance_c),
            r.night_start_hour,
            r.night_end_hour
        );
        if total_steps == 0 {
            return Text::new(
                format!("Температура: годин із відхиленням понад допустиме немає ({norm_uk})."),
                format!("Temperature: no hours beyond the allowed deviation ({norm_en})."),
            );
        }
        let step = show(r.step_c);
        let (each_uk, each_en) = match r.step_rounding {
            StepRounding::Floor => (
                format!("кожні повні {step} °C"),
                format!("every full {step} °C"),
            ),
            StepRounding::Ceil => (
                format!("кожні {step} °C, неповні теж"),
                format!("every {step} °C or part of it"),
            ),
        };
        let parts_uk: Vec<String> = step_hours
            .iter()
            .map(|(s, h)| {
                format!(
                    "{h} год × {s} {}",
                    uk_plural(*s, "ступінь", "ступені", "ступенів")
                )
            })
            .collect();
        let parts_en: Vec<String> = step_hours
            .iter()
            .map(|(s, h)| format!("{h} h × {s} {}", en_plural(*s, "step", "steps")))
            .collect();
        let amount = Money::reduction_capped(
            p.to_decimal() * pct(r.step_percent) * Decimal::from(total_steps),
            p,
        );
        let sp = show(r.step_percent);
        Text::new(
            format!(
                "Температура поза допустимими межами ({norm_uk}); за {each_uk} відхилення — {sp} % місячної плати за годину: {} = {total_steps}; {p} {} × {sp} % × {total_steps} = {amount} {}.",
                parts_uk.join(" + "),
                self.cur.uk,
                cur.uk
            ),
            format!(
                "Temperature outside the allowed range ({norm_en}); {sp}% of the month's charge per hour for {each_en} of deviation: {} = {total_steps}; {p} {} × {sp}% × {total_steps} = {amount} {}.",
                parts_en.join(" + "),
                cur.en,
                cur.en
            ),
        )
    }

    fn below_40(&self, hours: u32, volume: Decimal, input: &HotWaterInput) -> Text {
        let limit = show(self.rules.cold_below_c);
        if hours == 0 {
            return Text::new(
                format!("Годин, коли вода була холодніша за {limit} °C, немає."),
                format!("No hours with water colder than {limit} °C."),
            );
        }
        let (hot, cold, days, cur) = (input.hot_tariff, input.cold_tariff, self.days, self.cur);
        let exact = volume * Decimal::from(hours) / Decimal::from(24 * days)
            * (hot.to_decimal() - cold.to_decimal());
        let amount = Money::reduction_capped(exact, self.p);
        let v = show(volume);
        Text::new(
            format!(
                "Вода холодніша за {limit} °C протягом {hours} год: ці години оплачуються за тарифом холодної води. {v} м³ × {hours} год / (24 × {days}) × ({hot} − {cold}) {}/м³ = {amount} {}.",
                cur.uk, cur.uk
            ),
            format!(
                "Water colder than {limit} °C for {hours} h: those hours are paid at the cold-water tariff. {v} m³ × {hours} h / (24 × {days}) × ({hot} − {cold}) {}/m³ = {amount} {}.",
                cur.en, cur.en
            ),
        )
    }

    fn pressure(&self, hours: u32, over_days: u32) -> Text {
        let r = self.rules;
        let (p, days, cur) = (self.p, self.days, self.cur);
        let (lo, hi, over, hp) = (
            show(r.pressure_min_mpa),
            show(r.pressure_max_mpa),
            show(r.pressure_day_over_percent),
            show(r.pressure_hour_percent),
        );
        if hours == 0 && over_days == 0 {
            return Text::new(
                format!("Тиск: відхилень від норми {lo}–{hi} МПа немає."),
                format!("Pressure: no deviation from the norm {lo}–{hi} MPa."),
            );
        }
        let exact = p.to_decimal() * pct(r.pressure_hour_percent) * Decimal::from(hours)
            + p.to_decimal() * Decimal::from(over_days) / Decimal::from(days);
        let amount = Money::reduction_capped(exact, p);
        let d64 = u64::from(over_days);
        Text::new(
            format!(
                "Тиск поза нормою {lo}–{hi} МПа: {hours} год з відхиленням до {over} % (по {hp} % плати за годину) і {over_days} {} з відхиленням понад {over} % (плата за цілий день, P / D). {hours} × {hp} % × {p} + {over_days} × {p} / {days} = {amount} {}.",
                uk_plural(d64, "день", "дні", "днів"),
                cur.uk
            ),
            format!(
                "Pressure outside the norm {lo}–{hi} MPa: {hours} h deviating up to {over}% ({hp}% of the charge per hour) and {over_days} {} deviating over {over}% (the whole day's charge, P / D). {hours} × {hp}% × {p} + {over_days} × {p} / {days} = {amount} {}.",
                en_plural(d64, "day", "days"),
                cur.en
            ),
        )
    }

    fn interruptions(
        &self,
        listed: &[(NaiveDateTime, Text)],
        single_excess: i64,
        month_over: i64,
        dead_end_excess: i64,
        excess_hours: Decimal,
    ) -> Text {
        let r = self.rules;
        if listed.is_empty() {
            return Text::new(
                "Перерв у подачі гарячої води не було.",
                "There were no interruptions of hot water.",
            );
        }
        let list_uk: Vec<&str> = listed.iter().map(|(_, t)| t.uk.as_str()).collect();
        let list_en: Vec<&str> = listed.iter().map(|(_, t)| t.en.as_str()).collect();
        let (single, month, dead) = (
            r.interruption_single_hours,
            r.interruption_month_hours,
            r.dead_end_single_hours,
        );
        let (se, mo, de) = (
            duration_text(single_excess),
            duration_text(month_over),
            duration_text(dead_end_excess),
        );
        let hp = show(r.interruption_hour_percent);
        let (p, cur) = (self.p, self.cur);
        let exact = p.to_decimal() * pct(r.interruption_hour_percent) * excess_hours;
        let amount = Money::reduction_capped(exact, p);
        let eh = show_rounded(excess_hours, 4);
        Text::new(
            format!(
                "Перерви: {}. Дозволено {single} год за раз і {month} год за місяць (аварія на тупиковій магістралі — {dead} год за раз, не входить у {month} год). Понад норму: більше з ({} понад {single} год за раз; {} понад {month} год за місяць) + {} понад {dead} год на тупиковій магістралі = {eh} год. {p} {} × {hp} % × {eh} = {amount} {}.",
                list_uk.join(", "),
                se.uk,
                mo.uk,
                de.uk,
                cur.uk,
                cur.uk
            ),
            format!(
                "Interruptions: {}. Allowed: {single} h at a time and {month} h a month (an accident on a dead-end main: {dead} h at a time, not counted in the {month} h). Excess: the larger of ({} over {single} h at a time; {} over {month} h a month) + {} over {dead} h on a dead-end main = {eh} h. {p} {} × {hp}% × {eh} = {amount} {}.",
                list_en.join(", "),
                se.en,
                mo.en,
                de.en,
                cur.en,
                cur.en
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSetRegistry;
    use chrono::Duration;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn money(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }
    fn temp(hour: &str, t: &str) -> Reading {
        Reading {
            hour: at(hour),
            temperature_c: Some(dec(t)),
            pressure_mpa: None,
        }
    }
    fn press(hour: &str, p: &str) -> Reading {
        Reading {
            hour: at(hour),
            temperature_c: None,
            pressure_mpa: Some(dec(p)),
        }
    }
    fn cut(start: &str, end: &str, kind: InterruptionKind) -> Interruption {
        Interruption {
            start: at(start),
            end: at(end),
            kind,
        }
    }
    fn april() -> HotWaterInput {
        HotWaterInput {
            month: YearMonth::parse("2024-04").unwrap(),
            timezone: chrono_tz::Europe::Kyiv,
            charge: money("792.00"),
            hot_tariff: money("220.00"),
            cold_tariff: money("45.00"),
            volume_m3: dec("3.6"),
            readings: vec![],
            interruptions: vec![],
        }
    }
    fn run(input: &HotWaterInput) -> HotWaterResult {
        let reg = RuleSetRegistry::embedded().unwrap();
        calculate(reg.get("ru-354").unwrap(), input).unwrap()
    }
    fn errors(input: &HotWaterInput) -> Vec<String> {
        let reg = RuleSetRegistry::embedded().unwrap();
        calculate(reg.get("ru-354").unwrap(), input)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }
    fn amount(r: &HotWaterResult, kind: LineKind) -> Money {
        r.lines.iter().find(|l| l.kind == kind).unwrap().amount
    }

    /// RULES.md §5: 10 day hours at 54 °C (1 step each), 4 night hours at 49 °C (2 steps each),
    /// 36 hours below 40 °C.
    #[test]
    fn worked_example() {
        let mut i = april();
        for h in 10..20 {
            i.readings
                .push(temp(&format!("2024-04-02T{h:02}:00"), "54"));
        }
        for h in 0..4 {
            i.readings
                .push(temp(&format!("2024-04-03T{h:02}:00"), "49"));
        }
        for k in 0..36 {
            let t = at("2024-04-10T00:00") + Duration::hours(k);
            i.readings.push(Reading {
                hour: t,
                temperature_c: Some(dec("35")),
                pressure_mpa: None,
            });
        }
        let r = run(&i);
        // 18 step-hours × 0.1 % × 792.00 = 14.256 → 14.26
        assert_eq!(amount(&r, LineKind::Temperature), money("14.26"));
        // 3.6 × 36 / 720 × 175.00 = 31.50
        assert_eq!(amount(&r, LineKind::Below40), money("31.50"));
        assert_eq!(r.total, money("45.76"));
        assert_eq!((r.rule_set.as_str(), r.version), ("ru-354", 1));
        let t = &r.lines[0].explanation;
        assert!(
            t.uk.contains("10 год × 1 ступінь + 4 год × 2 ступені = 18"),
            "{}",
            t.uk
        );
        assert!(
            t.en.contains("792.00 UAH × 0.1% × 18 = 14.26 UAH"),
            "{}",
            t.en
        );
        assert!(
            r.lines[1]
                .explanation
                .en
                .contains("3.6 m³ × 36 h / (24 × 30) × (220.00 − 45.00)")
        );
    }

    #[test]
    fn partial_steps_floor_by_default_and_too_hot_counts() {
        let mut i = april();
        // Day 55 °C: 2 °C below 57 → 0 full steps; day 51.5: 5.5 → 1 step; night 80.1 (band up to 80): 0.1 → 0;
        // day 84 (band up to 78): 6 → 2 steps. Total 3 step-hours: 792 × 0.001 × 3 = 2.376 → 2.38.
        i.readings = vec![
            temp("2024-04-05T12:00", "55"),
            temp("2024-04-05T13:00", "51.5"),
            temp("2024-04-05T01:00", "80.1"),
            temp("2024-04-05T14:00", "84"),
        ];
        assert_eq!(amount(&run(&i), LineKind::Temperature), money("2.38"));
        // With ceil, the same hours give 1 + 2 + 1 + 2 = 6 steps: 4.752 → 4.75.
        let reg = RuleSetRegistry::embedded().unwrap();
        let mut rs = reg.get("ru-354").unwrap().clone();
        rs.hot_water.as_mut().unwrap().step_rounding = StepRounding::Ceil;
        assert_eq!(calculate(&rs, &i).unwrap().lines[0].amount, money("4.75"));
    }

    #[test]
    fn forty_degrees_is_a_temperature_hour_not_a_cold_one() {
        let mut i = april();
        // 40 °C by day: 17 °C below 57 → 5 steps (floor 5.67); 39.9 °C is below 40.
        i.readings = vec![
            temp("2024-04-05T12:00", "40"),
            temp("2024-04-05T13:00", "39.9"),
        ];
        let r = run(&i);
        // 792 × 0.001 × 5 = 3.96
        assert_eq!(amount(&r, LineKind::Temperature), money("3.96"));
        // 3.6 × 1 / 720 × 175 = 0.875 → 0.88
        assert_eq!(amount(&r, LineKind::Below40), money("0.88"));
    }

    #[test]
    fn pressure_up_to_and_over_25_percent() {
        let mut i = april();
        i.readings = vec![
            // 0.0225 is exactly 25 % below 0.03 → per hour.
            press("2024-04-01T08:00", "0.0225"),
            // 0.5625 is exactly 25 % above 0.45 → per hour.
            press("2024-04-01T09:00", "0.5625"),
            // Day 2: one hour at 0.0224 (over 25 %) → the whole day; its other hour gets no hourly penalty.
            press("2024-04-02T08:00", "0.0224"),
            press("2024-04-02T09:00", "0.025"),
            // Normal.
            press("2024-04-03T09:00", "0.3"),
        ];
        let r = run(&i);
        // 2 × 0.1 % × 792 + 1 × 792 / 30 = 1.584 + 26.4 = 27.984 → 27.98
        assert_eq!(amount(&r, LineKind::Pressure), money("27.98"));
    }

    #[test]
    fn interruptions_exactly_4h_each_and_8h_total() {
        let mut i = april();
        // Two planned breaks of exactly 4 h: no single excess, total exactly 8 h → nothing.
        i.interruptions = vec![
            cut(
                "2024-04-01T08:00",
                "2024-04-01T12:00",
                InterruptionKind::Planned,
            ),
            cut(
                "2024-04-02T08:00",
                "2024-04-02T12:00",
                InterruptionKind::Accident,
            ),
        ];
        assert_eq!(amount(&run(&i), LineKind::Interruptions), Money::ZERO);
        // A third of 30 min: total 8.5 h → 0.5 h excess: 792 × 0.0015 × 0.5 = 0.594 → 0.59.
        i.interruptions.push(cut(
            "2024-04-03T08:00",
            "2024-04-03T08:30",
            InterruptionKind::Planned,
        ));
        assert_eq!(amount(&run(&i), LineKind::Interruptions), money("0.59"));
        // One of 6 h 20 min alone: single excess 2 h 20 min beats total excess 0 → 792 × 0.0015 × 7/3 = 2.772 → 2.77.
        i.interruptions = vec![cut(
            "2024-04-03T08:00",
            "2024-04-03T14:20",
            InterruptionKind::Planned,
        )];
        let r = run(&i);
        assert_eq!(amount(&r, LineKind::Interruptions), money("2.77"));
        assert!(
            r.lines[3].explanation.uk.contains("6 год 20 хв"),
            "{}",
            r.lines[3].explanation.uk
        );
    }

    #[test]
    fn dead_end_accident_allows_24h_and_is_outside_the_8h() {
        let mut i = april();
        i.interruptions = vec![
            cut(
                "2024-04-01T00:00",
                "2024-04-02T00:00",
                InterruptionKind::DeadEndAccident,
            ),
            cut(
                "2024-04-05T00:00",
                "2024-04-05T04:00",
                InterruptionKind::Planned,
            ),
            cut(
                "2024-04-06T00:00",
                "2024-04-06T04:00",
                InterruptionKind::Planned,
            ),
        ];
        // Exactly 24 h dead-end + exactly 8 h other → nothing.
        assert_eq!(amount(&run(&i), LineKind::Interruptions), Money::ZERO);
        // 27 h dead-end → 3 h: 792 × 0.0015 × 3 = 3.564 → 3.56.
        i.interruptions[0].end = at("2024-04-02T03:00");
        assert_eq!(amount(&run(&i), LineKind::Interruptions), money("3.56"));
    }

    #[test]
    fn cap_at_the_charge() {
        let mut i = april();
        i.charge = money("100.00");
        // Pressure over 25 % on all 30 days: 30 × 100 / 30 = 100.00, plus 1 temperature step-hour (0.10 first).
        for day in 1..=30 {
            i.readings
                .push(press(&format!("2024-04-{day:02}T10:00"), "0.01"));
        }
        i.readings.push(temp("2024-04-01T11:00", "53"));
        let r = run(&i);
        assert_eq!(amount(&r, LineKind::Temperature), money("0.10"));
        assert_eq!(amount(&r, LineKind::Pressure), money("99.90"));
        assert_eq!(r.total, money("100.00"));
        assert!(r.lines[2].explanation.en.contains("Cut to 99.90 UAH"));
    }

    #[test]
    fn dst_months_in_kyiv() {
        // 2024-03-31: clocks jump 03:00 → 04:00 in Kyiv; 2024-10-27: 04:00 → 03:00.
        let mut i = april();
        i.month = YearMonth::parse("2024-03").unwrap();
        i.readings = vec![temp("2024-03-31T03:00", "50")];
        assert_eq!(errors(&i), ["readings[0].hour"]);
        i.readings = vec![
            temp("2024-03-31T02:00", "50"),
            temp("2024-03-31T04:00", "50"),
            temp("2024-03-31T05:00", "50"),
        ];
        i.interruptions = vec![cut(
            "2024-03-31T00:00",
            "2024-03-31T06:00",
            InterruptionKind::Planned,
        )];
        // 00:00–06:00 local on that day is 5 real hours → 1 h excess: 792 × 0.0015 = 1.188 → 1.19.
        // Temperature: 3 hours at 50 °C; 02:00 and 04:00 are night (55 − 50 = 5 → 1 step each), 05:00 is
        // day (57 − 50 = 7 → 2 steps) → 4 step-hours: 792 × 0.001 × 4 = 3.168 → 3.17. D = 31 calendar days.
        let r = run(&i);
        assert_eq!(amount(&r, LineKind::Interruptions), money("1.19"));
        assert_eq!(amount(&r, LineKind::Temperature), money("3.17"));
        // October: 00:00–06:00 on the 27th is 7 real hours → 3 h excess: 3.564 → 3.56; the repeated hour
        // 03:00 can be given once; twice is a duplicate.
        i.month = YearMonth::parse("2024-10").unwrap();
        i.readings = vec![
            temp("2024-10-27T03:00", "50"),
            temp("2024-10-27T03:00", "50"),
        ];
        i.interruptions = vec![cut(
            "2024-10-27T00:00",
            "2024-10-27T06:00",
            InterruptionKind::Planned,
        )];
        assert_eq!(errors(&i), ["readings[1].hour"]);
        i.readings.pop();
        assert_eq!(amount(&run(&i), LineKind::Interruptions), money("3.56"));
        // below 40 in October uses 24 × 31 hours whatever the clock does: 3.6 × 1 / 744 × 175 = 0.8467 → 0.85
        i.readings = vec![temp("2024-10-27T03:00", "30")];
        assert_eq!(amount(&run(&i), LineKind::Below40), money("0.85"));
    }

    #[test]
    fn bad_inputs_are_listed_by_field() {
        let mut i = april();
        i.hot_tariff = money("40.00");
        i.readings = vec![
            temp("2024-05-01T00:00", "50"),
            temp("2024-04-01T00:30", "50"),
            temp("2024-04-02T00:00", "50"),
            temp("2024-04-02T00:00", "50"),
        ];
        i.interruptions = vec![
            cut(
                "2024-04-01T10:00",
                "2024-04-01T09:00",
                InterruptionKind::Planned,
            ),
            cut(
                "2024-05-01T10:00",
                "2024-05-01T11:00",
                InterruptionKind::Planned,
            ),
            cut(
                "2024-04-03T10:00",
                "2024-04-03T12:00",
                InterruptionKind::Planned,
            ),
            cut(
                "2024-04-03T11:00",
                "2024-04-03T13:00",
                InterruptionKind::Accident,
            ),
        ];
        assert_eq!(
            errors(&i),
            [
                "hot_tariff",
                "readings[0].hour",
                "readings[1].hour",
                "readings[3].hour",
                "interruptions[0].end",
                "interruptions[1].start",
                "interruptions[3].start"
            ]
        );
        let reg = RuleSetRegistry::embedded().unwrap();
        let errs = calculate(reg.get("ua-zaporizhzhia-2023").unwrap(), &april()).unwrap_err();
        assert_eq!(errs[0].field, "rule_set");
    }

    #[test]
    fn interruption_crossing_the_month_counts_its_part_inside() {
        let mut i = april();
        // 2024-03-31T20:00 – 2024-04-01T06:00: 6 h inside April → 2 h excess: 792 × 0.0015 × 2 = 2.376 → 2.38.
        i.interruptions = vec![cut(
            "2024-03-31T20:00",
            "2024-04-01T06:00",
            InterruptionKind::Accident,
        )];
        assert_eq!(amount(&run(&i), LineKind::Interruptions), money("2.38"));
    }

    fn arb_input() -> impl Strategy<Value = HotWaterInput> {
        let reading = (
            0u32..720,
            proptest::option::of(300u32..900),
            proptest::option::of(0u32..80),
        );
        let cut = (0u32..15, 0u32..24, 1i64..(40 * 60), 0usize..3);
        (
            1i64..200_000,
            proptest::collection::vec(reading, 0..60),
            proptest::collection::vec(cut, 0..8),
        )
            .prop_map(|(p, readings, cuts)| {
                let mut i = april();
                i.charge = Money::from_kopiykas(p);
                let base = at("2024-04-01T00:00");
                let mut seen = BTreeSet::new();
                for (h, t, pr) in readings {
                    if seen.insert(h) {
                        i.readings.push(Reading {
                            hour: base + Duration::hours(i64::from(h)),
                            temperature_c: t.map(|t| Decimal::new(i64::from(t), 1)),
                            pressure_mpa: pr.map(|p| Decimal::new(i64::from(p), 2)),
                        });
                    }
                }
                let kinds = [
                    InterruptionKind::Planned,
                    InterruptionKind::Accident,
                    InterruptionKind::DeadEndAccident,
                ];
                let mut days = BTreeSet::new();
                for (day, hour, minutes, kind) in cuts {
                    // Every other day, under 48 h long, so interruptions never overlap.
                    if days.insert(day) {
                        let start = base
                            + Duration::days(i64::from(day) * 2)
                            + Duration::hours(i64::from(hour));
                        let end =
                            start + Duration::minutes(minutes.min(47 * 60 - i64::from(hour) * 60));
                        i.interruptions.push(Interruption {
                            start,
                            end,
                            kind: kinds[kind],
                        });
                    }
                }
                i
            })
    }

    proptest! {
        #[test]
        fn bounded_and_order_free(i in arb_input(), rot in 0usize..64) {
            let r = run(&i);
            prop_assert!(r.total >= Money::ZERO && r.total <= i.charge);
            prop_assert_eq!(r.total, r.lines.iter().map(|l| l.amount).sum::<Money>());
            for l in &r.lines {
                prop_assert!(l.amount >= Money::ZERO && l.amount <= i.charge);
            }
            let mut j = i.clone();
            if !j.readings.is_empty() {
                let n = j.readings.len();
                j.readings.rotate_left(rot % n);
                j.readings.reverse();
            }
            j.interruptions.reverse();
            prop_assert_eq!(run(&j), r);
        }

        #[test]
        fn more_violation_never_reduces_less(i in arb_input(), k in 0usize..60, delta in 1u32..300, extra in 1i64..600) {
            let r = run(&i);
            let mut j = i.clone();
            if let Some(reading) = j.readings.get_mut(k % i.readings.len().max(1)) {
                // Colder water while staying at or above 40 °C (or already below 40): not less temperature reduction.
                if let Some(t) = reading.temperature_c {
                    let colder = t - Decimal::new(i64::from(delta), 1);
                    // (Only below the norm's top: making too-hot water colder brings it closer to the norm.)
                    if t < dec("40") || (colder >= dec("40") && t <= dec("75")) {
                        reading.temperature_c = Some(colder.max(Decimal::ZERO));
                    }
                }
                // Pressure further below the norm: not less pressure reduction.
                if let Some(p) = reading.pressure_mpa && p < dec("0.03") {
                    reading.pressure_mpa = Some(Decimal::ZERO);
                }
            }
            // A longer interruption (still not overlapping the next one) never reduces less.
            if let Some(it) = j.interruptions.first_mut() {
                let longest = it.start.date().and_time(chrono::NaiveTime::MIN) + Duration::hours(47);
                it.end = (it.end + Duration::minutes(extra)).min(longest).max(it.end);
            }
            let s = run(&j);
            let cap = i.charge;
            // Compare lines before the cap trims them: only when nothing was trimmed.
            if r.total < cap && s.total < cap {
                for kind in [LineKind::Temperature, LineKind::Pressure, LineKind::Interruptions] {
                    prop_assert!(amount(&s, kind) >= amount(&r, kind), "{:?}", kind);
                }
            }
        }
    }
}
