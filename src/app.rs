//! Builds the state and the router, prepares the database, runs the server until a signal.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::config::{Config, LogFormat};
use crate::domain::catalog;
use crate::domain::rules::RuleSetRegistry;
use crate::store;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Recalculation rule sets, loaded and checked once at start-up.
    pub rules: Arc<RuleSetRegistry>,
    /// Board events fan-out (queue area).
    pub board: Arc<crate::events::Hub>,
    /// Anonymous kiosk tickets per address (queue area).
    pub kiosk_limit: Arc<crate::web::api::queue::IpLimiter>,
    /// Password hashing off the async workers, with a bound on the work in flight.
    pub hashing: Arc<crate::security::HashPool>,
    /// Sign-in locks this instance has seen (the `login_throttle` table is the truth).
    pub login_locks: Arc<store::staff::ThrottleMemo>,
    /// Read-mostly data kept in memory (the catalog), see `store::cache`.
    pub caches: Arc<store::cache::Caches>,
    /// The connection bookings write through (`store::Writer`).
    pub writer: Arc<store::Writer>,
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// What first start printed or did, for the caller (the binary prints it; tests read it).
#[derive(Debug, Default)]
pub struct Bootstrap {
    pub generated_admin_password: Option<String>,
    pub catalog_loaded: bool,
    pub demo_loaded: bool,
}

/// Connects, migrates, and on an empty database loads the catalog, the admin account and
/// (unless turned off) the demo data.
pub async fn prepare(config: &Config) -> Result<(DatabaseConnection, Bootstrap), String> {
    let db = store::connect(config)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", config.database_url))?;
    store::migrate(&db)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    // why: a fresh pool after the migrations: on a SQLite file a connection opened before them
    // keeps the old schema until it notices the change, and a demo insert once came back
    // without a column the migrations had just added. Costs one reconnect at start (an
    // in-memory database lives in its connection, so it keeps it).
    let db = if store::is_sqlite_file(&config.database_url) {
        let _ = db.close().await;
        store::connect(config)
            .await
            .map_err(|e| format!("cannot open database {}: {e}", config.database_url))?
    } else {
        db
    };
    let mut boot = Bootstrap::default();
    if store::catalog::is_empty(&db)
        .await
        .map_err(|e| e.to_string())?
    {
        let bundled = catalog::bundled().map_err(|e| format!("bundled catalog: {e}"))?;
        store::catalog::import(&db, &bundled)
            .await
            .map_err(|e| format!("loading the catalog: {e}"))?;
        boot.catalog_loaded = true;
    }
    if store::staff::count(&db).await.map_err(|e| e.to_string())? == 0 {
        let (password, generated) = match &config.admin_password {
            Some(p) if !p.is_empty() => (p.clone(), false),
            _ => (crate::security::random_password(), true),
        };
        store::staff::create_user(
            &db,
            "admin",
            "Адміністратор",
            crate::domain::staff::Role::Admin,
            &password,
        )
        .await
        .map_err(|e| format!("creating the admin account: {e}"))?;
        if generated {
            boot.generated_admin_password = Some(password);
        }
    }
    if config.demo_enabled() {
        boot.demo_loaded = store::demo::load(&db, config.slot_minutes)
            .await
            .map_err(|e| format!("loading demo data: {e}"))?;
    }
    Ok((db, boot))
}

/// The rule sets shipped with the program. They are checked by unit tests, so failing here
/// means a broken build, reported as a start-up error rather than a panic.
pub fn bundled_rules() -> Result<RuleSetRegistry, String> {
    RuleSetRegistry::embedded().map_err(|e| format!("bundled rule sets: {e}"))
}

pub fn router(db: DatabaseConnection, config: Config, rules: RuleSetRegistry) -> axum::Router {
    crate::web::router(state(db, config, rules))
}

/// The state every handler shares; `serve` and the tests build it the same way.
pub fn state(db: DatabaseConnection, config: Config, rules: RuleSetRegistry) -> AppState {
    AppState {
        board: Arc::new(crate::events::Hub::new(db.clone())),
        kiosk_limit: Arc::new(crate::web::api::queue::IpLimiter::new(
            config.kiosk_tickets_per_hour,
        )),
        writer: Arc::new(store::Writer::new(&config)),
        db,
        config: Arc::new(config),
        rules: Arc::new(rules),
        hashing: Arc::new(crate::security::HashPool::for_this_machine()),
        login_locks: Arc::default(),
        caches: Arc::new(store::cache::Caches::default()),
    }
}

