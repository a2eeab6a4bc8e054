//! The case module's API: personal accounts with their ledger and debt, cases and the operations
//! they perform, and the monthly charge run. Staff bearer token; money as decimal strings.

use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ApiJson;
use crate::app::AppState;
use crate::domain::account::{self, NewAccount, NewMeter, OwnerShare, Reading, Split};
use crate::domain::lang::{Lang, Text};
use crate::domain::ledger::Basis;
use crate::domain::money::Money;
use crate::domain::procedure::{self, Operation, OperationKind};
use crate::domain::rules::calendar::YearMonth;
use crate::domain::rules::grounds::Ground;
use crate::domain::rules::hot_water::{self, InterruptionKind};
use crate::domain::rules::numbers::{NumberInput, parse_quantity};
use crate::domain::rules::services::Service;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::case::{self as store, Outcome};
use crate::web::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(list_accounts))
        .route("/api/v1/accounts/{number}", get(get_account))
        .route("/api/v1/accounts/{number}/ledger", get(ledger))
        .route("/api/v1/cases", post(open_case).get(list_cases))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/account", post(attach_account))
        .route("/api/v1/cases/{id}/operations", post(operate))
        .route("/api/v1/cases/{id}/close", post(close_case))
        .route("/api/v1/charge-runs", post(charge_run))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_accounts, get_account, ledger, open_case, list_cases, get_case, attach_account, operate, close_case, charge_run),
    components(schemas(
        AccountSummaryDto, AccountDto, DebtDto, EntryDto, OpenCaseDto, CaseDto, AuditDto, VisitDto, AttachAccountDto,
        OperationDto, OperationResultDto, DocumentRefDto, CloseDto, ChargeRunDto, ChargeRunResultDto,
        OwnerDto, TemporaryAbsenceParams, AbsenceParams, PaymentSearchParams, AttachPaymentParams,
        MonthParams, AreaChangeParams, OwnerChangeParams, MeterReadingParams, MeterSealStopParams,
        RestructuringParams, QualityClaimActParams, HeatAllocationParams, SealedMeterFixParams,
        DatedReadingParams, HotWaterQualityParams, QualityReadingParams, InterruptionParams,
        AccountOpeningParams, ServiceBasisParams, NewMeterParams, AccountSplitParams
    )),
    modifiers(&OperationSchemas),
    tags((name = "cases", description = "Personal accounts, the ledger, cases and their operations (staff). Money is a decimal string (\"14.26\"); dates YYYY-MM-DD; months YYYY-MM."))
)]
pub struct CaseApi;

/// The schema of each operation kind's `params` (`None`: the operation takes none), as
/// [`parse_operation`] reads them.
pub fn params_schema(kind: OperationKind) -> Option<&'static str> {
    match kind {
        OperationKind::TemporaryAbsence => Some("TemporaryAbsenceParams"),
        OperationKind::PaymentSearch => Some("PaymentSearchParams"),
        OperationKind::AttachPayment => Some("AttachPaymentParams"),
        OperationKind::InvoiceDuplicate => Some("MonthParams"),
        OperationKind::AreaChange => Some("AreaChangeParams"),
        OperationKind::OwnerChange => Some("OwnerChangeParams"),
        OperationKind::MeterReading => Some("MeterReadingParams"),
        OperationKind::MeterSealStop => Some("MeterSealStopParams"),
        OperationKind::Restructuring => Some("RestructuringParams"),
        OperationKind::QualityClaimAct => Some("QualityClaimActParams"),
        OperationKind::HeatAllocation => Some("HeatAllocationParams"),
        OperationKind::SealedMeterFix => Some("SealedMeterFixParams"),
        OperationKind::HotWaterQuality => Some("HotWaterQualityParams"),
        OperationKind::AccountOpening => Some("AccountOpeningParams"),
        OperationKind::AccountSplit => Some("AccountSplitParams"),
        OperationKind::Debt
        | OperationKind::NoDebtCertificate
        | OperationKind::CertificateF2
        | OperationKind::BenefitUseCertificate
        | OperationKind::Consultation => None,
    }
}

/// Documents the operations' request body kind by kind: a schema per kind (`kind` fixed to its
/// code, `params` its procedure's parameters, `documents`), and `OperationRequest`, one of them
/// by `kind`, as the body of `POST /api/v1/cases/{id}/operations`.
///
/// why: `OperationDto` takes `params` as free JSON (the kind decides its shape), which a derived
/// schema can only call an object; this says which shape goes with which kind.
struct OperationSchemas;

impl utoipa::Modify for OperationSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{
            ArrayBuilder, Discriminator, ObjectBuilder, OneOfBuilder, Type,
        };
        use utoipa::openapi::{Ref, RefOr, Schema};
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut one_of = OneOfBuilder::new().description(Some(
            "An operation of the case's procedure, by `kind`; `params` as that kind's schema.",
        ));
        let mut mapping = Vec::new();
        for k in OperationKind::ALL {
            let name = format!(
                "{}Operation",
                k.code()
                    .split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect::<String>())
                            .unwrap_or_default()
                    })
                    .collect::<String>()
            );
            let params: RefOr<Schema> = match params_schema(k) {
                Some(p) => Ref::from_schema_name(p).into(),
                None => ObjectBuilder::new()
                    .description(Some("No parameters: `{}` or left out."))
                    .into(),
            };
            let mut schema = ObjectBuilder::new()
                .description(Some(format!("`{}`: {}.", k.code(), k.name().en)))
                .property(
                    "kind",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([k.code()])),
                )
                .required("kind")
                .property("params", params)
                .property(
                    "documents",
                    ArrayBuilder::new()
                        .items(ObjectBuilder::new().schema_type(Type::String))
                        .description(Some(
                            "Ids of the checklist documents seen, recorded with the operation.",
                        )),
                );
            if params_schema(k).is_some() {
                schema = schema.required("params");
            }
            components.schemas.insert(name.clone(), schema.into());
            one_of = one_of.item(Ref::from_schema_name(name.as_str()));
            mapping.push((k.code(), format!("#/components/schemas/{name}")));
        }
        let one_of = one_of.discriminator(Some(Discriminator::with_mapping("kind", mapping)));
        components
            .schemas
            .insert("OperationRequest".into(), one_of.into());
        if let Some(item) = openapi.paths.paths.get_mut("/api/v1/cases/{id}/operations")
            && let Some(op) = item.post.as_mut()
            && let Some(body) = op.request_body.as_mut()
        {
            for content in body.content.values_mut() {
                content.schema = Some(Ref::from_schema_name("OperationRequest").into());
            }
        }
    }
}

