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

    /// Directory of static assets.
    #[arg(long, env = "CHERGA_STATIC_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/static"))]
    pub static_dir: std::path::PathBuf,

    #[command(flatten)]
    pub booking: BookingSettings,
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

/// Limits of online booking (issue 6). Each has a flag and a variable; the README lists them.
#[derive(Debug, Clone, clap::Args)]
pub struct BookingSettings {
    /// Minutes between now and the earliest bookable start.
    #[arg(long, env = "CHERGA_BOOKING_MIN_NOTICE_MINUTES", default_value_t = 60)]
    pub booking_min_notice_minutes: u32,

    /// How many days ahead residents may book.
    #[arg(long, env = "CHERGA_BOOKING_HORIZON_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub booking_horizon_days: u32,

    /// Minutes a pending booking holds its time awaiting email confirmation.
    #[arg(long, env = "CHERGA_BOOKING_HOLD_MINUTES", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub booking_hold_minutes: u32,

    /// Ask residents who give an email to confirm their booking through it.
    #[arg(long, env = "CHERGA_BOOKING_EMAIL_CONFIRMATION", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub booking_email_confirmation: bool,

    /// Active bookings one person (phone, email or account number) may hold; 0: no cap.
    #[arg(long, env = "CHERGA_BOOKING_MAX_ACTIVE", default_value_t = 3)]
    pub booking_max_active: u32,

    /// No-shows within the window that block online booking; 0: never block.
    #[arg(long, env = "CHERGA_BOOKING_NO_SHOW_LIMIT", default_value_t = 3)]
    pub booking_no_show_limit: u32,

    /// The window (days) in which no-shows count.
    #[arg(long, env = "CHERGA_BOOKING_NO_SHOW_DAYS", default_value_t = 30)]
    pub booking_no_show_days: u32,

    /// Minutes before a cancelled time returns to availability.
    #[arg(
        long,
        env = "CHERGA_BOOKING_RELEASE_DELAY_MINUTES",
        default_value_t = 15
    )]
    pub booking_release_delay_minutes: u32,

    /// Booking requests (create, reschedule) per client IP per minute; 0: no limit.
    #[arg(long, env = "CHERGA_BOOKING_RATE_PER_MINUTE", default_value_t = 10)]
    pub booking_rate_per_minute: u32,

    /// Availability requests per client IP per minute; 0: no limit.
    #[arg(
        long,
        env = "CHERGA_AVAILABILITY_RATE_PER_MINUTE",
        default_value_t = 120
    )]
    pub availability_rate_per_minute: u32,
}

impl Config {
    /// The booking rules as the domain reads them.
    pub fn booking_policy(&self) -> crate::domain::booking::Policy {
        let b = &self.booking;
        crate::domain::booking::Policy {
            min_notice_minutes: i64::from(b.booking_min_notice_minutes),
            horizon_days: i64::from(b.booking_horizon_days),
            hold_minutes: i64::from(b.booking_hold_minutes),
            email_confirmation: b.booking_email_confirmation,
            max_active_per_person: b.booking_max_active,
            no_show_limit: b.booking_no_show_limit,
            no_show_window_days: i64::from(b.booking_no_show_days),
            release_delay_minutes: i64::from(b.booking_release_delay_minutes),
            open_ended_factor: self.open_ended_factor,
        }
    }
}
