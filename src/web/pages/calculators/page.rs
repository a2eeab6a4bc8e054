//! The one GET/POST pair every calculator page shares: show a blank (or example) form; check,
//! compute and show the result or the faults on the same page.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::form::{Built, outcome};
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
    axum::Form(form): axum::Form<F>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    // why: a missing or stale CSRF cookie is an old page, not a missing permission; the resident
    // gets the form back with what they typed and a fresh token instead of a bare 403.
    if check_csrf(&ctx, form.csrf()).is_err() {
        let mut resp = F::page(&state, &ctx, staff.as_ref(), form, Err(Faults::expired(t)))?;
        *resp.status_mut() = axum::http::StatusCode::FORBIDDEN;
        return Ok(resp);
    }
    let built = form.build();
    let outcome = outcome(t, &built, |q| F::calculate(q, &state.rules))
        .map(|r| Some(F::view(t, &state.rules, r)));
    F::page(&state, &ctx, staff.as_ref(), form, outcome)
}
