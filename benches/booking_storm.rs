//! Booking storm (not a test; issue 6, item 11): 1,000 concurrent HTTP clients book one office's
//! day through `POST /api/v1/bookings`, beside the raw one-row commit rate of the same database
//! measured in the same run. Reports bookings/s, latency (p50, p99, max) and double bookings
//! (checked in the database afterwards: must be 0). Target: bookings/s ≥ 0.3× the raw rate.
//!
//! ```sh
//! cargo bench --bench booking_storm                      # SQLite, and PostgreSQL when set:
//! TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres cargo bench --bench booking_storm
//! CLIENTS=1000 SPECIALISTS=20 RAW_SECONDS=3 cargo bench --bench booking_storm
//! ```
//!
//! The office is set up through the admin store functions: open 06:00–22:00 every day, grid 5
//! min, `SPECIALISTS` specialists with the same week. Each of the `CLIENTS` clients (a distinct
//! person: its own phone) asks for "any specialist" at one of `CLIENTS / SPECIALISTS` starts, a
//! planned length apart, so every start is wanted by exactly as many clients as there are
//! specialists and every request can be served. The rate limits are off. Clients and server
//! share this process and its runtime, on the same machine as the database.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::sync::Barrier;

use cherga::domain::booking::edit::{
    DayInput, OfficeInput, SpecialistChange, validate_office, validate_week,
};
use cherga::domain::catalog::Channel;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Outcome {
    label: String,
    raw_per_s: f64,
    sequential_per_s: f64,
    requests: usize,
    booked: usize,
    taken: usize,
    other: usize,
    wall: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
    rows: i64,
    doubles: i64,
}

async fn count(db: &DatabaseConnection, sql: &str) -> Result<i64, String> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no row")?;
    row.try_get_by_index::<i64>(0).map_err(|e| e.to_string())
}

/// Single-row INSERT transactions in a loop, one after another, for `seconds`.
async fn raw_commit_rate(db: &DatabaseConnection, seconds: u64) -> Result<f64, String> {
    use sea_orm::TransactionTrait;
    let backend = db.get_database_backend();
    db.execute_unprepared(
        "CREATE TABLE bench_commit (id BIGINT PRIMARY KEY, v VARCHAR(16) NOT NULL)",
    )
    .await
    .map_err(|e| e.to_string())?;
    let sql = match backend {
        DbBackend::Postgres => "INSERT INTO bench_commit (id, v) VALUES ($1, $2)",
        _ => "INSERT INTO bench_commit (id, v) VALUES (?, ?)",
    };
    let started = Instant::now();
    let mut n: i64 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let txn = db.begin().await.map_err(|e| e.to_string())?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [n.into(), "commit".into()],
        ))
        .await
        .map_err(|e| e.to_string())?;
        txn.commit().await.map_err(|e| e.to_string())?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let stored = count(db, "SELECT COUNT(*) FROM bench_commit").await?;
    if stored != n {
        return Err(format!("raw loop: {n} commits but {stored} rows"));
    }
    Ok(rate)
}

/// `n` starts of `day` a planned length apart from the first free one, as the API wrote them.
async fn offered_starts(
    http: &reqwest::Client,
    base: &str,
    office: i32,
    service: &str,
    day: chrono::NaiveDate,
    n: usize,
) -> Result<Vec<String>, String> {
    let r = http
        .get(format!(
            "{base}/api/v1/offices/{office}/availability?service={service}&from={day}&to={day}"
        ))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    let slots = body["slots"]
        .as_array()
        .ok_or(format!("no slots: {body}"))?;
    let parse = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok())
    };
    let first = slots.first().ok_or("the storm office has no free time")?;
    let (Some(s0), Some(e0)) = (parse(&first["start"]), parse(&first["end"])) else {
        return Err(format!("bad slot {first}"));
    };
    let length = e0 - s0;
    let offered: HashSet<DateTime<FixedOffset>> =
        slots.iter().filter_map(|s| parse(&s["start"])).collect();
    (0..n)
        .map(|k| s0 + length * k as i32)
        .map(|t| {
            if offered.contains(&t) {
                Ok(t.to_rfc3339())
            } else {
                Err(format!("{t} is not offered: the day is too short"))
            }
        })
        .collect()
}

