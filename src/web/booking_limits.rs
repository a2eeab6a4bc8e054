//! Per-IP rate limits on availability and booking requests (fair access, issue 6), with the
//! `governor` crate's keyed GCRA limiter: over the limit answers 429 with `Retry-After`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::http::header::RETRY_AFTER;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::error::AppError;

/// Header the limiter sets on the request (never trusted from the client: it is overwritten)
/// so the handler can keep the address on the booking.
pub const CLIENT_IP_HEADER: &str = "x-cherga-client-ip";

pub type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

/// The limiters of the booking routes; `None` when a limit is off (0).
#[derive(Clone)]
pub struct Limits {
    pub availability: Option<Limiter>,
    pub booking: Option<Limiter>,
}

fn limiter(per_minute: u32) -> Option<Limiter> {
    NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            availability: limiter(config.booking.availability_rate_per_minute),
            booking: limiter(config.booking.booking_rate_per_minute),
        }
    }
}

/// Middleware for `from_fn_with_state(limiter, limit)`.
pub async fn limit(
    State(limiter): State<Option<Limiter>>,
    mut req: Request,
    next: Next,
) -> Response {
    // why: only the socket's address is used; behind a proxy every client shares its address,
    // so deploy the limit at the proxy or turn it off (0) there.
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if let Ok(v) = HeaderValue::from_str(&ip.to_string()) {
        req.headers_mut().insert(CLIENT_IP_HEADER, v);
    }
    if let Some(l) = limiter {
        if l.len() > 100_000 {
            l.retain_recent();
        }
        if let Err(not_until) = l.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut resp = AppError::TooManyRequests.into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
            return resp;
        }
    }
    next.run(req).await
}
