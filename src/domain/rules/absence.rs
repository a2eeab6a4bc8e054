//! Temporary absence of residents: eligibility and the reduction of norm-based charges.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::FieldError;
use super::calendar::{YearMonth, days_inclusive, quarter_start, show_date};
use super::grounds::Ground;
use super::numbers::{MAX_AMOUNT, days_text};
use super::rule_set::{DayCount, LatePolicy, RuleSet};
use super::services::Service;
use crate::domain::lang::Text;
use crate::domain::money::Money;

/// One month's charge for one service, as billed before the recalculation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub month: YearMonth,
    pub service: Service,
    /// The norm-based charge; with a two-part tariff, only its variable part.
    pub amount: Money,
    /// Charged by the dwelling's own meter (then nothing is reduced).
    pub metered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceInput {
    pub application_date: NaiveDate,
    /// First day of absence (for `exclusive` day counting: the departure day).
    pub from: NaiveDate,
    /// Last day of absence (for `exclusive` day counting: the arrival day).
    pub to: NaiveDate,
    pub ground: Ground,
    pub certificate_issued: Option<NaiveDate>,
    /// Ids of the documents seen; `None` means documents are not checked (a resident's estimate).
    pub documents_seen: Option<Vec<String>>,
    pub registered_persons: u32,
    pub absent_persons: u32,
    pub charges: Vec<Charge>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceLine {
    pub month: YearMonth,
    pub service: Service,
    pub charge: Money,
    pub amount: Money,
    pub explanation: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceResult {
    pub rule_set: String,
    pub version: u32,
    pub eligible: bool,
    /// Every reason the application is refused (empty when eligible).
    pub reasons: Vec<Text>,
    /// Days of absence counted for the reduction (within the recalculated period).
    pub counted_days: u32,
    pub total: Money,
    pub lines: Vec<AbsenceLine>,
    /// How the period, deadlines and persons were judged, in order.
    pub explanation: Vec<Text>,
}

/// Days of a service already reduced by an earlier recalculation of the same account: they are
/// not reduced again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credited {
    pub service: Service,
    /// The earlier absence's counted days (both ends included).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Where it was credited, for the explanation ("case #12, absence 01.03–20.03").
    pub source: Text,
}

/// Faults in the input itself (as opposed to reasons to refuse), named as in the JSON request.
pub fn check(rule_set: &RuleSet, input: &AbsenceInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.to < input.from {
        errors.push(FieldError::new(
            "absence.to",
            Text::new(
                "Дата кінця відсутності раніша за дату початку.",
                "The end of the absence is before its start.",
            ),
        ));
    }
    let rules = &rule_set.absence;
    if rules.documents.ground(input.ground).is_none() {
        let allowed: Vec<&str> = rules.documents.grounds().map(Ground::id).collect();
        errors.push(FieldError::new(
            "absence.ground",
            Text::new(
                format!(
                    "Підстава «{}» не передбачена правилами {}; можливі: {}.",
                    input.ground.id(),
                    rule_set.id,
                    allowed.join(", ")
                ),
                format!(
                    "The ground \"{}\" is not provided for by {}; allowed: {}.",
                    input.ground.id(),
                    rule_set.id,
                    allowed.join(", ")
                ),
            ),
        ));
    }
    if let Some(issued) = input.certificate_issued
        && issued > input.application_date
    {
        errors.push(FieldError::new(
            "certificate_issued",
            Text::new(
                "Довідку не могли видати пізніше за дату заяви.",
                "The certificate cannot be issued after the application date.",
            ),
        ));
    }
    if let Some(seen) = &input.documents_seen {
        for (i, id) in seen.iter().enumerate() {
            if rules.documents.document(id).is_none() {
                errors.push(FieldError::new(
                    format!("documents_seen[{i}]"),
                    Text::new(
                        format!("Невідомий документ «{id}»."),
                        format!("Unknown document \"{id}\"."),
                    ),
                ));
            }
        }
    }
    if input.registered_persons == 0 {
        errors.push(FieldError::new(
            "registered_persons",
            Text::new(
                "Має бути зареєстрована хоча б одна особа.",
                "At least one person must be registered.",
            ),
        ));
    }
    if input.absent_persons == 0 {
        errors.push(FieldError::new(
            "absent_persons",
            Text::new(
                "Має бути відсутня хоча б одна особа.",
                "At least one person must be absent.",
            ),
        ));
    } else if input.absent_persons > input.registered_persons {
        errors.push(FieldError::new(
            "absent_persons",
            Text::new(
                "Відсутніх осіб не може бути більше, ніж зареєстрованих.",
                "There cannot be more absent persons than registered ones.",
            ),
        ));
    }
    let mut seen_pairs = BTreeSet::new();
    for (i, c) in input.charges.iter().enumerate() {
        if c.amount.is_negative() {
            errors.push(FieldError::new(
                format!("charges[{i}].amount"),
                Text::new(
                    "Нарахування не може бути від'ємним.",
                    "A charge cannot be negative.",
                ),
            ));
        } else if c.amount.to_decimal() > MAX_AMOUNT {
            errors.push(FieldError::new(
                format!("charges[{i}].amount"),
                Text::new("Нарахування завелике.", "The charge is too large."),
            ));
        }
        // why: two charges for the same service and month would be reduced twice; ask for their sum.
        if !seen_pairs.insert((c.month, c.service)) {
            errors.push(FieldError::new(
                format!("charges[{i}].service"),
                Text::new(
                    format!(
                        "Нарахування за «{}» за {} вказано двічі.",
                        c.service.name().uk,
                        c.month
                    ),
                    format!(
                        "The charge for {} in {} is listed twice.",
                        c.service.name().en,
                        c.month
                    ),
                ),
            ));
        }
    }
    errors
}

/// Judges the application and computes the reduction of each charge.
pub fn calculate(
    rule_set: &RuleSet,
    input: &AbsenceInput,
) -> Result<AbsenceResult, Vec<FieldError>> {
    calculate_credited(rule_set, input, &[])
}

/// [`calculate`] for an account whose earlier recalculations already reduced some days: the
/// application is judged on its whole documented absence, and each month reduces only the
/// counted days no earlier recalculation of that service reduced.
pub fn calculate_credited(
    rule_set: &RuleSet,
    input: &AbsenceInput,
    credited: &[Credited],
) -> Result<AbsenceResult, Vec<FieldError>> {
    let errors = check(rule_set, input);
    if !errors.is_empty() {
        return Err(errors);
    }
    let rules = &rule_set.absence;
    let mut reasons = Vec::new();
    let mut explanation = Vec::new();

    // The days that count: all of them, or without the departure and arrival days.
    let (start, end) = match rules.day_count {
        DayCount::Inclusive => (input.from, input.to),
        DayCount::Exclusive => (next_day(input.from), prev_day(input.to)),
    };
    let full_days = days_inclusive(start, end);
    let (d_uk, d_en) = days_text(full_days);
    let (how_uk, how_en) = match rules.day_count {
        DayCount::Inclusive => ("обидві дати враховано", "both dates counted"),
        DayCount::Exclusive => (
            "без дня від'їзду й дня приїзду",
            "the departure and arrival days not counted",
        ),
    };
    let (from_t, to_t) = (show_date(input.from), show_date(input.to));
    let ground = input.ground.name();
    let threshold = rules.eligible_more_than_days;
    explanation.push(Text::new(
        format!(
            "Відсутність з {} по {} ({}): {d_uk} ({how_uk}); перерахунок можливий, якщо днів більше ніж {threshold}.",
            from_t.uk, to_t.uk, ground.uk
        ),
        format!(
            "Absence from {} to {} ({}): {d_en} ({how_en}); a recalculation needs more than {threshold}.",
            from_t.en, to_t.en, ground.en
        ),
    ));
    if full_days <= threshold {
        reasons.push(Text::new(
            format!("Відсутність становить {d_uk}, а потрібно більше ніж {threshold}."),
            format!("The absence counts {d_en}, but more than {threshold} are needed."),
        ));
    }

    // The certificate's validity, counted from its issue date to the application date.
    let expires = rules
        .documents
        .ground(input.ground)
        .is_some_and(|g| g.certificate_expires);
    if let (Some(valid), Some(issued), true) = (
        rules.certificate_valid_days,
        input.certificate_issued,
        expires,
    ) {
        let age = u32::try_from((input.application_date - issued).num_days()).unwrap_or(0);
        let issued_t = show_date(issued);
        let (a_uk, a_en) = days_text(age);
        if age > valid {
            reasons.push(Text::new(
                format!(
                    "Довідку видано {}, за {a_uk} до заяви, а довідка дійсна {valid} днів від дати видачі.",
                    issued_t.uk
                ),
                format!(
                    "The certificate was issued on {}, {a_en} before the application; it is valid for {valid} days from issue.",
                    issued_t.en
                ),
            ));
        } else {
            explanation.push(Text::new(
                format!("Довідку видано {}, за {a_uk} до заяви: вона дійсна (до {valid} днів).", issued_t.uk),
                format!(
                    "The certificate was issued on {}, {a_en} before the application: it is valid (up to {valid} days).",
                    issued_t.en
                ),
            ));
        }
    }

    // The deadline: an application is late when filed more than N days after the absence ended.
    let app_t = show_date(input.application_date);
    let deadline = input
        .to
        .checked_add_days(Days::new(u64::from(rules.late_after_days)))
        .unwrap_or(input.to);
    let late = input.application_date > deadline;
    let mut window_start = start;
    if late {
        let n = rules.late_after_days;
        match rules.late_policy {
            LatePolicy::Reject => reasons.push(Text::new(
                format!(
                    "Заяву подано {}, пізніше ніж через {n} днів після повернення ({}); її треба подати до від'їзду або не пізніше ніж через {n} днів після повернення.",
                    app_t.uk, to_t.uk
                ),
                format!(
                    "The application was filed on {}, more than {n} days after the return ({}); it must be filed before leaving or within {n} days after returning.",
                    app_t.en, to_t.en
                ),
            )),
            LatePolicy::CurrentQuarter => {
                let q = quarter_start(input.application_date);
                let q_t = show_date(q);
                window_start = window_start.max(q);
                if window_start > end {
                    reasons.push(Text::new(
                        format!(
                            "Заяву подано із запізненням ({}): рахунки виправляються лише з {} (початок поточного кварталу), а відсутність закінчилася раніше — перераховувати нічого.",
                            app_t.uk, q_t.uk
                        ),
                        format!(
                            "The application is late ({}): accounts are corrected only from {} (the start of the current quarter), and the absence ended before that, so nothing can be recalculated.",
                            app_t.en, q_t.en
                        ),
                    ));
                } else {
                    explanation.push(Text::new(
                        format!(
                            "Заяву подано {}, пізніше ніж через {n} днів після закінчення відсутності, тому перерахунок робиться лише з {} (початок поточного кварталу); за попередній період — ні.",
                            app_t.uk, q_t.uk
                        ),
                        format!(
                            "The application was filed on {}, more than {n} days after the absence ended, so the recalculation starts only on {} (the start of the current quarter); earlier periods are not recalculated.",
                            app_t.en, q_t.en
                        ),
                    ));
                }
            }
        }
    }

    if let Some(seen) = &input.documents_seen {
        let seen: BTreeSet<String> = seen.iter().cloned().collect();
        reasons.extend(rules.documents.missing_documents(input.ground, &seen));
    } else {
        explanation.push(Text::new(
            "Документи не перевірялися: це попередній розрахунок; остаточне рішення — після перевірки документів.",
            "Documents were not checked: this is an estimate; the final decision follows the document check.",
        ));
    }

    let counted_days = days_inclusive(window_start, end);
    let (absent, registered) = (input.absent_persons, input.registered_persons);
    let eligible = reasons.is_empty();
    let mut lines = Vec::new();
    if eligible {
        explanation.push(Text::new(
            format!(
                "Відсутніх осіб: {absent}, зареєстрованих: {registered}; нарахування зменшується на частку {absent}/{registered} за кожен день відсутності."
            ),
            format!(
                "Absent persons: {absent}, registered: {registered}; the charge is reduced by the share {absent}/{registered} for each day of absence."
            ),
        ));
        let mut charges: Vec<&Charge> = input.charges.iter().collect();
        charges.sort_by_key(|c| (c.month, c.service));
        for c in charges {
            let earlier: Vec<&Credited> =
                credited.iter().filter(|k| k.service == c.service).collect();
            lines.push(line(
                rule_set,
                c,
                window_start,
                end,
                absent,
                registered,
                &earlier,
            ));
        }
    }
    let total = lines.iter().map(|l| l.amount).sum();
    Ok(AbsenceResult {
        rule_set: rule_set.id.clone(),
        version: rule_set.version,
        eligible,
        reasons,
        counted_days,
        total,
        lines,
        explanation,
    })
}

fn line(
    rule_set: &RuleSet,
    c: &Charge,
    start: NaiveDate,
    end: NaiveDate,
    absent: u32,
    registered: u32,
    credited: &[&Credited],
) -> AbsenceLine {
    let cur = &rule_set.currency;
    let month = c.month.name();
    let service = c.service.name();
    let head_uk = format!("{}, {}: {} {}", month.uk, service.uk, c.amount, cur.uk);
    let head_en = format!("{}, {}: {} {}", month.en, service.en, c.amount, cur.en);
    let zero = |uk: String, en: String| AbsenceLine {
        month: c.month,
        service: c.service,
        charge: c.amount,
        amount: Money::ZERO,
        explanation: Text::new(format!("{head_uk} — {uk}"), format!("{head_en} — {en}")),
    };
    if !rule_set.absence.reducible_services.contains(&c.service) {
        return zero(
            "не зменшується: за відсутності перераховують лише послуги, нараховані за нормою на зареєстровану особу (не опалення, не утримання будинку, не загальнобудинкові потреби).".into(),
            "not reduced: an absence reduces only services charged per registered person by a norm (not heating, building maintenance or common-house needs).".into(),
        );
    }
    if c.metered {
        return zero(
            "не зменшується: послугу нараховано за лічильником, який і так показує фактичне споживання.".into(),
            "not reduced: the service is charged by a meter, which already shows the actual use.".into(),
        );
    }
    let d = c.month.days();
    let from = start.max(c.month.first_day());
    let to = end.min(c.month.last_day());
    let all_days = days_inclusive(from, to);
    if all_days == 0 {
        return zero(
            "не зменшується: у цьому місяці немає днів відсутності, що враховуються.".into(),
            "not reduced: no counted days of absence fall in this month.".into(),
        );
    }
    // The month's counted days an earlier recalculation already reduced, and by which.
    let mut taken = 0u32;
    let mut sources: Vec<&Text> = Vec::new();
    let mut day = from;
    while day <= to {
        if let Some(k) = credited.iter().find(|k| k.from <= day && day <= k.to) {
            taken += 1;
            if !sources.contains(&&k.source) {
                sources.push(&k.source);
            }
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    let days = all_days - taken;
    let (note_uk, note_en) = if taken == 0 {
        (String::new(), String::new())
    } else {
        let (t_uk, t_en) = days_text(taken);
        let uk: Vec<&str> = sources.iter().map(|t| t.uk.as_str()).collect();
        let en: Vec<&str> = sources.iter().map(|t| t.en.as_str()).collect();
        (
            format!(
                " ({t_uk} з {all_days} уже зменшено раніше: {})",
                uk.join("; ")
            ),
            format!(
                " ({t_en} of {all_days} already reduced before: {})",
                en.join("; ")
            ),
        )
    };
    if days == 0 {
        return zero(
            format!(
                "не зменшується: усі дні відсутності цього місяця вже зменшено раніше{note_uk}."
            ),
            format!(
                "not reduced: every day of absence in this month was already reduced{note_en}."
            ),
        );
    }
    let exact = c.amount.to_decimal() * Decimal::from(absent) * Decimal::from(days)
        / (Decimal::from(registered) * Decimal::from(d));
    let amount = Money::reduction_capped(exact, c.amount);
    AbsenceLine {
        month: c.month,
        service: c.service,
        charge: c.amount,
        amount,
        explanation: Text::new(
            format!(
                "{head_uk} × {absent}/{registered} (відсутні / зареєстровані особи) × {days}/{d} (дні відсутності / дні місяця) = {amount} {}{note_uk}.",
                cur.uk
            ),
            format!(
                "{head_en} × {absent}/{registered} (absent / registered persons) × {days}/{d} (days absent / days in the month) = {amount} {}{note_en}.",
                cur.en
            ),
        ),
    }
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

fn prev_day(d: NaiveDate) -> NaiveDate {
    d.pred_opt().unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSetRegistry;
    use crate::domain::rules::calendar::parse_date;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }
    fn m(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }
    fn money(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn charge(month: &str, service: Service, amount: &str) -> Charge {
        Charge {
            month: m(month),
            service,
            amount: money(amount),
            metered: false,
        }
    }
    fn reg() -> RuleSetRegistry {
        RuleSetRegistry::embedded().unwrap()
    }
    fn base(from: &str, to: &str, app: &str) -> AbsenceInput {
        AbsenceInput {
            application_date: d(app),
            from: d(from),
            to: d(to),
            ground: Ground::Abroad,
            certificate_issued: None,
            documents_seen: None,
            registered_persons: 1,
            absent_persons: 1,
            charges: vec![],
        }
    }
    fn zap(input: &AbsenceInput) -> AbsenceResult {
        calculate(reg().get("ua-zaporizhzhia-2023").unwrap(), input).unwrap()
    }
    fn ru(input: &AbsenceInput) -> AbsenceResult {
        calculate(reg().get("ru-354").unwrap(), input).unwrap()
    }

    #[test]
    fn exactly_30_days_is_not_enough_31_is() {
        // 2024-03-01..2024-03-30 = 30 days (both counted): not more than 30 → refused.
        let r = zap(&base("2024-03-01", "2024-03-30", "2024-04-02"));
        assert!(!r.eligible);
        assert_eq!(r.reasons.len(), 1);
        assert!(r.reasons[0].uk.contains("30 днів"), "{}", r.reasons[0].uk);
        // 2024-03-01..2024-03-31 = 31 days → eligible.
        let mut i = base("2024-03-01", "2024-03-31", "2024-04-02");
        i.charges = vec![charge("2024-03", Service::ColdWater, "100.00")];
        let r = zap(&i);
        assert!(r.eligible, "{:?}", r.reasons);
        assert_eq!(r.counted_days, 31);
        // 100.00 × 1/1 × 31/31 = 100.00
        assert_eq!(r.total, money("100.00"));
    }

    #[test]
    fn days_credited_before_are_not_reduced_again() {
        // 2024-03-10..2024-04-25 after 2024-03-01..2024-03-20 of cold water (not of hot water):
        // March cold water keeps 21..31 (11 days), hot water all 22; April is all new.
        let mut i = base("2024-03-10", "2024-04-25", "2024-04-28");
        i.charges = vec![
            charge("2024-03", Service::ColdWater, "310.00"),
            charge("2024-03", Service::HotWater, "310.00"),
            charge("2024-04", Service::ColdWater, "300.00"),
        ];
        let earlier = Credited {
            service: Service::ColdWater,
            from: d("2024-03-01"),
            to: d("2024-03-20"),
            source: Text::new("справа №7", "case #7"),
        };
        let rs = reg();
        let r = calculate_credited(
            rs.get("ua-zaporizhzhia-2023").unwrap(),
            &i,
            std::slice::from_ref(&earlier),
        )
        .unwrap();
        assert!(r.eligible, "{:?}", r.reasons);
        let amounts: Vec<Money> = r.lines.iter().map(|l| l.amount).collect();
        // Lines sorted by month then service: March cold, March hot, April cold.
        assert_eq!(
            amounts,
            vec![money("110.00"), money("220.00"), money("250.00")]
        );
        assert!(
            r.lines[0].explanation.en.contains("11/31"),
            "{}",
            r.lines[0].explanation.en
        );
        assert!(
            r.lines[0].explanation.en.contains("case #7"),
            "{}",
            r.lines[0].explanation.en
        );
        // Wholly credited: the month's line is zero and says why.
        let mut j = base("2024-03-01", "2024-03-31", "2024-04-02");
        j.charges = vec![charge("2024-03", Service::ColdWater, "310.00")];
        let whole = Credited {
            from: d("2024-03-01"),
            to: d("2024-03-31"),
            ..earlier
        };
        let r = calculate_credited(rs.get("ua-zaporizhzhia-2023").unwrap(), &j, &[whole]).unwrap();
        assert_eq!(r.total, Money::ZERO);
        assert!(
            r.lines[0].explanation.uk.contains("вже зменшено"),
            "{}",
            r.lines[0].explanation.uk
        );
    }

    #[test]
    fn month_boundary_several_persons_and_services() {
        // 2024-03-20..2024-04-25: March 12 days (20..31), April 25 days → 37 days.
        // 3 registered, 2 absent.
        let mut i = base("2024-03-20", "2024-04-25", "2024-04-28");
        i.registered_persons = 3;
        i.absent_persons = 2;
        i.charges = vec![
            charge("2024-04", Service::ColdWater, "90.00"),
            charge("2024-03", Service::ColdWater, "93.00"),
            charge("2024-03", Service::Heating, "1500.00"),
            Charge {
                metered: true,
                ..charge("2024-03", Service::Electricity, "300.00")
            },
            charge("2024-04", Service::Waste, "45.10"),
        ];
        let r = zap(&i);
        assert!(r.eligible);
        assert_eq!(r.counted_days, 37);
        let amounts: Vec<(String, Service, String)> = r
            .lines
            .iter()
            .map(|l| (l.month.to_string(), l.service, l.amount.to_string()))
            .collect();
        assert_eq!(
            amounts,
            [
                // 93.00 × 2/3 × 12/31 = 24.00
                ("2024-03".into(), Service::ColdWater, "24.00".into()),
                // metered: not reduced
                ("2024-03".into(), Service::Electricity, "0.00".into()),
                // heating: never reduced
                ("2024-03".into(), Service::Heating, "0.00".into()),
                // 90.00 × 2/3 × 25/30 = 50.00
                ("2024-04".into(), Service::ColdWater, "50.00".into()),
                // 45.10 × 2/3 × 25/30 = 25.0555… → 25.06
                ("2024-04".into(), Service::Waste, "25.06".into()),
            ]
        );
        assert_eq!(r.total, money("99.06"));
        assert!(
            r.lines[0]
                .explanation
                .uk
                .contains("× 2/3 (відсутні / зареєстровані особи) × 12/31"),
            "{}",
            r.lines[0].explanation.uk
        );
        assert!(r.lines[2].explanation.en.contains("not reduced"));
    }

    #[test]
    fn leap_february() {
        // 2024-01-15..2024-02-29: Jan 17 days, Feb 29 of 29 → 46 days.
        let mut i = base("2024-01-15", "2024-02-29", "2024-03-05");
        i.charges = vec![
            charge("2024-02", Service::Gas, "58.00"),
            charge("2024-01", Service::Gas, "62.00"),
        ];
        let r = zap(&i);
        assert_eq!(r.counted_days, 46);
        // Feb: 58.00 × 29/29 = 58.00; Jan: 62.00 × 17/31 = 34.00
        assert_eq!(r.lines[0].amount, money("34.00"));
        assert_eq!(r.lines[1].amount, money("58.00"));
        assert_eq!(r.total, money("92.00"));
    }

    #[test]
    fn certificate_90_days_valid_91_rejected() {
        let mut i = base("2024-01-01", "2024-03-31", "2024-04-10");
        // 2024-01-11 → 2024-04-10 = 20 (Jan) + 29 + 31 + 10 = 90 days: valid.
        i.certificate_issued = Some(d("2024-01-11"));
        assert!(zap(&i).eligible);
        // One day earlier: 91 days → rejected.
        i.certificate_issued = Some(d("2024-01-10"));
        let r = zap(&i);
        assert!(!r.eligible);
        assert!(r.reasons[0].en.contains("91 days"), "{}", r.reasons[0].en);
        // A death certificate does not expire.
        i.ground = Ground::Deceased;
        assert!(zap(&i).eligible);
    }

    #[test]
    fn late_application_only_from_the_current_quarter() {
        // Absence 2024-01-10..2024-05-10, application 2024-06-20: 41 days after the end (> 30), late.
        // Quarter of 2024-06-20 starts 2024-04-01: counted 2024-04-01..2024-05-10 = 30 + 10 = 40 days.
        let mut i = base("2024-01-10", "2024-05-10", "2024-06-20");
        i.charges = vec![
            charge("2024-03", Service::ColdWater, "100.00"),
            charge("2024-04", Service::ColdWater, "100.00"),
            charge("2024-05", Service::ColdWater, "100.00"),
        ];
        let r = zap(&i);
        assert!(r.eligible);
        assert_eq!(r.counted_days, 40);
        // March: 0 (before the quarter); April 100 × 30/30 = 100.00; May 100 × 10/31 = 32.258 → 32.26.
        let a: Vec<String> = r.lines.iter().map(|l| l.amount.to_string()).collect();
        assert_eq!(a, ["0.00", "100.00", "32.26"]);
        assert!(
            r.explanation
                .iter()
                .any(|t| t.en.contains("start of the current quarter"))
        );
        // Exactly 30 days after the end is on time: 2024-05-10 + 30 = 2024-06-09.
        i.application_date = d("2024-06-09");
        let r = zap(&i);
        assert_eq!(r.counted_days, 122); // 22 + 29 + 31 + 30 + 10
        assert_eq!(r.lines[0].amount, money("100.00"));
    }

    #[test]
    fn late_application_after_a_quarter_boundary_has_nothing_left() {
        // Absence ended 2024-03-20, application 2024-04-25 (36 days later): quarter starts 2024-04-01.
        let r = zap(&base("2024-01-01", "2024-03-20", "2024-04-25"));
        assert!(!r.eligible);
        assert_eq!(r.counted_days, 0);
        assert!(r.reasons[0].en.contains("nothing can be recalculated"));
    }

    #[test]
    fn application_during_absence_is_on_time() {
        let mut i = base("2024-01-01", "2024-12-31", "2024-11-01");
        i.charges = vec![charge("2024-01", Service::Sewerage, "31.00")];
        let r = zap(&i);
        assert!(r.eligible);
        assert_eq!(r.lines[0].amount, money("31.00"));
    }

    #[test]
    fn every_reason_is_listed() {
        // 10 days, certificate 100 days old, documents missing: three kinds of reasons at once.
        let mut i = base("2024-03-01", "2024-03-10", "2024-03-15");
        i.certificate_issued = Some(d("2023-12-06"));
        i.documents_seen = Some(vec!["passports".into()]);
        let r = zap(&i);
        assert!(!r.eligible);
        // short + certificate + application + foreign passport
        assert_eq!(r.reasons.len(), 4, "{:?}", r.reasons);
        assert!(r.lines.is_empty());
        assert_eq!(r.total, Money::ZERO);
    }

    #[test]
    fn ru_354_excludes_departure_and_arrival_days() {
        // Left 2024-03-01, back 2024-03-07: full days 2..6 = 5 → not more than 5.
        let mut i = base("2024-03-01", "2024-03-07", "2024-03-10");
        i.ground = Ground::Other;
        assert!(!ru(&i).eligible);
        // Back 2024-03-08: 6 days → eligible. 62.00 × 6/31 = 12.00.
        i.to = d("2024-03-08");
        i.charges = vec![charge("2024-03", Service::HotWater, "62.00")];
        let r = ru(&i);
        assert!(r.eligible);
        assert_eq!(r.counted_days, 6);
        assert_eq!(r.total, money("12.00"));
    }

    #[test]
    fn ru_354_late_is_rejected_and_other_is_unknown_in_zaporizhzhia() {
        let mut i = base("2024-03-01", "2024-03-20", "2024-04-20");
        i.ground = Ground::Other;
        // 2024-03-20 + 30 = 2024-04-19 < 2024-04-20 → late → refused.
        let r = ru(&i);
        assert!(!r.eligible);
        assert!(r.reasons[0].en.contains("within 30 days"));
        i.application_date = d("2024-04-19");
        assert!(ru(&i).eligible);
        let errs = calculate(reg().get("ua-zaporizhzhia-2023").unwrap(), &i).unwrap_err();
        assert_eq!(errs[0].field, "absence.ground");
    }

    #[test]
    fn input_faults_are_field_errors() {
        let mut i = base("2024-03-10", "2024-03-01", "2024-03-01");
        i.registered_persons = 1;
        i.absent_persons = 2;
        i.certificate_issued = Some(d("2024-04-01"));
        i.documents_seen = Some(vec!["application".into(), "selfie".into()]);
        i.charges = vec![
            charge("2024-03", Service::Gas, "1.00"),
            Charge {
                amount: Money::from_kopiykas(-1),
                ..charge("2024-03", Service::Gas, "1.00")
            },
        ];
        let errs = calculate(reg().get("ua-zaporizhzhia-2023").unwrap(), &i).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "absence.to",
                "certificate_issued",
                "documents_seen[1]",
                "absent_persons",
                "charges[1].amount",
                "charges[1].service"
            ]
        );
    }

    proptest! {
        #[test]
        fn reduction_bounded_monotone_and_order_free(
            start in 0u64..200,
            len in 0u64..200,
            extra in 0u64..30,
            registered in 1u32..6,
            absent_raw in 1u32..6,
            amounts in proptest::collection::vec(0i64..500_000, 1..8),
            rot in 0usize..8,
        ) {
            let absent = absent_raw.min(registered);
            let from = d("2024-01-01") + Days::new(start);
            let to = from + Days::new(len);
            let services = [Service::ColdWater, Service::HotWater, Service::Gas, Service::Waste];
            let charges: Vec<Charge> = amounts.iter().enumerate().map(|(k, a)| Charge {
                month: YearMonth::new(2024, 1 + (k as u32 / 4) * 3 + (start as u32 % 3)).unwrap(),
                service: services[k % 4],
                amount: Money::from_kopiykas(*a),
                metered: false,
            }).collect();
            let mut i = AbsenceInput {
                application_date: to,
                from, to,
                ground: Ground::Abroad,
                certificate_issued: None,
                documents_seen: None,
                registered_persons: registered,
                absent_persons: absent,
                charges: charges.clone(),
            };
            let r = zap(&i);
            for l in &r.lines {
                prop_assert!(l.amount >= Money::ZERO && l.amount <= l.charge);
            }
            prop_assert_eq!(r.total, r.lines.iter().map(|l| l.amount).sum::<Money>());
            // Order of charges does not matter.
            let mut rotated = charges.clone();
            rotated.rotate_left(rot % charges.len());
            i.charges = rotated;
            prop_assert_eq!(&zap(&i), &r);
            // A longer absence (application still on time) never reduces less.
            i.to = to + Days::new(extra);
            i.application_date = i.to;
            prop_assert!(zap(&i).total >= r.total);
            // More absent persons never reduce less.
            if absent < registered {
                i.to = to;
                i.application_date = to;
                i.absent_persons = absent + 1;
                prop_assert!(zap(&i).total >= r.total);
            }
        }
    }
}