/// Sets up the storm office; returns (office id, service code).
async fn set_up_office(
    db: &DatabaseConnection,
    specialists: usize,
) -> Result<(i32, String), String> {
    let office = validate_office(&OfficeInput {
        code: "storm",
        name: "Центр для навантаження",
        name_en: "Storm office",
        address: "вул. Тестова, 1",
        address_en: "1 Test St",
        kind: "office",
        timezone: "Europe/Kyiv",
        slot_minutes: "5",
        hours: [("06:00", "22:00"); 7],
    })
    .map_err(|e| format!("{e:?}"))?;
    let office = cherga::store::offices::create_office(db, &office)
        .await
        .map_err(|e| e.to_string())?;
    let service = cherga::store::catalog::list_services(db, false)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|s| s.has_channel(Channel::Visit))
        .ok_or("no visit service in the catalog")?;
    let day = DayInput {
        starts: "06:00",
        ends: "22:00",
        breaks: "",
        walk_in: "",
    };
    let week = validate_week(&[day; 7]).map_err(|e| format!("{e:?}"))?;
    for i in 0..specialists {
        let change = SpecialistChange {
            name: format!("Спеціаліст {i}"),
            window_label: format!("S-{i}"),
            active: true,
            skills: vec![service.code.clone()],
        };
        let id = cherga::store::offices::create_specialist(db, office, &change)
            .await
            .map_err(|e| e.to_string())?;
        cherga::store::offices::save_week(db, office, id, &week, &Default::default())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok((office, service.code))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn storm(label: &str, url: &str) -> Result<Outcome, String> {
    let clients = env_num("CLIENTS", 1000) as usize;
    let specialists = env_num("SPECIALISTS", 20) as usize;
    let raw_seconds = env_num("RAW_SECONDS", 3);

    let mut config = cherga::config::Config::for_database(url);
    config.admin_password = Some("bench-admin-password".into());
    config.booking.booking_rate_per_minute = 0;
    config.booking.availability_rate_per_minute = 0;
    let (db, _) = cherga::app::prepare(&config)
        .await
        .map_err(|e| e.to_string())?;
    let (office, service) = set_up_office(&db, specialists).await?;
    let rules = cherga::app::bundled_rules().map_err(|e| e.to_string())?;
    let app = cherga::app::router(db.clone(), config, rules);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;

    // The day after tomorrow, in the office's zone: clear of the minimum notice. The day after
    // it takes the sequential bookings.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Kyiv)
        .date_naive();
    let per_start = specialists;
    let starts = offered_starts(
        &http,
        &base,
        office,
        &service,
        today + chrono::Duration::days(2),
        clients.div_ceil(per_start),
    )
    .await?;
    let sequential = env_num("SEQUENTIAL", 100) as usize;
    let seq_starts = offered_starts(
        &http,
        &base,
        office,
        &service,
        today + chrono::Duration::days(3),
        sequential.div_ceil(per_start),
    )
    .await?;

    let raw_per_s = raw_commit_rate(&db, raw_seconds).await?;

    // One client, one booking after another: the cost of a booking without contention.
    let seq_started = Instant::now();
    for i in 0..sequential {
        let r = http
            .post(format!("{base}/api/v1/bookings"))
            .json(&serde_json::json!({
                "office": office,
                "service": service,
                "start": seq_starts[i / per_start],
                "name": format!("Мешканець S{i}"),
                "phone": format!("+38067{:07}", 1_000_000 + i),
            }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().as_u16() != 201 {
            return Err(format!("sequential booking {i}: {}", r.status()));
        }
    }
    let sequential_per_s = sequential as f64 / seq_started.elapsed().as_secs_f64();
    let rows_before = count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM booking WHERE office_id = {office} AND status IN ('pending', 'confirmed')"
        ),
    )
    .await?;

    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let http = http.clone();
        let barrier = barrier.clone();
        let url = format!("{base}/api/v1/bookings");
        let body = serde_json::json!({
            "office": office,
            "service": service,
            "start": starts[i / per_start],
            "name": format!("Мешканець {i}"),
            "phone": format!("+38050{:07}", 1_000_000 + i),
        });
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let t = Instant::now();
            let status = http
                .post(url)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            (status, t.elapsed())
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(clients);
    let (mut booked, mut taken, mut other) = (0, 0, 0);
    let mut first_other = None;
    for t in tasks {
        let (status, took) = t.await.map_err(|e| e.to_string())?;
        latencies.push(took);
        match status {
            201 => booked += 1,
            409 => taken += 1,
            s => {
                other += 1;
                first_other.get_or_insert(s);
            }
        }
    }
    let wall = started.elapsed();
    if let Some(s) = first_other {
        eprintln!("{label}: {other} requests answered neither 201 nor 409 (first: {s})");
    }
    latencies.sort();
    let rows = count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM booking WHERE office_id = {office} AND status IN ('pending', 'confirmed')"
        ),
    )
    .await?
        - rows_before;
    let doubles = count(
        &db,
        "SELECT COUNT(*) FROM booking a JOIN booking b \
         ON a.specialist_id = b.specialist_id AND a.id < b.id \
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at \
         WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')",
    )
    .await?;
    let _ = db.close().await;
    Ok(Outcome {
        label: label.to_string(),
        raw_per_s,
        sequential_per_s,
        requests: clients,
        booked,
        taken,
        other,
        wall,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        rows,
        doubles,
    })
}