fn desk(staff: &Staff) -> AppResult<()> {
    if staff.user.role.is_staff_desk() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn area_text(cm2: i64) -> String {
    Money::from_kopiykas(cm2 / 100).to_string()
}

// ---- accounts ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountQuery {
    /// Number or its beginning.
    pub number: Option<String>,
    /// Part of the address.
    pub address: Option<String>,
    /// Part of the owner's name.
    pub owner: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummaryDto {
    pub number: String,
    pub owner: String,
    pub address: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OwnerDto {
    pub name: String,
    /// A fraction, e.g. "1/2".
    pub share: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DebtDto {
    pub period: String,
    pub service: String,
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDto {
    pub number: String,
    pub owner: String,
    pub address: String,
    pub building: Option<String>,
    /// m², "54.30".
    pub total_area: String,
    pub heated_area: String,
    pub registered_residents: i32,
    pub owners: Vec<OwnerDto>,
    #[schema(value_type = Object)]
    pub benefits: serde_json::Value,
    #[schema(value_type = Object)]
    pub subsidies: serde_json::Value,
    #[schema(value_type = Object)]
    pub services: serde_json::Value,
    #[schema(value_type = Object)]
    pub meters: serde_json::Value,
    /// What the account owes (negative: paid ahead).
    pub balance: String,
    pub debt: Vec<DebtDto>,
}

fn debt_dto(d: &store::DebtRecord) -> DebtDto {
    DebtDto {
        period: d.period.clone(),
        service: d.service.clone(),
        amount: d.amount.to_string(),
    }
}

/// Finds accounts by number, address or owner.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "cases", params(AccountQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [AccountSummaryDto]), (status = 401, body = crate::web::api::openapi::ErrorDto)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AccountQuery>,
) -> AppResult<Json<Vec<AccountSummaryDto>>> {
    desk(&staff)?;
    let found = store::find_accounts(
        &state.db,
        q.number.as_deref(),
        q.address.as_deref(),
        q.owner.as_deref(),
    )
    .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|a| AccountSummaryDto {
                number: a.number,
                owner: a.owner_name,
                address: a.address,
            })
            .collect(),
    ))
}

