//! The one GET/POST pair every calculator page shares: show a blank (or example) form; check,
//! compute and show the result or the faults on the same page.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::form::{Built, outcome};
use super::rows::{Submitted, limit_faults};
use super::{ExampleQuery, Faults};
use crate::app::AppState;
use crate::domain::rules::{FieldError, RuleSetRegistry};
use crate::error::AppResult;
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

/// A calculator's form: how it is filled, turned into the domain request, computed and shown.
pub(crate) trait CalculatorForm: DeserializeOwned + Send + 'static {
    type Request;
    type Response;
    type View;

    /// The row lists of the form (`charges`, `readings`, …).
    const LISTS: &'static [&'static str];

    /// Takes the rows of its lists from a submitted form.
    fn set_rows(&mut self, submitted: &Submitted);

    fn blank() -> Self;
    fn example() -> Self;
    fn csrf(&self) -> &str;
    fn build(&self) -> Built<Self::Request>;
    fn calculate(
        request: &Self::Request,
        rules: &RuleSetRegistry,
    ) -> Result<Self::Response, Vec<FieldError>>;
    fn view(t: Tr, rules: &RuleSetRegistry, response: Self::Response) -> Self::View;
    fn page(
        state: &AppState,
        ctx: &RequestContext,
        staff: Option<&Staff>,
        form: Self,
        outcome: Result<Option<Self::View>, Faults>,
    ) -> AppResult<Response>;
}

pub(crate) async fn show<F: CalculatorForm>(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(q): Query<ExampleQuery>,
) -> AppResult<Response> {
    let form = if q.example.is_some() {
        F::example()
    } else {
        F::blank()
    };
    F::page(&state, &ctx, staff.as_ref(), form, Ok(None))
}

pub(crate) async fn submit<F: CalculatorForm>(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    body: Bytes,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    // why: rows repeat their input names (`charges.month` once per row), which a plain
    // `Form<struct>` refuses; single values go through serde, rows are read by column.
    let submitted = Submitted::parse(&body);
    let mut form: F = serde_json::from_value(serde_json::Value::Object(submitted.single.clone()))
        .map_err(|_| {
        crate::error::AppError::BadRequest(crate::domain::lang::Text::new(
            "Форму не вдалося прочитати.",
            "The form could not be read.",
        ))
    })?;
    form.set_rows(&submitted);
    // why: a missing or stale CSRF cookie is an old page, not a missing permission; the resident
    // gets the form back with what they typed and a fresh token instead of a bare 403.
    if check_csrf(&ctx, form.csrf()).is_err() {
        let mut resp = F::page(&state, &ctx, staff.as_ref(), form, Err(Faults::expired(t)))?;
        *resp.status_mut() = axum::http::StatusCode::FORBIDDEN;
        return Ok(resp);
    }
    let mut built = form.build();
    built
        .field_errors
        .extend(limit_faults(&submitted, F::LISTS));
    let outcome = outcome(t, &built, |q| F::calculate(q, &state.rules))
        .map(|r| Some(F::view(t, &state.rules, r)));
    F::page(&state, &ctx, staff.as_ref(), form, outcome)
}
