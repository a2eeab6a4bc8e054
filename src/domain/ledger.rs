//! The account ledger: append-only entries, the balance and the debt derived from them, and the
//! monthly charge of a connected service from its tariff and charging basis.
//!
//! Sign convention: a positive amount is owed by the resident (a charge), a negative one reduces
//! what is owed (a payment, a benefit or subsidy credit, a recalculation in the resident's favour).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::lang::Text;
use crate::domain::money::Money;
use crate::domain::rules::calendar::YearMonth;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// The monthly charge from the charge run.
    Charge,
    Payment,
    /// Credit for a benefit (пільга).
    Benefit,
    /// Credit for a subsidy (субсидія).
    Subsidy,
    /// A recalculation under a rule set (temporary absence, hot water quality, meter seal, …).
    Adjustment,
    /// A correction of an earlier entry, made by a new entry.
    Correction,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Charge,
        EntryKind::Payment,
        EntryKind::Benefit,
        EntryKind::Subsidy,
        EntryKind::Adjustment,
        EntryKind::Correction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Charge => "charge",
            EntryKind::Payment => "payment",
            EntryKind::Benefit => "benefit",
            EntryKind::Subsidy => "subsidy",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn name(self) -> Text {
        match self {
            EntryKind::Charge => Text::new("Нарахування", "Charge"),
            EntryKind::Payment => Text::new("Оплата", "Payment"),
            EntryKind::Benefit => Text::new("Пільга", "Benefit"),
            EntryKind::Subsidy => Text::new("Субсидія", "Subsidy"),
            EntryKind::Adjustment => Text::new("Перерахунок", "Recalculation"),
            EntryKind::Correction => Text::new("Коригування", "Correction"),
        }
    }
}

/// The part of an entry the balance depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub period: YearMonth,
    pub service: String,
    pub kind: EntryKind,
    pub amount: Money,
}

/// What the account owes in total (negative: paid in advance).
pub fn balance<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Money {
    entries.into_iter().map(|e| e.amount).sum()
}

/// One unpaid (period, service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtLine {
    pub period: YearMonth,
    pub service: String,
    pub amount: Money,
}

/// The net amount of every (period, service) that is not zero, oldest first. The lines sum to the
/// balance; a negative line is an overpayment of that period and service.
pub fn by_period_and_service<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<DebtLine> {
    let mut sums: BTreeMap<(YearMonth, &str), Money> = BTreeMap::new();
    for e in entries {
        let slot = sums.entry((e.period, e.service.as_str())).or_default();
        *slot = *slot + e.amount;
    }
    sums.into_iter()
        .filter(|(_, m)| *m != Money::ZERO)
        .map(|((period, service), amount)| DebtLine {
            period,
            service: service.to_string(),
            amount,
        })
        .collect()
}

/// The debt: what is owed, allocated to the oldest periods first. Payments are not bound to a
/// period (residents pay "the invoice"), so the overall balance is spread over the newest charges
/// and older ones count as paid. Empty when nothing is owed.
pub fn debt<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<DebtLine> {
    let lines = by_period_and_service(entries);
    let mut owed: Money = lines.iter().map(|l| l.amount).sum();
    if owed <= Money::ZERO {
        return Vec::new();
    }
    // why: allocate the outstanding total to the most recent positive lines, since payments
    // settle the oldest debt first.
    let mut out = Vec::new();
    for line in lines.iter().rev() {
        if owed <= Money::ZERO {
            break;
        }
        if line.amount <= Money::ZERO {
            continue;
        }
        let take = line.amount.min(owed);
        owed = owed - take;
        out.push(DebtLine {
            period: line.period,
            service: line.service.clone(),
            amount: take,
        });
    }
    out.reverse();
    out
}

/// How a connected service is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// Per registered person by a norm (no meter): the tariff is per person per month.
    PerPerson,
    /// Per square metre of total area: the tariff is per m² per month.
    PerArea,
    /// Per square metre of heated area (heating without a building meter).
    PerHeatedArea,
    /// By the dwelling's own meter: the tariff is per unit (m³, kWh) of consumption.
    PerMeter,
    /// By the building's heat meter, allocated by heated area (the heat allocation procedure).
    BuildingHeatMeter,
}