/// One account with its facts, balance and debt by period and service.
#[utoipa::path(get, path = "/api/v1/accounts/{number}", tag = "cases",
    security(("bearer" = [])),
    responses((status = 200, body = AccountDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn get_account(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> AppResult<Json<AccountDto>> {
    desk(&staff)?;
    let a = store::find_account(&state.db, &number)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(AccountDto {
        number: a.number,
        owner: a.owner_name,
        address: a.address,
        building: a.building,
        total_area: area_text(a.total_area_cm2),
        heated_area: area_text(a.heated_area_cm2),
        registered_residents: a.registered_residents,
        owners: a
            .owners
            .iter()
            .map(|o| OwnerDto {
                name: o.name.clone(),
                share: format!("{}/{}", o.share_num, o.share_den),
            })
            .collect(),
        benefits: serde_json::to_value(&a.benefits).unwrap_or_default(),
        subsidies: serde_json::to_value(&a.subsidies).unwrap_or_default(),
        services: serde_json::to_value(&a.services).unwrap_or_default(),
        meters: serde_json::to_value(&a.meters).unwrap_or_default(),
        balance: a.balance.to_string(),
        debt: a.debt.iter().map(debt_dto).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LedgerQuery {
    /// First period, YYYY-MM.
    pub from: Option<String>,
    /// Last period, YYYY-MM.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryDto {
    pub id: i32,
    pub period: String,
    /// Service id (`cold_water`, …); empty for a payment or subsidy of the whole invoice.
    pub service: String,
    /// `charge`, `payment`, `benefit`, `subsidy`, `adjustment`, `correction`.
    pub kind: String,
    /// Positive: owed; negative: paid or credited.
    pub amount: String,
    /// The case that made it.
    pub case: Option<i32>,
    pub rule_set: Option<String>,
    pub rule_set_version: Option<i32>,
    pub explanation: Option<String>,
    pub payer: Option<String>,
    pub paid_on: Option<NaiveDate>,
}

fn entry_dto(e: &store::EntryRecord, lang: Lang) -> EntryDto {
    EntryDto {
        id: e.id,
        period: e.period.clone(),
        service: e.service.clone(),
        kind: e.kind.clone(),
        amount: e.amount.to_string(),
        case: e.case_id,
        rule_set: e.rule_set.clone(),
        rule_set_version: e.rule_set_version,
        explanation: e.explanation.as_ref().map(|t| t.get(lang).to_string()),
        payer: e.payer.clone(),
        paid_on: e.paid_on,
    }
}

fn month_param(field: &str, value: Option<&str>) -> AppResult<Option<YearMonth>> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => YearMonth::parse(s)
            .map(Some)
            .map_err(|t| AppError::invalid_fields(vec![FieldError::new(field, t)])),
    }
}

/// The account's ledger entries, oldest first.
#[utoipa::path(get, path = "/api/v1/accounts/{number}/ledger", tag = "cases", params(LedgerQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [EntryDto]), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn ledger(
    State(state): State<AppState>,
    staff: Staff,
    lang: Lang,
    Path(number): Path<String>,
    Query(q): Query<LedgerQuery>,
) -> AppResult<Json<Vec<EntryDto>>> {
    desk(&staff)?;
    let from = month_param("from", q.from.as_deref())?;
    let to = month_param("to", q.to.as_deref())?;
    let entries = store::list_entries(&state.db, &number, from, to)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(entries.iter().map(|e| entry_dto(e, lang)).collect()))
}

// ---- cases ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenCaseDto {
    /// Account number. May be left out with `ticket` or `booking`: the booking's account is
    /// taken when it names one, else the case waits for `POST /api/v1/cases/{id}/account`.
    #[serde(default)]
    pub account: String,
    /// Catalog service code; by default the ticket's or booking's service.
    #[serde(default)]
    pub service: String,
    /// The ticket being served: the caller's own called or in-service ticket (a supervisor's
    /// any). One case per ticket: a second one is 409.
    pub ticket: Option<i32>,
    pub booking: Option<i32>,
    /// At most 2000 characters.
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachAccountDto {
    /// Account number.
    pub account: String,
}

/// The visit behind a case, read through its ticket and booking.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitDto {
    /// "A-017".
    pub ticket_number: Option<String>,
    pub ticket_status: Option<String>,
    pub window: Option<String>,
    pub specialist: Option<String>,
    pub called_at: Option<chrono::DateTime<chrono::Utc>>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The desk's outcome: `served`, `referred`, `declined`.
    pub ticket_outcome: Option<String>,
    pub booking_code: Option<String>,
    /// The account number given with the booking.
    pub booking_account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    pub staff_id: i32,
    pub action: String,
    pub detail: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDto {
    pub id: i32,
    /// Null until an account is attached; operations are refused until then.
    pub account: Option<String>,
    pub service: String,
    pub staff_id: i32,
    pub ticket: Option<i32>,
    pub booking: Option<i32>,
    /// `open` or `closed`.
    pub status: String,
    /// `done`, `refused`, `referred`.
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub documents_seen: Vec<String>,
    pub notes: String,
    /// The operations this service's procedure allows.
    pub operations: Vec<String>,
    /// Ids of the documents an operation of this service needs seen (`documents` of an
    /// operation); those in `documents_seen` are already recorded.
    pub checklist: Vec<String>,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub audit: Vec<AuditDto>,
    pub visit: Option<VisitDto>,
}

fn case_dto(c: store::CaseRecord) -> CaseDto {
    let p = procedure::bundled().get(&c.service_code);
    let operations = p
        .map(|p| p.operations.iter().map(|o| o.code().to_string()).collect())
        .unwrap_or_default();
    let checklist = p.map(|p| p.checklist.clone()).unwrap_or_default();
    CaseDto {
        id: c.id,
        account: c.account_id.map(|_| c.account_number),
        visit: c.visit.map(|v| VisitDto {
            ticket_number: v.ticket_number,
            ticket_status: v.ticket_status,
            window: v.window,
            specialist: v.specialist,
            called_at: v.called_at,
            started_at: v.started_at,
            finished_at: v.finished_at,
            ticket_outcome: v.ticket_outcome,
            booking_code: v.booking_code,
            booking_account: v.booking_account,
        }),
        service: c.service_code,
        staff_id: c.staff_id,
        ticket: c.ticket_id,
        booking: c.booking_id,
        status: c.status,
        outcome: c.outcome,
        outcome_reason: c.outcome_reason,
        documents_seen: c.documents_seen,
        notes: c.notes,
        operations,
        checklist,
        opened_at: c.opened_at,
        closed_at: c.closed_at,
        audit: c
            .audit
            .into_iter()
            .map(|a| AuditDto {
                staff_id: a.staff_id,
                action: a.action,
                detail: a.detail,
                at: a.at,
            })
            .collect(),
    }
}

/// Opens a case for an account and a catalog service, directly or from a ticket or booking.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = OpenCaseDto,
    security(("bearer" = [])),
    responses((status = 201, body = CaseDto), (status = 401, body = crate::web::api::openapi::ErrorDto), (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn open_case(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<OpenCaseDto>,
) -> AppResult<(StatusCode, Json<CaseDto>)> {
    desk(&staff)?;
    let c = store::open_case(
        &state.db,
        procedure::bundled(),
        &staff.user,
        store::OpenCase {
            account: &req.account,
            service: &req.service,
            ticket: req.ticket,
            booking: req.booking,
            notes: &req.notes,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(case_dto(c))))
}

/// Attaches the account to a case opened without one (a walk-in visit).
#[utoipa::path(post, path = "/api/v1/cases/{id}/account", tag = "cases", request_body = AttachAccountDto,
    security(("bearer" = [])),
    responses((status = 200, body = CaseDto), (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn attach_account(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    ApiJson(req): ApiJson<AttachAccountDto>,
) -> AppResult<Json<CaseDto>> {
    desk(&staff)?;
    let c = store::attach_account(&state.db, &staff.user, id, &req.account).await?;
    Ok(Json(case_dto(c)))
}

/// The cases the caller may see: a specialist's own, or all for a supervisor.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [CaseDto])))]
pub async fn list_cases(
    State(state): State<AppState>,
    staff: Staff,
) -> AppResult<Json<Vec<CaseDto>>> {
    desk(&staff)?;
    let list = store::list_cases(&state.db, &staff.user).await?;
    Ok(Json(list.into_iter().map(case_dto).collect()))
}

/// A case with its audit trail.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = CaseDto), (status = 403, body = crate::web::api::openapi::ErrorDto), (status = 404, body = crate::web::api::openapi::ErrorDto)))]
pub async fn get_case(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Json<CaseDto>> {
    desk(&staff)?;
    let c = store::find_case(&state.db, &staff.user, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(case_dto(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseDto {
    /// `done`, `refused` or `referred`.
    pub outcome: String,
    /// Required when refused or referred; at most 500 characters.
    pub reason: Option<String>,
}

/// The longest reason of a refusal or referral.
pub const MAX_REASON: usize = 500;
/// The longest owner's name.
pub const MAX_OWNER_NAME: usize = 200;

/// Closes a case with its outcome.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", tag = "cases", request_body = CloseDto,
    security(("bearer" = [])),
    responses((status = 200, body = CaseDto), (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn close_case(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    ApiJson(req): ApiJson<CloseDto>,
) -> AppResult<Json<CaseDto>> {
    desk(&staff)?;
    let outcome = parse_outcome(&req.outcome, req.reason.as_deref())?;
    let c = store::close_case(&state.db, &staff.user, id, outcome).await?;
    Ok(Json(case_dto(c)))
}

pub fn parse_outcome(outcome: &str, reason: Option<&str>) -> AppResult<Outcome> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(AppError::invalid_fields(vec![FieldError::new(
            "reason",
            Text::new(
                format!("Причина — не довше {MAX_REASON} символів."),
                format!("The reason may be at most {MAX_REASON} characters."),
            ),
        )]));
    }
    let need_reason = || {
        AppError::invalid_fields(vec![FieldError::new(
            "reason",
            Text::new(
                "Вкажіть причину відмови чи переадресації.",
                "Give the reason for the refusal or referral.",
            ),
        )])
    };
    match outcome.trim() {
        "done" => Ok(Outcome::Done),
        "refused" => Ok(Outcome::Refused(
            reason.ok_or_else(need_reason)?.to_string(),
        )),
        "referred" => Ok(Outcome::Referred(
            reason.ok_or_else(need_reason)?.to_string(),
        )),
        other => Err(AppError::invalid_fields(vec![FieldError::new(
            "outcome",
            Text::new(
                format!("«{other}» — не результат; можливі: done, refused, referred."),
                format!("\"{other}\" is not an outcome; use done, refused or referred."),
            ),
        )])),
    }
}

// ---- operations ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct OperationDto {
    /// The operation: `temporary_absence`, `payment_search`, `attach_payment`,
    /// `invoice_duplicate`, `debt`, `no_debt_certificate`, `certificate_f2`,
    /// `benefit_use_certificate`, `area_change`, `owner_change`, `meter_reading`,
    /// `meter_seal_stop`, `sealed_meter_fix`, `hot_water_quality`, `restructuring`,
    /// `quality_claim_act`, `heat_allocation`, `account_opening`, `account_split`, `consultation`.
    /// The case's service must allow it (`operations` of the case).
    pub kind: String,
    /// The operation's parameters: see the `…Params` schemas.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// Ids of the documents seen, recorded on the case with the operation. Every document of the
    /// service's checklist must be seen (now or by an earlier operation), else 422 `documents`.
    #[serde(default)]
    pub documents: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AbsenceParams {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `abroad`, `inpatient`, `study`, `military`, `imprisonment`, `employment`, `missing`,
    /// `deceased`, `idp`, `other`.
    pub ground: String,
}

/// `temporary_absence`: reduces the account's own norm-based charges of the absent months.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemporaryAbsenceParams {
    pub rule_set: String,
    pub application_date: NaiveDate,
    pub absence: AbsenceParams,
    pub certificate_issued: Option<NaiveDate>,
    pub absent_persons: u32,
    /// Ids of the documents seen (`GET /api/v1/rule-sets/{id}` lists them per ground).
    #[serde(default)]
    pub documents: Vec<String>,
}

/// `payment_search`: payments by date range, amount and payer, on any account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentSearchParams {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub amount: Option<String>,
    pub payer: Option<String>,
}

/// `attach_payment`: moves a found payment to this case's account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachPaymentParams {
    pub payment_id: i32,
}

/// `invoice_duplicate`: the month's invoice.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MonthParams {
    /// YYYY-MM.
    pub month: String,
}

/// `area_change`: new areas from a month, with adjustments of the area-based charges since.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AreaChangeParams {
    /// YYYY-MM.
    pub from: String,
    /// m², "54.30".
    pub total_area: String,
    pub heated_area: String,
}

/// `owner_change`: the new owners; shares add up to one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OwnerChangeParams {
    pub owners: Vec<OwnerDto>,
}

/// `meter_reading`: a reading of one of the account's meters.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeterReadingParams {
    pub serial: String,
    pub date: NaiveDate,
    /// "123.456" (m³ or kWh).
    pub value: String,
}

/// `meter_seal_stop`: stops the norm-based charge from the seal date (credit for the rest of the month).
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeterSealStopParams {
    pub rule_set: String,
    /// `gas`, `electricity`, `cold_water`, `hot_water`.
    pub service: String,
    pub serial: String,
    pub seal_date: NaiveDate,
}

/// `restructuring`: an agreement paying the whole debt in monthly instalments.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestructuringParams {
    pub months: u32,
    pub first_due: NaiveDate,
}

/// `quality_claim_act`: an act recording a quality claim.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QualityClaimActParams {
    pub service: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub description: String,
}

/// `heat_allocation`: the building meter's heat for a month, one charge per premises.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HeatAllocationParams {
    pub rule_set: String,
    pub month: String,
    /// Gcal, "12.5".
    pub heat_gcal: String,
    pub tariff_per_gcal: String,
}

/// A meter reading on a day.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DatedReadingParams {
    pub date: NaiveDate,
    /// "123.456" (m³ or kWh).
    pub value: String,
}

