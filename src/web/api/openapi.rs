//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error: a stable code, a message in the user's language, and the fields at fault.
#[derive(Serialize, ToSchema)]
pub struct ErrorDto {
    /// `not_found`, `invalid`, `bad_request`, `conflict`, `unauthorized`, `forbidden`, …
    pub error: String,
    pub message: String,
    pub fields: Option<Vec<FieldErrorDto>>,
    /// With a 409 for a ticket or booking that already has its case: that case's id.
    pub case: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldErrorDto {
    pub field: String,
    pub message: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "cherga API", description = "Electronic queue and appointments for communal service centers. Errors answer `{\"error\", \"message\"}` in the language of `Accept-Language` (Ukrainian by default)."),
    paths(
        super::services::list,
        super::services::get,
        super::services::patch,
        super::services::import,
        super::session::create,
        super::session::delete,
        super::session::me,
        super::calculators::hot_water,
        super::calculators::absence,
        super::calculators::heat,
        super::rule_sets::list,
        super::rule_sets::get,
    ),
    components(schemas(ErrorDto, FieldErrorDto)),
    modifiers(&BearerAuth),
    tags((name = "catalog", description = "The service catalog"), (name = "staff", description = "Staff sign-in"), (name = "calculators", description = "Recalculation calculators for residents. Money and quantities are decimal strings; dates YYYY-MM-DD; local hours YYYY-MM-DDTHH:MM."))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::queue::QueueApi::openapi());
    doc.merge(super::case::CaseApi::openapi());
    doc.merge(super::staff::StaffApi::openapi());
    doc.merge(super::services::CatalogApi::openapi());
    doc.merge(super::categories::CategoriesApi::openapi());
    doc.merge(super::booking::BookingApi::openapi());
    Json(doc)
}
