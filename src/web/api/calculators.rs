//! `POST /api/v1/calculators/{hot-water-quality, temporary-absence, heat-allocation}`: the
//! recalculation rules as residents' calculators. Bad input is 422 with every field at fault.

use axum::Json;
use axum::extract::State;

use super::ApiJson;
use crate::app::AppState;
use crate::domain::rules::requests::{
    AbsenceRequest, AbsenceResponse, HeatRequest, HeatResponse, HotWaterRequest, HotWaterResponse,
};
use crate::domain::rules::{calculate_absence, calculate_heat, calculate_hot_water};
use crate::error::{AppError, AppResult};

/// Reduction of the hot-water charge for poor quality (temperature, pressure, interruptions).
#[utoipa::path(post, path = "/api/v1/calculators/hot-water-quality", tag = "calculators",
    request_body = HotWaterRequest,
    responses((status = 200, body = HotWaterResponse), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn hot_water(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<HotWaterRequest>,
) -> AppResult<Json<HotWaterResponse>> {
    calculate_hot_water(&req, &state.rules)
        .map(Json)
        .map_err(AppError::invalid_fields)
}

/// Recalculation for the temporary absence of residents.
#[utoipa::path(post, path = "/api/v1/calculators/temporary-absence", tag = "calculators",
    request_body = AbsenceRequest,
    responses((status = 200, body = AbsenceResponse), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn absence(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AbsenceRequest>,
) -> AppResult<Json<AbsenceResponse>> {
    calculate_absence(&req, &state.rules)
        .map(Json)
        .map_err(AppError::invalid_fields)
}

/// Allocation of a building heat meter's reading to its premises.
#[utoipa::path(post, path = "/api/v1/calculators/heat-allocation", tag = "calculators",
    request_body = HeatRequest,
    responses((status = 200, body = HeatResponse), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn heat(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<HeatRequest>,
) -> AppResult<Json<HeatResponse>> {
    calculate_heat(&req, &state.rules)
        .map(Json)
        .map_err(AppError::invalid_fields)
}