/// `sealed_meter_fix`: corrects the invoices of a meter sealed while the account was still charged
/// by the norm: the seal month's credit from the seal day (RULES.md §4) plus the metered consumption
/// after it, and every later month's norm charge to the metered amount. One correction per month
/// and service; the service is charged by the meter from then on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SealedMeterFixParams {
    pub rule_set: String,
    /// `gas`, `electricity`, `cold_water`, `hot_water`.
    pub service: String,
    pub serial: String,
    /// From the seal act; needed when the account's meter has no seal date yet.
    pub seal_date: Option<NaiveDate>,
    /// Readings the resident brings (the seal act's first), added to the meter's.
    #[serde(default)]
    pub readings: Vec<DatedReadingParams>,
}

/// One hour at the draw-off point, as in the hot-water calculator.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QualityReadingParams {
    /// Local start of the hour, "2026-04-02T14:00".
    pub hour: String,
    pub temperature_c: Option<NumberInput>,
    pub pressure_mpa: Option<NumberInput>,
}

/// A break in supply, local times.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InterruptionParams {
    pub start: String,
    pub end: String,
    /// `planned`, `accident`, `dead_end_accident`.
    pub kind: String,
}

/// `hot_water_quality`: reduces the account's own hot-water charge of the month from the ledger by
/// the hot-water quality rules (the calculator's engine), with the tariffs in force and the month's
/// volume (meter or norm); one adjustment per account and month, and a statement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HotWaterQualityParams {
    /// Default `ru-354`.
    pub rule_set: Option<String>,
    /// YYYY-MM.
    pub month: String,
    #[serde(default)]
    pub readings: Vec<QualityReadingParams>,
    #[serde(default)]
    pub interruptions: Vec<InterruptionParams>,
    /// When the violation was registered (local, "2026-04-02T08:00"); earlier hours do not count.
    pub registered_at: Option<String>,
    /// When restored service was registered; later hours do not count.
    pub restored_at: Option<String>,
    /// Who signed the act.
    #[serde(default)]
    pub signatories: Vec<String>,
}

