use clap::Parser;

use cherga::config::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cherga::app::init_tracing(cli.config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => cherga::app::serve(cli.config).await,
        Command::Migrate => cherga::app::migrate_only(&cli.config).await,
        Command::ImportCatalog { file } => {
            cherga::app::import_catalog_file(&cli.config, &file).await
        }
        Command::ChargeRun { month } => cherga::app::charge_run(&cli.config, &month).await,
        Command::ExportCatalog { file } => {
            cherga::app::export_catalog_file(&cli.config, file.as_deref()).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cherga: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
