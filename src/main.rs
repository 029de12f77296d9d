//! `releasebot`: parse the command line, set up logging, hand over to `cli`.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    releasebot::memory::limit_arenas();
    let cli = releasebot::cli::Cli::parse();
    // Logs go to stderr so that the shell's stdout stays clean for scripts.
    let default_level = if matches!(cli.command, releasebot::cli::Command::Run { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    match releasebot::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