/// A connected service and its charging basis.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceBasisParams {
    pub service: String,
    /// `per_person`, `per_area`, `per_heated_area`, `per_meter`, `building_heat_meter`.
    pub basis: String,
}

/// A meter installed with a new account, with its first reading on the seal day.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMeterParams {
    pub service: String,
    pub serial: String,
    pub sealed_on: NaiveDate,
    /// "0.000".
    pub value: String,
}

/// `account_opening`: opens a new personal account. The case stays on the account it was opened
/// for (the originating one, e.g. the building's or the previous occupant's); the new account's
/// number is a parameter, and the case's audit trail and document record it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountOpeningParams {
    /// Ten digits, not yet taken.
    pub number: String,
    pub address: String,
    /// The building's address, when it is a known building.
    pub building: Option<String>,
    /// m², "54.30".
    pub total_area: String,
    pub heated_area: String,
    pub residents: u32,
    pub owners: Vec<OwnerDto>,
    pub services: Vec<ServiceBasisParams>,
    #[serde(default)]
    pub meters: Vec<NewMeterParams>,
}

/// `account_split`: splits the case's account: a new account gets the residents, area, owners and
/// services given; moved services leave the old account with their meters. Nothing retroactive.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountSplitParams {
    pub number: String,
    pub address: String,
    /// Residents moved to the new account.
    pub residents: u32,
    /// m² moved, "20.00".
    pub total_area: String,
    pub heated_area: String,
    /// The new account's owners.
    pub owners: Vec<OwnerDto>,
    /// The old account's owners after the split.
    pub remaining_owners: Vec<OwnerDto>,
    /// Services of the new account (the old account's basis).
    pub services: Vec<String>,
    /// Of those, the services the old account no longer has.
    #[serde(default)]
    pub moved: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentRefDto {
    /// The printable page.
    pub url: String,
    /// "17/2026": unique within the office and year.
    pub number: String,
    /// The public verification page.
    pub verify_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationResultDto {
    pub kind: String,
    pub entries: Vec<EntryDto>,
    pub document: Option<DocumentRefDto>,
    /// What the operation found or computed (search results, debt, schedule, facts).
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

fn field(name: &str, uk: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid_fields(vec![FieldError::new(name, Text::new(uk, en))])
}

fn params<T: DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    let v = if v.is_null() {
        serde_json::json!({})
    } else {
        v
    };
    serde_json::from_value(v).map_err(|e| {
        AppError::invalid_fields(vec![FieldError::new(
            "params",
            Text::new(
                format!("Параметри операції неправильні: {e}"),
                format!("The operation's parameters are wrong: {e}"),
            ),
        )])
    })
}

fn money(name: &str, s: &str) -> AppResult<Money> {
    Money::parse(s).map_err(|e| AppError::invalid_fields(vec![FieldError::new(name, e.text())]))
}

fn month(name: &str, s: &str) -> AppResult<YearMonth> {
    YearMonth::parse(s).map_err(|t| AppError::invalid_fields(vec![FieldError::new(name, t)]))
}

fn service(name: &str, s: &str) -> AppResult<Service> {
    Service::parse(s.trim()).ok_or_else(|| {
        field(
            name,
            format!("«{s}» — не послуга; можливі: {}.", Service::ids()),
            format!("\"{s}\" is not a service; use one of {}.", Service::ids()),
        )
    })
}

fn milli(name: &str, s: &str) -> AppResult<i64> {
    let d = Decimal::from_str(s.trim().replace(',', ".").as_str()).map_err(|_| {
        field(
            name,
            format!("«{s}» — не число."),
            format!("\"{s}\" is not a number."),
        )
    })?;
    if d.scale() > 3 || d.is_sign_negative() {
        return Err(field(
            name,
            "Не більше трьох знаків після крапки, не від'ємне.",
            "At most three decimals, not negative.",
        ));
    }
    i64::try_from((d * Decimal::from(1000)).trunc())
        .map_err(|_| field(name, "Завелике число.", "Too large a number."))
}

fn owners(name: &str, list: &[OwnerDto]) -> AppResult<Vec<OwnerShare>> {
    let mut owners = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let bad = || {
            field(
                &format!("{name}[{i}].share"),
                format!("Частка «{}» — не дріб на кшталт 1/2.", o.share),
                format!("The share \"{}\" is not a fraction like 1/2.", o.share),
            )
        };
        let (a, b) = o.share.split_once('/').ok_or_else(bad)?;
        let numerator: u32 = a.trim().parse().map_err(|_| bad())?;
        let denominator: u32 = b.trim().parse().map_err(|_| bad())?;
        if o.name.trim().is_empty() {
            return Err(field(
                &format!("{name}[{i}].name"),
                "Ім'я власника порожнє.",
                "The owner's name is empty.",
            ));
        }
        if o.name.trim().chars().count() > MAX_OWNER_NAME {
            return Err(field(
                &format!("{name}[{i}].name"),
                format!("Ім'я власника — не довше {MAX_OWNER_NAME} символів."),
                format!("The owner's name may be at most {MAX_OWNER_NAME} characters."),
            ));
        }
        owners.push(OwnerShare {
            name: o.name.trim().to_string(),
            numerator,
            denominator,
        });
    }
    Ok(owners)
}

