//! The services a charge can be for, by the identifiers used in data and in the API.

use serde::{Deserialize, Serialize};

use crate::domain::lang::Text;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    ColdWater,
    HotWater,
    Sewerage,
    Gas,
    Electricity,
    Waste,
    Heating,
    Maintenance,
    CommonHouseNeeds,
}

impl Service {
    pub const ALL: [Service; 9] = [
        Service::ColdWater,
        Service::HotWater,
        Service::Sewerage,
        Service::Gas,
        Service::Electricity,
        Service::Waste,
        Service::Heating,
        Service::Maintenance,
        Service::CommonHouseNeeds,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Service::ColdWater => "cold_water",
            Service::HotWater => "hot_water",
            Service::Sewerage => "sewerage",
            Service::Gas => "gas",
            Service::Electricity => "electricity",
            Service::Waste => "waste",
            Service::Heating => "heating",
            Service::Maintenance => "maintenance",
            Service::CommonHouseNeeds => "common_house_needs",
        }
    }

    pub fn parse(id: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.id() == id.trim())
    }

    pub fn name(self) -> Text {
        let (uk, en) = match self {
            Service::ColdWater => ("холодна вода", "cold water"),
            Service::HotWater => ("гаряча вода", "hot water"),
            Service::Sewerage => ("водовідведення", "sewerage"),
            Service::Gas => ("газ", "gas"),
            Service::Electricity => ("електроенергія", "electricity"),
            Service::Waste => ("вивезення побутових відходів", "waste removal"),
            Service::Heating => ("опалення", "heating"),
            Service::Maintenance => ("утримання будинку", "building maintenance"),
            Service::CommonHouseNeeds => ("загальнобудинкові потреби", "common-house needs"),
        };
        Text::new(uk, en)
    }

    pub fn ids() -> String {
        Service::ALL.map(Service::id).join(", ")
    }
}
