//! The procedure behind every catalog service, named in data by service code
//! (`data/procedures.toml`): which operations a case of that service may perform.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::account::{NewAccount, OwnerShare, Reading, Split};
use crate::domain::lang::Text;
use crate::domain::money::Money;
use crate::domain::rules::calendar::YearMonth;
use crate::domain::rules::grounds::Ground;
use crate::domain::rules::hot_water;
use crate::domain::rules::services::Service;

/// What a procedure mainly does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcedureKind {
    Operation,
    Document,
    Consultation,
}

/// One operation a case can perform, by the name used in the API's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    TemporaryAbsence,
    PaymentSearch,
    AttachPayment,
    InvoiceDuplicate,
    Debt,
    NoDebtCertificate,
    CertificateF2,
    BenefitUseCertificate,
    AreaChange,
    OwnerChange,
    MeterReading,
    MeterSealStop,
    SealedMeterFix,
    HotWaterQuality,
    HeatAllocation,
    Restructuring,
    QualityClaimAct,
    AccountOpening,
    AccountSplit,
    Consultation,
}

impl OperationKind {
    pub const ALL: [OperationKind; 20] = [
        OperationKind::TemporaryAbsence,
        OperationKind::PaymentSearch,
        OperationKind::AttachPayment,
        OperationKind::InvoiceDuplicate,
        OperationKind::Debt,
        OperationKind::NoDebtCertificate,
        OperationKind::CertificateF2,
        OperationKind::BenefitUseCertificate,
        OperationKind::AreaChange,
        OperationKind::OwnerChange,
        OperationKind::MeterReading,
        OperationKind::MeterSealStop,
        OperationKind::SealedMeterFix,
        OperationKind::HotWaterQuality,
        OperationKind::HeatAllocation,
        OperationKind::Restructuring,
        OperationKind::QualityClaimAct,
        OperationKind::AccountOpening,
        OperationKind::AccountSplit,
        OperationKind::Consultation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OperationKind::TemporaryAbsence => "temporary_absence",
            OperationKind::PaymentSearch => "payment_search",
            OperationKind::AttachPayment => "attach_payment",
            OperationKind::InvoiceDuplicate => "invoice_duplicate",
            OperationKind::Debt => "debt",
            OperationKind::NoDebtCertificate => "no_debt_certificate",
            OperationKind::CertificateF2 => "certificate_f2",
            OperationKind::BenefitUseCertificate => "benefit_use_certificate",
            OperationKind::AreaChange => "area_change",
            OperationKind::OwnerChange => "owner_change",
            OperationKind::MeterReading => "meter_reading",
            OperationKind::MeterSealStop => "meter_seal_stop",
            OperationKind::SealedMeterFix => "sealed_meter_fix",
            OperationKind::HotWaterQuality => "hot_water_quality",
            OperationKind::HeatAllocation => "heat_allocation",
            OperationKind::Restructuring => "restructuring",
            OperationKind::QualityClaimAct => "quality_claim_act",
            OperationKind::AccountOpening => "account_opening",
            OperationKind::AccountSplit => "account_split",
            OperationKind::Consultation => "consultation",
        }
    }

    pub fn parse(s: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn name(self) -> Text {
        match self {
            OperationKind::TemporaryAbsence => Text::new(
                "Перерахунок за тимчасової відсутності",
                "Temporary absence recalculation",
            ),
            OperationKind::PaymentSearch => Text::new("Пошук платежу", "Payment search"),
            OperationKind::AttachPayment => {
                Text::new("Зарахування знайденого платежу", "Attach a found payment")
            }
            OperationKind::InvoiceDuplicate => Text::new("Дублікат рахунку", "Invoice duplicate"),
            OperationKind::Debt => Text::new("Період і сума боргу", "Debt period and amount"),
            OperationKind::NoDebtCertificate => {
                Text::new("Довідка про відсутність боргу", "No-debt certificate")
            }
            OperationKind::CertificateF2 => Text::new(
                "Довідка Ф-2 (склад сім'ї та платежі)",
                "Certificate F-2 (family and payments)",
            ),
            OperationKind::BenefitUseCertificate => {
                Text::new("Довідка про використання пільги", "Benefit use certificate")
            }
            OperationKind::AreaChange => Text::new("Зміна площі", "Area change"),
            OperationKind::OwnerChange => Text::new("Зміна власника", "Owner change"),
            OperationKind::MeterReading => Text::new("Показники лічильника", "Meter reading"),
            OperationKind::MeterSealStop => Text::new(
                "Припинення нарахувань за нормою з дати пломбування",
                "Stop norm-based charges from the seal date",
            ),
            OperationKind::SealedMeterFix => Text::new(
                "Виправлення рахунку за опломбованим лічильником",
                "Sealed meter invoice correction",
            ),
            OperationKind::HotWaterQuality => Text::new(
                "Перерахунок за якість гарячої води",
                "Hot water quality recalculation",
            ),
            OperationKind::HeatAllocation => {
                Text::new("Розподіл тепла будинку", "Building heat allocation")
            }
            OperationKind::Restructuring => {
                Text::new("Реструктуризація боргу", "Debt restructuring")
            }
            OperationKind::QualityClaimAct => Text::new("Акт-претензія", "Quality claim act"),
            OperationKind::AccountOpening => {
                Text::new("Відкриття особового рахунку", "Account opening")
            }
            OperationKind::AccountSplit => Text::new("Поділ особового рахунку", "Account split"),
            OperationKind::Consultation => Text::new("Консультація", "Consultation"),
        }
    }
}