/// A local date and time as the hot-water calculator reads it.
fn local_time(name: &str, s: &str) -> AppResult<chrono::NaiveDateTime> {
    let t = s.trim();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            field(
                name,
                format!("«{s}» — не дата й час; потрібен формат РРРР-ММ-ДДTГГ:ХХ."),
                format!("\"{s}\" is not a date and time; use YYYY-MM-DDTHH:MM."),
            )
        })
}

fn quantity(name: &str, v: &NumberInput) -> AppResult<Decimal> {
    parse_quantity(v).map_err(|t| AppError::invalid_fields(vec![FieldError::new(name, t)]))
}

fn basis(name: &str, s: &str) -> AppResult<Basis> {
    Basis::parse(s.trim()).ok_or_else(|| {
        let all: Vec<&str> = Basis::ALL.iter().map(|b| b.code()).collect();
        field(
            name,
            format!(
                "«{s}» — не спосіб нарахування; можливі: {}.",
                all.join(", ")
            ),
            format!(
                "\"{s}\" is not a charging basis; use one of {}.",
                all.join(", ")
            ),
        )
    })
}

fn area_cm2(name: &str, s: &str) -> AppResult<i64> {
    Ok(money(name, s)?.kopiykas() * 100)
}

/// Parses `{kind, params}` into an operation.
pub fn parse_operation(kind: &str, p: serde_json::Value) -> AppResult<Operation> {
    let Some(k) = OperationKind::parse(kind.trim()) else {
        let all: Vec<&str> = OperationKind::ALL.iter().map(|k| k.code()).collect();
        return Err(field(
            "kind",
            format!("Невідома операція «{kind}»; можливі: {}.", all.join(", ")),
            format!(
                "Unknown operation \"{kind}\"; use one of {}.",
                all.join(", ")
            ),
        ));
    };
    Ok(match k {
        OperationKind::TemporaryAbsence => {
            let x: TemporaryAbsenceParams = params(p)?;
            let ground = Ground::parse(x.absence.ground.trim()).ok_or_else(|| {
                field(
                    "absence.ground",
                    format!("Невідома підстава «{}».", x.absence.ground),
                    format!("Unknown ground \"{}\".", x.absence.ground),
                )
            })?;
            Operation::TemporaryAbsence {
                rule_set: x.rule_set,
                application_date: x.application_date,
                from: x.absence.from,
                to: x.absence.to,
                ground,
                certificate_issued: x.certificate_issued,
                absent_persons: x.absent_persons,
                documents: x.documents,
            }
        }
        OperationKind::PaymentSearch => {
            let x: PaymentSearchParams = params(p)?;
            Operation::PaymentSearch {
                from: x.from,
                to: x.to,
                amount: x
                    .amount
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| money("amount", s))
                    .transpose()?,
                payer: x.payer,
            }
        }
        OperationKind::AttachPayment => {
            let x: AttachPaymentParams = params(p)?;
            Operation::AttachPayment {
                payment_id: x.payment_id,
            }
        }
        OperationKind::InvoiceDuplicate => {
            let x: MonthParams = params(p)?;
            Operation::InvoiceDuplicate {
                month: month("month", &x.month)?,
            }
        }
        OperationKind::Debt => Operation::Debt,
        OperationKind::NoDebtCertificate => Operation::NoDebtCertificate,
        OperationKind::CertificateF2 => Operation::CertificateF2,
        OperationKind::BenefitUseCertificate => Operation::BenefitUseCertificate,
        OperationKind::Consultation => Operation::Consultation,
        OperationKind::AreaChange => {
            let x: AreaChangeParams = params(p)?;
            Operation::AreaChange {
                from: month("from", &x.from)?,
                total_area_cm2: money("total_area", &x.total_area)?.kopiykas() * 100,
                heated_area_cm2: money("heated_area", &x.heated_area)?.kopiykas() * 100,
            }
        }
        OperationKind::OwnerChange => {
            let x: OwnerChangeParams = params(p)?;
            Operation::OwnerChange {
                owners: owners("owners", &x.owners)?,
            }
        }
        OperationKind::MeterReading => {
            let x: MeterReadingParams = params(p)?;
            Operation::MeterReading {
                serial: x.serial,
                date: x.date,
                value_milli: milli("value", &x.value)?,
            }
        }
        OperationKind::MeterSealStop => {
            let x: MeterSealStopParams = params(p)?;
            Operation::MeterSealStop {
                rule_set: x.rule_set,
                service: service("service", &x.service)?,
                serial: x.serial,
                seal_date: x.seal_date,
            }
        }
        OperationKind::Restructuring => {
            let x: RestructuringParams = params(p)?;
            Operation::Restructuring {
                months: x.months,
                first_due: x.first_due,
            }
        }
        OperationKind::QualityClaimAct => {
            let x: QualityClaimActParams = params(p)?;
            Operation::QualityClaimAct {
                service: service("service", &x.service)?,
                from: x.from,
                to: x.to,
                description: x.description,
            }
        }
        OperationKind::HeatAllocation => {
            let x: HeatAllocationParams = params(p)?;
            let heat = Decimal::from_str(x.heat_gcal.trim()).map_err(|_| {
                field(
                    "heat_gcal",
                    format!("«{}» — не число.", x.heat_gcal),
                    format!("\"{}\" is not a number.", x.heat_gcal),
                )
            })?;
            Operation::HeatAllocation {
                rule_set: x.rule_set,
                month: month("month", &x.month)?,
                heat_gcal: heat,
                tariff_per_gcal: money("tariff_per_gcal", &x.tariff_per_gcal)?,
            }
        }
        OperationKind::SealedMeterFix => {
            let x: SealedMeterFixParams = params(p)?;
            let mut readings = Vec::new();
            for (i, r) in x.readings.iter().enumerate() {
                readings.push(Reading {
                    on: r.date,
                    value_milli: milli(&format!("readings[{i}].value"), &r.value)?,
                });
            }
            Operation::SealedMeterFix {
                rule_set: x.rule_set,
                service: service("service", &x.service)?,
                serial: x.serial.trim().to_string(),
                seal_date: x.seal_date,
                readings,
            }
        }
        OperationKind::HotWaterQuality => {
            let x: HotWaterQualityParams = params(p)?;
            let mut readings = Vec::new();
            for (i, r) in x.readings.iter().enumerate() {
                readings.push(hot_water::Reading {
                    hour: local_time(&format!("readings[{i}].hour"), &r.hour)?,
                    temperature_c: r
                        .temperature_c
                        .as_ref()
                        .map(|t| quantity(&format!("readings[{i}].temperature_c"), t))
                        .transpose()?,
                    pressure_mpa: r
                        .pressure_mpa
                        .as_ref()
                        .map(|t| quantity(&format!("readings[{i}].pressure_mpa"), t))
                        .transpose()?,
                });
            }
            let mut interruptions = Vec::new();
            for (i, it) in x.interruptions.iter().enumerate() {
                let kind = InterruptionKind::parse(&it.kind).ok_or_else(|| {
                    field(
                        &format!("interruptions[{i}].kind"),
                        format!("Невідомий вид перерви «{}»; можливі: planned, accident, dead_end_accident.", it.kind),
                        format!("Unknown interruption kind \"{}\"; allowed: planned, accident, dead_end_accident.", it.kind),
                    )
                })?;
                interruptions.push(hot_water::Interruption {
                    start: local_time(&format!("interruptions[{i}].start"), &it.start)?,
                    end: local_time(&format!("interruptions[{i}].end"), &it.end)?,
                    kind,
                });
            }
            let at = |name: &str, v: &Option<String>| {
                v.as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| local_time(name, s))
                    .transpose()
            };
            let registered_at = at("registered_at", &x.registered_at)?;
            let restored_at = at("restored_at", &x.restored_at)?;
            if let (Some(a), Some(b)) = (registered_at, restored_at)
                && b <= a
            {
                return Err(field(
                    "restored_at",
                    "Відновлення має бути пізніше за реєстрацію порушення.",
                    "Restored service must be registered after the violation.",
                ));
            }
            Operation::HotWaterQuality {
                rule_set: x
                    .rule_set
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| "ru-354".to_string()),
                month: month("month", &x.month)?,
                readings,
                interruptions,
                registered_at,
                restored_at,
                signatories: x
                    .signatories
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            }
        }
        OperationKind::AccountOpening => {
            let x: AccountOpeningParams = params(p)?;
            let mut services = Vec::new();
            for (i, s) in x.services.iter().enumerate() {
                services.push((
                    service(&format!("services[{i}].service"), &s.service)?,
                    basis(&format!("services[{i}].basis"), &s.basis)?,
                ));
            }
            let mut meters = Vec::new();
            for (i, m) in x.meters.iter().enumerate() {
                meters.push(NewMeter {
                    service: service(&format!("meters[{i}].service"), &m.service)?,
                    serial: m.serial.trim().to_string(),
                    sealed_on: m.sealed_on,
                    value_milli: milli(&format!("meters[{i}].value"), &m.value)?,
                });
            }
            let a = NewAccount {
                number: x.number.trim().to_string(),
                address: x.address.trim().to_string(),
                building: x
                    .building
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty()),
                total_area_cm2: area_cm2("total_area", &x.total_area)?,
                heated_area_cm2: area_cm2("heated_area", &x.heated_area)?,
                residents: x.residents,
                owners: owners("owners", &x.owners)?,
                services,
                meters,
            };
            let errors = account::check_new_account(&a);
            if !errors.is_empty() {
                return Err(AppError::invalid_fields(errors));
            }
            Operation::AccountOpening(a)
        }
        OperationKind::AccountSplit => {
            let x: AccountSplitParams = params(p)?;
            let list = |name: &str, v: &[String]| -> AppResult<Vec<Service>> {
                v.iter()
                    .enumerate()
                    .map(|(i, s)| service(&format!("{name}[{i}]"), s))
                    .collect()
            };
            Operation::AccountSplit(Split {
                number: x.number.trim().to_string(),
                address: x.address.trim().to_string(),
                residents: x.residents,
                total_area_cm2: area_cm2("total_area", &x.total_area)?,
                heated_area_cm2: area_cm2("heated_area", &x.heated_area)?,
                owners: owners("owners", &x.owners)?,
                remaining_owners: owners("remaining_owners", &x.remaining_owners)?,
                services: list("services", &x.services)?,
                moved: list("moved", &x.moved)?,
            })
        }
    })
}