impl Basis {
    pub const ALL: [Basis; 5] = [
        Basis::PerPerson,
        Basis::PerArea,
        Basis::PerHeatedArea,
        Basis::PerMeter,
        Basis::BuildingHeatMeter,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Basis::PerPerson => "per_person",
            Basis::PerArea => "per_area",
            Basis::PerHeatedArea => "per_heated_area",
            Basis::PerMeter => "per_meter",
            Basis::BuildingHeatMeter => "building_heat_meter",
        }
    }

    pub fn parse(s: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.code() == s)
    }

    /// Charged by a norm, without a meter: what temporary absence may reduce.
    pub fn is_norm(self) -> bool {
        self == Basis::PerPerson
    }
}

/// A tariff in kopiykas per unit of its basis, valid over a range of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    pub service: String,
    /// Per unit of the basis: a person-month, m², m³ or kWh.
    pub price: Money,
    /// The norm per person a month, in thousandths of the unit (1000 when the price is per person).
    pub norm_milli: i64,
    pub valid_from: NaiveDate,
    /// Last day of validity; `None`: open-ended.
    pub valid_to: Option<NaiveDate>,
}

impl Tariff {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// The tariff of `service` in force on the first day of `month` (the latest one starting by then).
pub fn tariff_for<'a>(
    tariffs: &'a [Tariff],
    service: &str,
    month: YearMonth,
) -> Option<&'a Tariff> {
    let day = month.first_day();
    tariffs
        .iter()
        .filter(|t| t.service == service && t.covers(day))
        .max_by_key(|t| t.valid_from)
}

/// The facts of an account a monthly charge depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChargeBase {
    pub residents: u32,
    /// Square centimetres (1 m² = 10 000).
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
    /// The month's metered consumption in thousandths of a unit (m³ or kWh).
    pub consumption_milli: i64,
}

