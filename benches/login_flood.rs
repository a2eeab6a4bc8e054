//! Does a flood of wrong passwords slow the rest of the service down?
//!
//! Starts the server in-process on 127.0.0.1:0 (SQLite file in a temp dir, the router and
//! connection info as `cherga serve` has them), then measures the `/healthz` rate with 8
//! keep-alive clients for a few seconds: once alone, once while 8 more clients send wrong
//! passwords to `POST /api/v1/session` as fast as they are answered, then alone again.
//! Target: the rate during the flood is at least half the rate without it (issue 9, item 12).
//!
//! `cargo bench --bench login_flood` (optionally `LOGIN_FLOOD_SECS=10`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const FLOODERS: usize = 8;

fn main() {
    let secs: u64 = std::env::var("LOGIN_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());

    // The server: its own multi-threaded runtime, as `cherga serve` runs.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let addr: SocketAddr = server_rt.block_on(async {
        let mut config = cherga::config::Config::for_database(&url);
        config.admin_password = Some("bench-admin-password".into());
        let (db, _) = cherga::app::prepare(&config).await.expect("prepare");
        let rules = cherga::app::bundled_rules().expect("rules");
        let app = cherga::app::router(db, config, rules);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        addr
    });

    // The clients: a second runtime, so that client and server threads share the machine
    // the same way in both phases.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    client_rt.block_on(async {
        let base = format!("http://{addr}");
        // Warm-up: connections, the first hash, the page caches.
        measure_healthz(&base, Duration::from_secs(1)).await;
        let alone = measure_healthz(&base, Duration::from_secs(secs)).await;

        let stop = Arc::new(AtomicBool::new(false));
        let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
        let mut flood = Vec::new();
        for i in 0..FLOODERS {
            let (stop, counts, base) = (stop.clone(), counts.clone(), base.clone());
            flood.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let user = if i % 2 == 0 { "admin".to_string() } else { format!("guess{i}-{n}") };
                    let r = client
                        .post(format!("{base}/api/v1/session"))
                        .json(&serde_json::json!({"username": user, "password": format!("wrong-{n}")}))
                        .send()
                        .await;
                    let slot = match r.map(|r| r.status().as_u16()) {
                        Ok(401) => 0,
                        Ok(429) => 1,
                        Ok(503) => 2,
                        _ => 3,
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        // Let the flood reach its steady state (the throttle locks in) before measuring.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let flooded = measure_healthz(&base, Duration::from_secs(secs)).await;
        let during: Vec<u64> = counts
            .iter()
            .zip(&before)
            .map(|(c, b)| c.load(Ordering::Relaxed) - b)
            .collect();
        stop.store(true, Ordering::Relaxed);
        for f in flood {
            let _ = f.await;
        }
        // why: a second baseline after the flood, and the better of the two is the one
        // compared: the shared machine's noise then cannot flatter the ratio.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = measure_healthz(&base, Duration::from_secs(secs)).await;
        let alone = if after.rate > alone.rate { after } else { alone };

        let ratio = flooded.rate / alone.rate;
        println!("login_flood: {CLIENTS} /healthz clients, {FLOODERS} flooding clients, {secs} s per phase");
        println!(
            "  /healthz alone (best of before/after): {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            alone.rate, alone.p50_ms, alone.p99_ms
        );
        println!(
            "  /healthz during flood:                 {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            flooded.rate, flooded.p50_ms, flooded.p99_ms
        );
        println!(
            "  flood answers during the measurement: {} × 401, {} × 429, {} × 503, {} other ({:.0} attempts/s)",
            during[0],
            during[1],
            during[2],
            during[3],
            during.iter().sum::<u64>() as f64 / secs as f64
        );
        println!(
            "  ratio {ratio:.2} (target ≥ 0.50): {}",
            if ratio >= 0.5 { "PASS" } else { "FAIL" }
        );
    });
}

struct Measured {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn measure_healthz(base: &str, length: Duration) -> Measured {
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let url = format!("{base}/healthz");
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                if let Ok(r) = client.get(&url).send().await {
                    if r.status().is_success() && r.bytes().await.is_ok() {
                        latencies.push(t.elapsed());
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Measured {
        rate: all.len() as f64 / length.as_secs_f64(),
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}