pub fn result_dto(r: store::OperationRecord, lang: Lang) -> OperationResultDto {
    OperationResultDto {
        kind: r.kind,
        entries: r.entries.iter().map(|e| entry_dto(e, lang)).collect(),
        document: r.document.map(|d| DocumentRefDto {
            url: format!("/cases/documents/{}", d.token),
            verify_url: format!("/verify/{}", d.token),
            number: d.number,
        }),
        facts: r.facts,
    }
}

/// The `Idempotency-Key` header, when given.
pub fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().map(str::trim).unwrap_or("");
    if s.is_empty() || s.len() > 200 {
        return Err(AppError::BadRequest(Text::new(
            "Заголовок Idempotency-Key має бути непорожнім і не довшим за 200 символів.",
            "The Idempotency-Key header must be non-empty and at most 200 characters.",
        )));
    }
    Ok(Some(s.to_string()))
}

/// Performs an operation of the case's procedure: one transaction for its ledger entries, account
/// changes, document and audit row. With `Idempotency-Key`, a repeated request returns the first
/// result and writes nothing more.
#[utoipa::path(post, path = "/api/v1/cases/{id}/operations", tag = "cases", request_body = OperationDto,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a repeated request return the first result")),
    security(("bearer" = [])),
    responses((status = 201, body = OperationResultDto), (status = 409, body = crate::web::api::openapi::ErrorDto), (status = 422, body = crate::web::api::openapi::ErrorDto)))]