pub async fn serve(config: Config) -> Result<(), String> {
    let rules = bundled_rules()?;
    let (db, boot) = prepare(&config).await?;
    if let Some(p) = &boot.generated_admin_password {
        // Printed once, on the start that created the account; never logged.
        println!("cherga: created staff account `admin` with password: {p}");
        println!("cherga: set CHERGA_ADMIN_PASSWORD to choose it; change it after signing in.");
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests start the binary on port 0 and read the real address from this line.
    println!("cherga: listening on http://{addr}");
    tracing::info!(%addr, database = %redact(&config.database_url), "cherga started");
    // Background workers stop when `stop` turns true, after the server has drained.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    let mail = crate::mail::worker::MailWorker::from_config(db.clone(), &config)?;
    if !mail.enabled() {
        tracing::info!("no CHERGA_SMTP_URL: mail stays in the outbox (/admin/outbox)");
    }
    workers.push(spawn_worker(
        "mail",
        stopped.clone(),
        std::time::Duration::from_secs(2),
        move || {
            let mail = mail.clone();
            async move {
                mail.run_once()
                    .await
                    .map(|p| p.busy())
                    .map_err(|e| e.to_string())
            }
        },
    ));
    workers.push(crate::holds::spawn(
        db.clone(),
        std::time::Duration::from_secs(30),
        stopped.clone(),
    ));
    let state = state(db.clone(), config, rules);
    let board = Arc::clone(&state.board);
    board.start();
    workers.push(crate::callbacks::spawn(
        db.clone(),
        crate::web::api::queue::checkin_window(&state),
        Arc::clone(&board),
        std::time::Duration::from_secs(20),
        stopped.clone(),
    ));
    let app = crate::web::router(state);
    let stop_board = Arc::clone(&board);
    axum::serve(
        listener,
        // The kiosk and booking limits and sign-in throttling need the peer address.
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Board sockets and the event pump close with the server.
        stop_board.stop();
    })
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    let _ = db.close().await;
    Ok(())
}

/// Runs a background worker until `stop` turns true: `pass` does one unit of work and says
/// whether there may be more (then it runs again at once) or not (then the worker sleeps
/// `idle`, waking early to stop). A pass in progress is finished, never cut off, so a claimed
/// row is always marked. Copy this for other workers: give `serve` a `spawn_worker` line.
pub fn spawn_worker<F, Fut>(
    name: &'static str,
    mut stop: tokio::sync::watch::Receiver<bool>,
    idle: std::time::Duration,
    mut pass: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, String>> + Send + 'static,
{
    tokio::spawn(async move {
        tracing::info!(worker = name, "worker started");
        while !*stop.borrow() {
            let busy = match pass().await {
                Ok(busy) => busy,
                Err(error) => {
                    tracing::warn!(worker = name, %error, "worker pass failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                changed = stop.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep(idle) => {}
            }
        }
        tracing::info!(worker = name, "worker stopped");
    })
}

pub async fn migrate_only(config: &Config) -> Result<(), String> {
    let db = store::connect(config).await.map_err(|e| e.to_string())?;
    store::migrate(&db).await.map_err(|e| e.to_string())?;
    println!("cherga: migrations applied");
    Ok(())
}

pub async fn import_catalog_file(config: &Config, file: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let parsed = catalog::parse_catalog(&text).map_err(|e| e.to_string())?;
    let db = store::connect(config).await.map_err(|e| e.to_string())?;
    store::migrate(&db).await.map_err(|e| e.to_string())?;
    let report = store::catalog::import(&db, &parsed)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "cherga: catalog imported: {} categories, {} services added, {} updated, {} deactivated",
        report.categories, report.added, report.updated, report.deactivated
    );
    Ok(())
}

/// `cherga charge-run --month YYYY-MM`: the monthly charge run of the case module.
pub async fn charge_run(config: &Config, month: &str) -> Result<(), String> {
    let month = crate::domain::rules::calendar::YearMonth::parse(month).map_err(|t| t.en)?;
    let db = store::connect(config).await.map_err(|e| e.to_string())?;
    store::migrate(&db).await.map_err(|e| e.to_string())?;
    let r = store::case::charge_run(&db, month, crate::web::api::case::CHARGE_RUN_BATCH)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "cherga: charge run {}: {} entries posted now, {} in total ({})",
        r.period, r.posted_now, r.posted, r.status
    );
    Ok(())
}

/// Writes the catalog in the database as a catalog file, to `file` or standard output.
pub async fn export_catalog_file(
    config: &Config,
    file: Option<&std::path::Path>,
) -> Result<(), String> {
    let db = store::connect(config).await.map_err(|e| e.to_string())?;
    store::migrate(&db).await.map_err(|e| e.to_string())?;
    let text = store::catalog::export(&db)
        .await
        .map_err(|e| e.to_string())?;
    match file {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Hides a password in a database URL before it reaches the logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_worker_runs_passes_and_stops_on_the_signal() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let passes = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counter = passes.clone();
        let handle = super::spawn_worker(
            "test",
            stopped,
            std::time::Duration::from_secs(3600),
            move || {
                let counter = counter.clone();
                async move {
                    // Busy for three passes, then idle: the worker must sleep, not spin.
                    Ok(counter.fetch_add(1, Ordering::SeqCst) < 2)
                }
            },
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 3);
        stop.send(true).expect("worker listens");
        tokio::time::timeout(std::time::Duration::from_secs(5), handle)
            .await
            .expect("worker stopped within the timeout")
            .expect("worker did not panic");
        assert_eq!(passes.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://***@h/db"
        );
        assert_eq!(super::redact("sqlite://cherga.db"), "sqlite://cherga.db");
    }
}
