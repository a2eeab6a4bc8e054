//! The home page against `/healthz` of the same server in the same run (issue 9, item 10: the
//! home page was 0.028× the `/healthz` rate; the target is ≥ 0.3×). Also the services API and the
//! calculators index. Drives the server with `wrk` (Debian package `wrk`).
//!
//! ```sh
//! cargo bench --bench home_vs_healthz            # 10 s per path
//! BENCH_SECONDS=5 cargo bench --bench home_vs_healthz
//! ```

use std::process::Command;

fn wrk(url: &str, seconds: u32) -> Result<f64, String> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c64",
            &format!("-d{seconds}s"),
            "-H",
            "Accept-Language: uk",
        ])
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk (apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("no rate in wrk's output:\n{text}"))?;
    if text.contains("Non-2xx") {
        return Err(format!("errors from {url}:\n{text}"));
    }
    Ok(rate)
}

fn main() -> Result<(), String> {
    let seconds: u32 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let addr = rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let mut config = cherga::config::Config::for_database(&url);
        config.admin_password = Some("bench-password".into());
        let (db, _) = cherga::app::prepare(&config).await?;
        let rules = cherga::app::bundled_rules()?;
        let app = cherga::app::router(db, config, rules);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok::<_, String>(addr)
    })?;
    let base = format!("http://{addr}");
    println!("cherga bench: wrk -t2 -c64 -d{seconds}s against {base} (SQLite file)");
    let healthz = wrk(&format!("{base}/healthz"), seconds)?;
    println!("| path | req/s | × /healthz |\n|---|---:|---:|");
    println!("| /healthz | {healthz:.0} | 1.000 |");
    let mut home_ratio = 0.0;
    for path in ["/", "/?q=довідка", "/api/v1/services", "/calculators/"] {
        let url = format!(
            "{base}{}",
            path.replace("довідка", "%D0%B4%D0%BE%D0%B2%D1%96%D0%B4%D0%BA%D0%B0")
        );
        let rate = wrk(&url, seconds)?;
        let ratio = rate / healthz;
        if path == "/" {
            home_ratio = ratio;
        }
        println!("| {path} | {rate:.0} | {ratio:.3} |");
    }
    let verdict = if home_ratio >= 0.3 { "met" } else { "NOT met" };
    println!("target: home page ≥ 0.3× /healthz: {verdict} ({home_ratio:.3})");
    Ok(())
}