/// The monthly charge of one service; `None` for a building heat meter, which is allocated by its
/// own procedure from the meter's reading, not by the charge run.
pub fn monthly_charge(basis: Basis, tariff: &Tariff, base: &ChargeBase) -> Option<Money> {
    let p = tariff.price.to_decimal();
    let value = match basis {
        Basis::PerPerson => p * Decimal::new(tariff.norm_milli, 3) * Decimal::from(base.residents),
        Basis::PerArea => p * Decimal::new(base.total_area_cm2, 4),
        Basis::PerHeatedArea => p * Decimal::new(base.heated_area_cm2, 4),
        Basis::PerMeter => p * Decimal::new(base.consumption_milli, 3),
        Basis::BuildingHeatMeter => return None,
    };
    Money::from_decimal_half_up(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ym(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    fn e(period: &str, service: &str, kind: EntryKind, kop: i64) -> Entry {
        Entry {
            period: ym(period),
            service: service.into(),
            kind,
            amount: Money::from_kopiykas(kop),
        }
    }

    #[test]
    fn debt_goes_to_the_newest_charges() {
        let entries = [
            e("2026-01", "gas", EntryKind::Charge, 10_000),
            e("2026-02", "gas", EntryKind::Charge, 12_000),
            e("2026-02", "waste", EntryKind::Charge, 3_000),
            e("2026-02", "", EntryKind::Payment, -15_000),
        ];
        assert_eq!(balance(&entries), Money::from_kopiykas(10_000));
        let d = debt(&entries);
        assert_eq!(
            d.iter().map(|l| l.amount).sum::<Money>(),
            Money::from_kopiykas(10_000)
        );
        assert_eq!(d.last().unwrap().service, "waste");
        assert_eq!(d.last().unwrap().amount, Money::from_kopiykas(3_000));
        assert_eq!(d[0].amount, Money::from_kopiykas(7_000));
    }

    #[test]
    fn no_debt_when_paid_in_advance() {
        let entries = [
            e("2026-01", "gas", EntryKind::Charge, 10_000),
            e("2026-01", "", EntryKind::Payment, -12_000),
        ];
        assert!(debt(&entries).is_empty());
        assert_eq!(balance(&entries), Money::from_kopiykas(-2_000));
    }

    #[test]
    fn charge_per_basis() {
        let base = ChargeBase {
            residents: 3,
            total_area_cm2: 543_000,
            heated_area_cm2: 481_000,
            consumption_milli: 4_250,
        };
        let p = Tariff {
            service: "x".into(),
            price: Money::from_kopiykas(3_333),
            norm_milli: 1_000,
            valid_from: NaiveDate::MIN,
            valid_to: None,
        };
        assert_eq!(
            monthly_charge(Basis::PerPerson, &p, &base),
            Some(Money::from_kopiykas(9_999))
        );
        // 33.33 × 54.30 = 1809.819 → 1809.82
        assert_eq!(
            monthly_charge(Basis::PerArea, &p, &base),
            Some(Money::from_kopiykas(180_982))
        );
        // 33.33 × 48.10 = 1603.173 → 1603.17
        assert_eq!(
            monthly_charge(Basis::PerHeatedArea, &p, &base),
            Some(Money::from_kopiykas(160_317))
        );
        // 33.33 × 4.25 = 141.6525 → 141.65
        assert_eq!(
            monthly_charge(Basis::PerMeter, &p, &base),
            Some(Money::from_kopiykas(14_165))
        );
        assert_eq!(monthly_charge(Basis::BuildingHeatMeter, &p, &base), None);
        // A norm of 3.5 m³ a person at 30.70 per m³ for 3 persons: 322.35.
        let water = Tariff {
            price: Money::from_kopiykas(3_070),
            norm_milli: 3_500,
            ..p
        };
        assert_eq!(
            monthly_charge(Basis::PerPerson, &water, &base),
            Some(Money::from_kopiykas(32_235))
        );
    }

    #[test]
    fn tariff_in_force_is_the_latest_started() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let tariffs = vec![
            Tariff {
                service: "gas".into(),
                price: Money::from_kopiykas(100),
                norm_milli: 1000,
                valid_from: d("2025-01-01"),
                valid_to: Some(d("2026-02-28")),
            },
            Tariff {
                service: "gas".into(),
                price: Money::from_kopiykas(120),
                norm_milli: 1000,
                valid_from: d("2026-03-01"),
                valid_to: None,
            },
        ];
        assert_eq!(
            tariff_for(&tariffs, "gas", ym("2026-02"))
                .unwrap()
                .price
                .kopiykas(),
            100
        );
        assert_eq!(
            tariff_for(&tariffs, "gas", ym("2026-03"))
                .unwrap()
                .price
                .kopiykas(),
            120
        );
        assert!(tariff_for(&tariffs, "gas", ym("2024-12")).is_none());
        assert!(tariff_for(&tariffs, "waste", ym("2026-03")).is_none());
    }

    #[test]
    fn kinds_and_bases_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.code()), Some(k));
        }
        for b in Basis::ALL {
            assert_eq!(Basis::parse(b.code()), Some(b));
        }
    }

    fn arb_entry() -> impl Strategy<Value = Entry> {
        (
            1u32..=12,
            prop::sample::select(vec!["gas", "waste", "heating", ""]),
            prop::sample::select(EntryKind::ALL.to_vec()),
            -1_000_000i64..1_000_000,
        )
            .prop_map(|(m, s, kind, kop)| Entry {
                period: YearMonth::new(2026, m).unwrap(),
                service: s.into(),
                kind,
                amount: Money::from_kopiykas(kop),
            })
    }

    proptest! {
        /// After any sequence of entries the lines by period and service sum to the balance, and
        /// the debt is the positive balance (or nothing), never more than any line it draws on.
        #[test]
        fn ledger_sums_to_the_balance(entries in prop::collection::vec(arb_entry(), 0..60)) {
            let bal = balance(&entries);
            let lines = by_period_and_service(&entries);
            prop_assert_eq!(lines.iter().map(|l| l.amount).sum::<Money>(), bal);
            let d = debt(&entries);
            let owed: Money = d.iter().map(|l| l.amount).sum();
            if bal > Money::ZERO {
                let positive: Money = lines.iter().filter(|l| l.amount > Money::ZERO).map(|l| l.amount).sum();
                prop_assert_eq!(owed, bal.min(positive));
            } else {
                prop_assert!(d.is_empty());
            }
            for l in &d {
                prop_assert!(l.amount > Money::ZERO);
            }
        }
    }
}
