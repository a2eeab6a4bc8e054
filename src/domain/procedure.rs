//! The procedure behind every catalog service, named in data by service code
//! (`data/procedures.toml`): which operations a case of that service may perform.

use serde::Deserialize;

use crate::domain::lang::Text;

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
            OperationKind::TemporaryAbsence => {
                Text::new("Перерахунок за тимчасової відсутності", "Temporary absence recalculation")
            }
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
            OperationKind::HotWaterQuality => {
                Text::new("Перерахунок за якість гарячої води", "Hot water quality recalculation")
            }
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
    fn operation_codes_round_trip() {
        for k in OperationKind::ALL {
            assert_eq!(OperationKind::parse(k.code()), Some(k));
        }
    }
}