/// The facts a consultation shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Payments,
    Benefits,
    Debt,
    Charges,
    BuildingHeat,
    Meters,
    Adjustments,
    Subsidy,
    Tariffs,
    Owners,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Procedure {
    pub code: String,
    pub kind: ProcedureKind,
    pub operations: Vec<OperationKind>,
    pub topic: Topic,
    /// Documents to see, when the checklist is not in a rule set.
    #[serde(default)]
    pub checklist: Vec<String>,
}

impl Procedure {
    pub fn allows(&self, op: OperationKind) -> bool {
        self.operations.contains(&op)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Procedures {
    pub procedures: Vec<Procedure>,
}

impl Procedures {
    pub fn bundled() -> Result<Procedures, String> {
        Procedures::from_toml(include_str!("../../data/procedures.toml"))
    }

    pub fn from_toml(text: &str) -> Result<Procedures, String> {
        toml::from_str(text).map_err(|e| format!("procedures: {e}"))
    }

    pub fn get(&self, code: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.code == code)
    }
}

/// An operation with its parameters, parsed: what a case asks the store to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    TemporaryAbsence {
        rule_set: String,
        application_date: NaiveDate,
        from: NaiveDate,
        to: NaiveDate,
        ground: Ground,
        certificate_issued: Option<NaiveDate>,
        absent_persons: u32,
        documents: Vec<String>,
    },
    PaymentSearch {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        amount: Option<Money>,
        payer: Option<String>,
    },
    AttachPayment {
        payment_id: i32,
    },
    InvoiceDuplicate {
        month: YearMonth,
    },
    Debt,
    NoDebtCertificate,
    CertificateF2,
    BenefitUseCertificate,
    AreaChange {
        from: YearMonth,
        total_area_cm2: i64,
        heated_area_cm2: i64,
    },
    OwnerChange {
        owners: Vec<OwnerShare>,
    },
    MeterReading {
        serial: String,
        date: NaiveDate,
        value_milli: i64,
    },
    MeterSealStop {
        rule_set: String,
        service: Service,
        serial: String,
        seal_date: NaiveDate,
    },
    Restructuring {
        months: u32,
        first_due: NaiveDate,
    },
    QualityClaimAct {
        service: Service,
        from: NaiveDate,
        to: NaiveDate,
        description: String,
    },
    HeatAllocation {
        rule_set: String,
        month: YearMonth,
        heat_gcal: Decimal,
        tariff_per_gcal: Money,
    },
    /// Corrects the invoices of a meter sealed while the account was still charged by the norm:
    /// the seal month's credit (RULES.md §4) and every later month charged to the metered amount.
    SealedMeterFix {
        rule_set: String,
        service: Service,
        serial: String,
        /// Needed when the account has no such meter with a seal date yet (from the seal act).
        seal_date: Option<NaiveDate>,
        /// Readings the resident brings, the seal act's first; added to the meter's.
        readings: Vec<Reading>,
    },
    /// Reduces the month's hot-water charge for poor quality (RULES.md §2).
    HotWaterQuality {
        rule_set: String,
        month: YearMonth,
        readings: Vec<hot_water::Reading>,
        interruptions: Vec<hot_water::Interruption>,
        /// When the violation was registered and restored service registered (local time): only
        /// what lies between counts.
        registered_at: Option<NaiveDateTime>,
        restored_at: Option<NaiveDateTime>,
        /// Who signed the act.
        signatories: Vec<String>,
    },
    AccountOpening(NewAccount),
    AccountSplit(Split),
    Consultation,
}

