//! Board fan-out benchmark (not a test): N boards on one instance, a burst of calls through the
//! desk API; call-to-delivery latency across all boards (p50, p99) and server memory per
//! connection, beside a bare broadcast (an axum WebSocket route that only forwards one shared
//! frame to every client) measured in the same run on the same machine.
//!
//! `cargo bench --bench boards` (sizes: `BOARDS=1000,10000`, calls: `CALLS=20`).
//! Each server runs in its own child process (this binary re-run with `BENCH_ROLE`), so its
//! memory is measured alone; the clients run here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::routing::{get, post};
use futures_util::StreamExt;
use tokio::sync::broadcast;

const ADMIN_PASSWORD: &str = "bench-admin-password";

fn micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("cherga") => rt.block_on(serve_cherga()),
        Ok("bare") => rt.block_on(serve_bare()),
        _ => rt.block_on(run()),
    }
}

// ------------------------------------------------------------------ servers (child processes)

async fn serve_cherga() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut config = cherga::config::Config::for_database(&url);
    config.admin_password = Some(ADMIN_PASSWORD.into());
    let (db, _) = cherga::app::prepare(&config).await.expect("prepare");
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("DELETE FROM office_hours")
        .await
        .unwrap();
    for d in 0..7 {
        db.execute_unprepared(&format!(
            "INSERT INTO office_hours (office_id, weekday, opens, closes) \
             SELECT id, {d}, '00:00', '24:00' FROM office WHERE code = 'pecherskyi'"
        ))
        .await
        .unwrap();
    }
    let rules = cherga::app::bundled_rules().expect("rules");
    let router = cherga::app::router(db, config, rules);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening {}", listener.local_addr().unwrap());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}