/// A scratch database on the server of `admin_url`; returns its URL and name.
async fn scratch_pg(admin_url: &str) -> Result<(String, String), String> {
    let admin = Database::connect(admin_url)
        .await
        .map_err(|e| e.to_string())?;
    let name = format!("cherga_storm_{}", std::process::id());
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .map_err(|e| e.to_string())?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| e.to_string())?;
    let _ = admin.close().await;
    let (server, _) = admin_url
        .rsplit_once('/')
        .ok_or("TEST_DATABASE_URL has no database name")?;
    Ok((format!("{server}/{name}"), name))
}

async fn drop_pg(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

async fn run() -> Result<(), String> {
    let mut outcomes = Vec::new();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}", dir.path().join("storm.db").display());
    outcomes.push(storm("SQLite (file, WAL)", &sqlite).await?);
    match std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL")) {
        Ok(admin) => {
            let (url, name) = scratch_pg(&admin).await?;
            let r = storm("PostgreSQL", &url).await;
            drop_pg(&admin, &name).await;
            outcomes.push(r?);
        }
        Err(_) => println!("PostgreSQL skipped: set TEST_DATABASE_URL (or BENCH_DATABASE_URL)"),
    }
    println!(
        "\n| database | clients | booked (201) | taken (409) | other | bookings/s | p50 | p99 | max | double bookings | raw commits/s | bookings/s ÷ raw |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut failed = false;
    for o in &outcomes {
        let per_s = o.booked as f64 / o.wall.as_secs_f64();
        let ratio = per_s / o.raw_per_s;
        println!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms | {} | {:.0} | {:.3} |",
            o.label,
            o.requests,
            o.booked,
            o.taken,
            o.other,
            per_s,
            o.p50.as_secs_f64() * 1e3,
            o.p99.as_secs_f64() * 1e3,
            o.max.as_secs_f64() * 1e3,
            o.doubles,
            o.raw_per_s,
            ratio,
        );
        let verdict = if ratio >= 0.3 { "met" } else { "NOT met" };
        println!(
            "  {}: target bookings/s ≥ 0.3× raw commit rate: {verdict}; live booking rows {} (201s {}); \
             one client booking sequentially: {:.0} bookings/s ({:.1} ms each)",
            o.label,
            o.rows,
            o.booked,
            o.sequential_per_s,
            1e3 / o.sequential_per_s
        );
        if o.doubles != 0 || o.rows != o.booked as i64 {
            failed = true;
        }
    }
    if failed {
        return Err("double bookings or lost bookings found".into());
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run())
}
