//! Settings from command-line flags and environment variables. A flag wins over its variable.

use std::net::SocketAddr;

use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "cherga",
    version,
    about = "cherga: electronic queue and appointment system for communal service centers"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load a catalog file (TOML, the format of data/catalog.toml) into the database and exit.
    /// Services are matched by code, so bookings and history keep pointing at them.
    ImportCatalog {
        /// Path to the catalog file.
        file: std::path::PathBuf,
    },
    /// Write the catalog in the database (with the admin's edits) in the same format, to FILE or
    /// to standard output. Importing it unchanged changes nothing.
    ExportCatalog {
        /// Path to write; standard output when left out.
        file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CHERGA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://cherga.db")]
    pub database_url: String,

    /// Maximum database connections. Default: 4 for a SQLite file (WAL lets readers run beside
    /// the one writer; more connections only queue on the write lock), 1 for in-memory SQLite,
    /// 10 for PostgreSQL.
    #[arg(long, env = "CHERGA_DB_POOL")]
    pub db_pool: Option<u32>,

    /// Load demo data (an office, specialists, accounts) into an empty database.
    #[arg(long, env = "CHERGA_DEMO", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Skip the demo data (the catalog is still loaded). Same as `--demo false`.
    #[arg(long)]
    pub no_demo: bool,

    /// Password for the `admin` account created on first start. Without it a random one is
    /// generated and printed once.
    #[arg(long, env = "CHERGA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Slot grid in minutes for offices created by default and for planned booking lengths.
    #[arg(long, env = "CHERGA_SLOT_MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub slot_minutes: u32,

    /// Planned length of an open-ended service ("від 10 хв") as a multiple of its lower bound.
    #[arg(long, env = "CHERGA_OPEN_ENDED_FACTOR", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub open_ended_factor: u32,

    /// Mark cookies `Secure` (set when served over HTTPS).
    #[arg(long, env = "CHERGA_SECURE_COOKIES", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Staff session lifetime in hours.
    #[arg(long, env = "CHERGA_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_hours: u32,

    /// Log format.
    #[arg(long, env = "CHERGA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Directory of static assets, overriding the ones embedded in the binary.
    #[arg(long, env = "CHERGA_STATIC_DIR")]
    pub static_dir: Option<std::path::PathBuf>,
}

impl Config {
    pub fn demo_enabled(&self) -> bool {
        self.demo && !self.no_demo
    }

    /// Settings for tests and embedding: defaults with the given database.
    pub fn for_database(database_url: &str) -> Config {
        let mut cli = Cli::parse_from(["cherga"]);
        cli.config.database_url = database_url.to_string();
        cli.config
    }
}