async fn serve_bare() {
    let (tx, _) = broadcast::channel::<Utf8Bytes>(256);
    let app = axum::Router::new()
        .route("/ws", get(bare_socket))
        .route("/send", post(bare_send))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening {}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

async fn bare_send(State(tx): State<broadcast::Sender<Utf8Bytes>>, body: String) {
    let _ = tx.send(Utf8Bytes::from(body));
}

async fn bare_socket(
    ws: WebSocketUpgrade,
    State(tx): State<broadcast::Sender<Utf8Bytes>>,
) -> axum::response::Response {
    let rx = tx.subscribe();
    // The same socket settings as the board route.
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(4 * 1024)
        .on_upgrade(move |s| forward(s, rx))
}

async fn forward(mut socket: WebSocket, mut rx: broadcast::Receiver<Utf8Bytes>) {
    loop {
        tokio::select! {
            f = rx.recv() => match f {
                Ok(t) => if socket.send(Message::Text(t)).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            m = socket.recv() => if !matches!(m, Some(Ok(_))) { return },
        }
    }
}

// ------------------------------------------------------------------ driver (this process)

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_server(role: &str) -> Server {
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .env("BENCH_ROLE", role)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let addr = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        loop {
            let line = lines.next().expect("server line").expect("read");
            if let Some(a) = line.strip_prefix("listening ") {
                // Keep draining the pipe so the server never blocks on a full stdout.
                std::thread::spawn(move || for _ in lines {});
                break a.parse::<SocketAddr>().expect("address");
            }
        }
    })
    .await
    .expect("read address");
    Server { child, addr }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

type Received = Arc<Mutex<Vec<(i64, u64)>>>;

/// Connects `n` clients to `url`; each records `(key, received_at)` for every frame that
/// `key_of` recognises. Returns once every client has its first frame.
async fn connect_clients(
    url: &str,
    n: usize,
    received: Received,
    key_of: fn(&str) -> Option<i64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n.max(1));
    let sem = Arc::new(tokio::sync::Semaphore::new(100));
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let url = url.to_string();
        let received = Arc::clone(&received);
        let ready = ready_tx.clone();
        let permit = Arc::clone(&sem).acquire_owned().await.unwrap();
        handles.push(tokio::spawn(async move {
            let mut ws = loop {
                match tokio_tungstenite::connect_async(&url).await {
                    Ok((ws, _)) => break ws,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            let _ = ws.next().await; // snapshot (boards) or nothing (bare sends none)
            drop(permit);
            let _ = ready.send(()).await;
            while let Some(Ok(m)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    let at = micros();
                    if t.as_str() == "END" || t.contains("\"type\":\"end\"") {
                        break;
                    }
                    if let Some(k) = key_of(t.as_str()) {
                        received.lock().unwrap().push((k, at));
                    }
                }
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..n {
        ready_rx.recv().await;
    }
    handles
}

fn called_seq(t: &str) -> Option<i64> {
    if !t.contains("\"type\":\"called\"") {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(t).ok()?["seq"].as_i64()
}

fn bare_key(t: &str) -> Option<i64> {
    t.strip_prefix("called ")?.parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Result {
    p50: f64,
    p99: f64,
    delivered: usize,
    expected: usize,
    kib_per_conn: f64,
}

fn latencies(received: &Received, sent: &HashMap<i64, u64>) -> (Vec<u64>, usize) {
    let got = received.lock().unwrap();
    let mut lat: Vec<u64> = got
        .iter()
        .filter_map(|(k, at)| sent.get(k).map(|s| at.saturating_sub(*s)))
        .collect();
    lat.sort_unstable();
    let n = lat.len();
    (lat, n)
}

async fn bench_cherga(n: usize, calls: usize) -> Result {
    let server = spawn_server("cherga").await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {token}");
    let desks: serde_json::Value = http
        .get(format!("{base}/api/v1/offices/pecherskyi/desks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let desk = desks[0]["id"].as_i64().unwrap();
    let service = desks[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .find(|s| s == "payment-search")
        .unwrap_or_else(|| desks[0]["services"][0].as_str().unwrap().to_string());
    for _ in 0..calls {
        let r = http
            .post(format!("{base}/api/v1/offices/pecherskyi/tickets"))
            .header("authorization", &auth)
            .json(&serde_json::json!({"service": service}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(server.child.id());
    let received: Received = Arc::default();
    let url = format!("ws://{}/ws/boards/pecherskyi", server.addr);
    let handles = connect_clients(&url, n, Arc::clone(&received), called_seq).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(server.child.id());
    let mut sent = HashMap::new();
    for _ in 0..calls {
        let at = micros();
        let r = http
            .post(format!("{base}/api/v1/desks/{desk}/call-next"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        sent.insert(v["seq"].as_i64().unwrap(), at);
        let id = v["id"].as_i64().unwrap();
        http.post(format!("{base}/api/v1/desks/{desk}/tickets/{id}/no-show"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
    }
    // Let the last frames arrive, then stop the clients.
    wait_for(&received, n * calls, Duration::from_secs(60)).await;
    for h in &handles {
        h.abort();
    }
    let (lat, delivered) = latencies(&received, &sent);
    drop(server);
    Result {
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        delivered,
        expected: n * calls,
        kib_per_conn: after.saturating_sub(before) as f64 / n as f64,
    }
}

async fn wait_for(received: &Received, expected: usize, limit: Duration) {
    let start = std::time::Instant::now();
    while received.lock().unwrap().len() < expected && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bench_bare(n: usize, calls: usize) -> Result {
    let server = spawn_server("bare").await;
    let http = reqwest::Client::new();
    let before = rss_kib(server.child.id());
    let received: Received = Arc::default();
    let url = format!("ws://{}/ws", server.addr);
    // Bare clients get no snapshot: a hello frame stands in for it.
    let base = format!("http://{}", server.addr);
    let hello = {
        let http = http.clone();
        let base = base.clone();
        tokio::spawn(async move {
            loop {
                let _ = http.post(format!("{base}/send")).body("hello").send().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let handles = connect_clients(&url, n, Arc::clone(&received), bare_key).await;
    hello.abort();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(server.child.id());
    let mut sent = HashMap::new();
    for i in 0..calls as i64 {
        let at = micros();
        sent.insert(i, at);
        http.post(format!("{base}/send"))
            .body(format!("called {i}"))
            .send()
            .await
            .unwrap();
        http.post(format!("{base}/send"))
            .body(format!("no_show {i}"))
            .send()
            .await
            .unwrap();
    }
    wait_for(&received, n * calls, Duration::from_secs(60)).await;
    for h in &handles {
        h.abort();
    }
    let (lat, delivered) = latencies(&received, &sent);
    drop(server);
    Result {
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        delivered,
        expected: n * calls,
        kib_per_conn: after.saturating_sub(before) as f64 / n as f64,
    }
}

async fn run() {
    let sizes: Vec<usize> = std::env::var("BOARDS")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("| boards | server | p50 ms | p99 ms | delivered | KiB/connection |");
    println!("|---:|---|---:|---:|---:|---:|");
    for n in sizes {
        let bare = bench_bare(n, calls).await;
        let board = bench_cherga(n, calls).await;
        for (name, r) in [("bare broadcast", &bare), ("cherga boards", &board)] {
            println!(
                "| {n} | {name} | {:.1} | {:.1} | {}/{} | {:.1} |",
                r.p50, r.p99, r.delivered, r.expected, r.kib_per_conn
            );
        }
        println!(
            "| {n} | ratio p99 cherga/bare | | {:.2} | | |",
            board.p99 / bare.p99
        );
    }
}
