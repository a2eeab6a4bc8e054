//! Benchmark of the monthly charge run (docs/BENCHMARKS.md, section "Charge run").
//!
//! `cargo run --release --bin charge_run_bench -- DATABASE_URL ACCOUNTS [BATCH]`
//! on an empty database: generates ACCOUNTS accounts × 5 services, then times
//! (1) a raw multi-row INSERT of ACCOUNTS × 5 ledger-shaped rows into a scratch table of the same
//! database (the baseline) and (2) the charge run of one month (ACCOUNTS × 5 entries), and prints
//! entries/s of both and the peak resident memory (VmHWM) after each phase.

use std::time::Instant;

use cherga::domain::rules::calendar::YearMonth;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn exec(db: &impl ConnectionTrait, sql: &str) -> Result<(), String> {
    db.execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e}: {}", &sql[..sql.len().min(200)]))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/cherga-bench.db?mode=rwc".into());
    let n: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // The API's batch size by default (`CHARGE_RUN_BATCH`).
    let batch: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);
    println!(
        "{} build, {n} accounts, batches of {batch}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let db = Database::connect(&url).await.map_err(|e| e.to_string())?;
    cherga::store::migrate(&db)
        .await
        .map_err(|e| e.to_string())?;
    let pg = db.get_database_backend() == DatabaseBackend::Postgres;
    if !pg {
        exec(&db, "PRAGMA journal_mode=WAL").await?;
        exec(&db, "PRAGMA synchronous=NORMAL").await?;
    }
    let month = YearMonth::new(2026, 3).ok_or("month")?;
    for (service, price, norm) in [
        ("cold_water", 3250, 3500),
        ("hot_water", 11200, 1700),
        ("waste", 4980, 1000),
        ("maintenance", 680, 1000),
        ("heating", 3870, 1000),
    ] {
        exec(
            &db,
            &format!(
                "INSERT INTO tariff (service, price_kop, norm_milli, valid_from, valid_to) VALUES ('{service}', {price}, {norm}, '2025-01-01', NULL)"
            ),
        )
        .await?;
    }
    let now = "2026-03-01 00:00:00+00:00";
    let t0 = Instant::now();
    let chunk = 1000;
    let mut id = 0;
    while id < n {
        let upto = (id + chunk).min(n);
        let rows: Vec<String> = (id..upto)
            .map(|i| {
                format!(
                    "('B{i:09}', 'Owner {i}', 'Street {}, {}', {}, {}, {}, '{now}', 0)",
                    i / 100,
                    i % 100,
                    400_000 + (i % 500) * 1000,
                    380_000 + (i % 500) * 1000,
                    1 + i % 5
                )
            })
            .collect();
        exec(&db, &format!("INSERT INTO account (number, owner_name, address, total_area_cm2, heated_area_cm2, registered_residents, created_at, version) VALUES {}", rows.join(","))).await?;
        id = upto;
    }
    exec(
        &db,
        "INSERT INTO account_service (account_id, service, basis, active) \
         SELECT id, 'cold_water', 'per_person', true FROM account UNION ALL \
         SELECT id, 'hot_water', 'per_person', true FROM account UNION ALL \
         SELECT id, 'waste', 'per_person', true FROM account UNION ALL \
         SELECT id, 'maintenance', 'per_area', true FROM account UNION ALL \
         SELECT id, 'heating', 'per_heated_area', true FROM account",
    )
    .await?;
    println!(
        "setup: {n} accounts × 5 services in {:.1}s; peak {} KiB",
        t0.elapsed().as_secs_f64(),
        peak_kib()
    );

    // Baseline: the same number of ledger-shaped rows, raw multi-row INSERTs of 1000 rows.
    exec(&db, "CREATE TABLE bench_raw (id integer, account_id integer, period varchar, service varchar, kind varchar, amount_kop bigint, unique_key varchar, created_at varchar)").await?;
    let total = n * 5;
    let t1 = Instant::now();
    let mut k = 0;
    while k < total {
        let upto = (k + chunk).min(total);
        let rows: Vec<String> = (k..upto)
            .map(|i| {
                format!(
                    "({i}, {}, '2026-03', 's{}', 'charge', {}, 'charge:2026-03:s{}', '{now}')",
                    i / 5,
                    i % 5,
                    1000 + i % 7919,
                    i % 5
                )
            })
            .collect();
        let sql = format!("INSERT INTO bench_raw VALUES {}", rows.join(","));
        if pg {
            db.execute_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
                .await
                .map_err(|e| e.to_string())?;
        } else {
            exec(&db, &sql).await?;
        }
        k = upto;
    }
    let raw_s = t1.elapsed().as_secs_f64();
    let raw_rate = total as f64 / raw_s;
    println!(
        "raw insert: {total} rows in {raw_s:.2}s = {raw_rate:.0} rows/s; peak {} KiB",
        peak_kib()
    );

    let t2 = Instant::now();
    let r = cherga::store::case::charge_run(&db, month, batch)
        .await
        .map_err(|e| e.to_string())?;
    let run_s = t2.elapsed().as_secs_f64();
    let run_rate = r.posted_now as f64 / run_s;
    println!(
        "charge run: {} entries in {run_s:.2}s = {run_rate:.0} entries/s ({:.2}× raw); peak {} KiB",
        r.posted_now,
        run_rate / raw_rate,
        peak_kib()
    );
    let t3 = Instant::now();
    let again = cherga::store::case::charge_run(&db, month, batch)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "second run: {} entries in {:.2}s",
        again.posted_now,
        t3.elapsed().as_secs_f64()
    );
    Ok(())
}