impl Operation {
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::TemporaryAbsence { .. } => OperationKind::TemporaryAbsence,
            Operation::PaymentSearch { .. } => OperationKind::PaymentSearch,
            Operation::AttachPayment { .. } => OperationKind::AttachPayment,
            Operation::InvoiceDuplicate { .. } => OperationKind::InvoiceDuplicate,
            Operation::Debt => OperationKind::Debt,
            Operation::NoDebtCertificate => OperationKind::NoDebtCertificate,
            Operation::CertificateF2 => OperationKind::CertificateF2,
            Operation::BenefitUseCertificate => OperationKind::BenefitUseCertificate,
            Operation::AreaChange { .. } => OperationKind::AreaChange,
            Operation::OwnerChange { .. } => OperationKind::OwnerChange,
            Operation::MeterReading { .. } => OperationKind::MeterReading,
            Operation::MeterSealStop { .. } => OperationKind::MeterSealStop,
            Operation::Restructuring { .. } => OperationKind::Restructuring,
            Operation::QualityClaimAct { .. } => OperationKind::QualityClaimAct,
            Operation::HeatAllocation { .. } => OperationKind::HeatAllocation,
            Operation::SealedMeterFix { .. } => OperationKind::SealedMeterFix,
            Operation::HotWaterQuality { .. } => OperationKind::HotWaterQuality,
            Operation::AccountOpening(_) => OperationKind::AccountOpening,
            Operation::AccountSplit(_) => OperationKind::AccountSplit,
            Operation::Consultation => OperationKind::Consultation,
        }
    }
}

/// Splits `debt` into `months` instalments that sum to it exactly: equal parts, the kopiykas
/// left over from the division added one each to the first instalments.
pub fn instalments(debt: Money, months: u32) -> Vec<Money> {
    if months == 0 || debt <= Money::ZERO {
        return Vec::new();
    }
    let n = i64::from(months);
    let base = debt.kopiykas() / n;
    let rest = debt.kopiykas() % n;
    (0..n)
        .map(|i| Money::from_kopiykas(base + i64::from(i < rest)))
        .collect()
}

static BUNDLED: std::sync::LazyLock<Procedures> = std::sync::LazyLock::new(|| {
    // why: the file is compiled in and a unit test parses it, so the empty fallback is unreachable
    // in a tested build; it keeps a request path free of panics.
    Procedures::bundled().unwrap_or(Procedures {
        procedures: Vec::new(),
    })
});

/// The procedures compiled into the program, parsed once.
pub fn bundled() -> &'static Procedures {
    &BUNDLED
}

/// The name of a checklist document, by id.
pub fn document_name(id: &str) -> Text {
    match id {
        "application" => Text::new("Заява", "Application"),
        "passport" => Text::new("Паспорт", "Passport"),
        "ownership_document" => Text::new("Документ про право власності", "Ownership document"),
        "co_owners_consent" => Text::new("Згода співвласників", "Co-owners' consent"),
        "technical_passport" => Text::new("Технічний паспорт", "Technical passport"),
        "benefit_document" => Text::new("Посвідчення пільговика", "Benefit document"),
        "court_order" => Text::new("Рішення суду", "Court order"),
        "seal_act" => Text::new("Акт пломбування", "Seal act"),
        "claim" => Text::new("Претензія", "Claim"),
        other => Text::new(other, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::parse_catalog;

    #[test]
    fn every_catalog_service_has_its_procedure() {
        let catalog = parse_catalog(include_str!("../../data/catalog.toml")).unwrap();
        let procedures = Procedures::bundled().unwrap();
        assert_eq!(catalog.services.len(), 34);
        for s in &catalog.services {
            let p = procedures
                .get(&s.code)
                .unwrap_or_else(|| panic!("no procedure for {}", s.code));
            assert!(!p.operations.is_empty(), "{}", s.code);
        }
        assert_eq!(procedures.procedures.len(), catalog.services.len());
    }

    #[test]
    fn instalments_sum_exactly_to_the_debt() {
        let parts = instalments(Money::from_kopiykas(100_001), 3);
        assert_eq!(
            parts.iter().map(|m| m.kopiykas()).collect::<Vec<_>>(),
            vec![33_334, 33_334, 33_333]
        );
        assert!(instalments(Money::ZERO, 3).is_empty());
        assert!(instalments(Money::from_kopiykas(5), 0).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn instalments_always_sum(kop in 1i64..10_000_000_000, months in 1u32..120) {
            let parts = instalments(Money::from_kopiykas(kop), months);
            proptest::prop_assert_eq!(parts.len(), months as usize);
            proptest::prop_assert_eq!(parts.iter().copied().sum::<Money>(), Money::from_kopiykas(kop));
            let max = parts.iter().max().unwrap().kopiykas();
            let min = parts.iter().min().unwrap().kopiykas();
            proptest::prop_assert!(max - min <= 1);
        }
    }

    #[test]
    fn operation_codes_round_trip() {
        for k in OperationKind::ALL {
            assert_eq!(OperationKind::parse(k.code()), Some(k));
        }
    }
}
