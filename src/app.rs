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
    crate::web::router(AppState {
        db,
        config: Arc::new(config),
        rules: Arc::new(rules),
    })
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
    let (stop_workers, stop_rx) = tokio::sync::watch::channel(false);
    let holds = crate::holds::spawn(db.clone(), std::time::Duration::from_secs(30), stop_rx);
    let app = router(db.clone(), config, rules);
    // Connect info gives the booking rate limits the client's address.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!("shutting down");
    let _ = stop_workers.send(true);
    let _ = holds.await;
    let _ = db.close().await;
    Ok(())
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
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://***@h/db"
        );
        assert_eq!(super::redact("sqlite://cherga.db"), "sqlite://cherga.db");
    }
}