pub async fn operate(
    State(state): State<AppState>,
    staff: Staff,
    lang: Lang,
    headers: HeaderMap,
    Path(id): Path<i32>,
    ApiJson(req): ApiJson<OperationDto>,
) -> AppResult<(StatusCode, Json<OperationResultDto>)> {
    desk(&staff)?;
    let key = idempotency_key(&headers)?;
    let op = parse_operation(&req.kind, req.params)?;
    let r = store::perform_seen(
        &state.db,
        &state.rules,
        procedure::bundled(),
        &staff.user,
        id,
        op,
        &req.documents,
        key.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(result_dto(r, lang))))
}

// ---- charge runs ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChargeRunDto {
    /// YYYY-MM.
    pub month: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeRunResultDto {
    pub period: String,
    /// `done`.
    pub status: String,
    /// Entries the month's run has posted in total.
    pub posted: i64,
    /// Entries this request posted (0 when the month was already charged).
    pub posted_now: i64,
}

/// Batch size of the charge run: large enough to amortize a transaction, small enough to resume
/// cheaply after a crash.
pub const CHARGE_RUN_BATCH: u64 = 500;

/// Runs the monthly charges (admin or supervisor); a second run of the same month posts nothing.
#[utoipa::path(post, path = "/api/v1/charge-runs", tag = "cases", request_body = ChargeRunDto,
    security(("bearer" = [])),
    responses((status = 201, body = ChargeRunResultDto), (status = 403, body = crate::web::api::openapi::ErrorDto), (status = 409, body = crate::web::api::openapi::ErrorDto)))]
pub async fn charge_run(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<ChargeRunDto>,
) -> AppResult<(StatusCode, Json<ChargeRunResultDto>)> {
    if !matches!(staff.user.role, Role::Admin | Role::Supervisor) {
        return Err(AppError::Forbidden);
    }
    let m = month("month", &req.month)?;
    let r = store::charge_run(&state.db, m, CHARGE_RUN_BATCH).await?;
    Ok((
        StatusCode::CREATED,
        Json(ChargeRunResultDto {
            period: r.period,
            status: r.status,
            posted: r.posted,
            posted_now: r.posted_now,
        }),
    ))
}
