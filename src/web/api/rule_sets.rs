//! `GET /api/v1/rule-sets`, `GET /api/v1/rule-sets/{id}`: the recalculation rule sets, with the
//! grounds of absence and each ground's document checklist (what to bring, what a clerk checks).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::lang::Text;
use crate::domain::rules::RuleSet;
use crate::domain::rules::grounds::Need;
use crate::domain::rules::jurisdiction::{Jurisdiction, LegalStatus};
use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDto {
    pub id: String,
    pub name: Text,
    /// `required`, `one_of` (at least one of the group), `if_needed` (never rejects by itself).
    pub need: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroundDto {
    /// `abroad`, `inpatient`, `study`, `military`, `imprisonment`, `employment`, `missing`,
    /// `deceased`, `idp`, `other`.
    pub ground: String,
    pub name: Text,
    /// Whether the ground's certificate expires after the rule set's validity period.
    pub certificate_expires: bool,
    pub documents: Vec<DocumentDto>,
}

/// Whose rules these are.
#[derive(Debug, Serialize, ToSchema)]
pub struct JurisdictionDto {
    /// ISO 3166 code: `UA`, `RU`.
    pub country: String,
    pub country_name: Text,
    /// The city whose act it is; null for a national act.
    pub city: Option<Text>,
    /// The document's stable id, as catalog services name it: `ua-kmu-630`.
    pub document_id: String,
    pub document: Text,
    pub in_force_from: chrono::NaiveDate,
    pub in_force_to: Option<chrono::NaiveDate>,
    /// `in_force`, `repealed`, or `foreign` (another country's law, for comparison only).
    pub status: String,
    /// The same in one line, as pages show it.
    pub summary: Text,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetDto {
    pub id: String,
    pub version: u32,
    pub title: Text,
    pub jurisdiction: JurisdictionDto,
    pub timezone: String,
    /// The calculators this rule set drives.
    pub calculators: Vec<String>,
    /// Days of absence needed: more than this many.
    pub absence_more_than_days: u32,
    /// Days a certificate stays valid, when it expires at all.
    pub certificate_valid_days: Option<u32>,
    pub grounds: Vec<GroundDto>,
}

fn need_code(n: Need) -> &'static str {
    match n {
        Need::Required => "required",
        Need::OneOf => "one_of",
        Need::IfNeeded => "if_needed",
    }
}

fn jurisdiction_dto(j: &Jurisdiction) -> JurisdictionDto {
    JurisdictionDto {
        country: j.country.clone(),
        country_name: j.country_name.clone(),
        city: j.city.clone(),
        document_id: j.document_id.clone(),
        document: j.document.clone(),
        in_force_from: j.in_force_from,
        in_force_to: j.in_force_to,
        status: match j.status {
            LegalStatus::InForce => "in_force",
            LegalStatus::Repealed => "repealed",
            LegalStatus::Foreign => "foreign",
        }
        .into(),
        summary: j.whose(),
    }
}

pub fn to_dto(r: &RuleSet) -> RuleSetDto {
    let docs = &r.absence.documents;
    let mut calculators = vec!["temporary-absence".to_string()];
    if r.hot_water.is_some() {
        calculators.push("hot-water-quality".into());
    }
    calculators.push("heat-allocation".into());
    RuleSetDto {
        id: r.id.clone(),
        version: r.version,
        title: r.title.clone(),
        jurisdiction: jurisdiction_dto(&r.jurisdiction),
        timezone: r.timezone.name().to_string(),
        calculators,
        absence_more_than_days: r.absence.eligible_more_than_days,
        certificate_valid_days: r.absence.certificate_valid_days,
        grounds: docs
            .grounds
            .iter()
            .map(|g| GroundDto {
                ground: g.ground.id().to_string(),
                name: g.ground.name(),
                certificate_expires: g.certificate_expires,
                documents: docs
                    .checklist(g.ground)
                    .into_iter()
                    .map(|item| DocumentDto {
                        id: item.document.id,
                        name: item.document.name,
                        need: need_code(item.need).to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Every rule set shipped with this installation.
#[utoipa::path(get, path = "/api/v1/rule-sets", tag = "calculators",
    responses((status = 200, body = [RuleSetDto])))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<RuleSetDto>> {
    Json(state.rules.iter().map(to_dto).collect())
}

/// One rule set with its grounds and document checklists.
#[utoipa::path(get, path = "/api/v1/rule-sets/{id}", tag = "calculators",
    params(("id" = String, Path, description = "`ua-zaporizhzhia-2023` or `ru-354`")),
    responses((status = 200, body = RuleSetDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<RuleSetDto>> {
    let r = state
        .rules
        .get(&id)
        .map_err(|e| AppError::NotFound(e.text()))?;
    Ok(Json(to_dto(r)))
}
