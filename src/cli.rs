//! The command line: global options and one function per subcommand.

use std::collections::HashMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::app::App;
use crate::chat::adapters::Adapters;
use crate::chat::shell::{self, Shell, ShellSink};
use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::config::store::StoreSettings;
use crate::config::{self, Config};
use crate::domain::ids::{ReleaseId, UserRef};
use crate::engine::Engine;
use crate::notify::ChatSink;
use crate::store::{audit, Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "releasebot",
    version,
    about = "Release requests, approvals, deploys and rollbacks from chat"
)]
pub struct Cli {
    /// The config file.
    #[arg(long, global = true, env = "RELEASEBOT_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// The sled data directory (default: the config's bot.data_dir, else ./data).
    #[arg(long, global = true, env = "RELEASEBOT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Pretend the clock started at this RFC 3339 instant (for demos and tests).
    #[arg(long, global = true, env = "RELEASEBOT_CLOCK", hide = true)]
    pub clock: Option<DateTime<Utc>>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local chat shell: type commands as a user would in Slack.
    Shell {
        /// Act as this user (`bob` means `shell:bob`).
        #[arg(long = "as")]
        user: Option<String>,
    },
    /// Run the bot: chat adapters, relay, notifier and the HTTP listener, until SIGINT/SIGTERM.
    Run {
        /// Serve HTTP here (overrides http.listen), e.g. 127.0.0.1:8686; port 0 picks one.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Check the config file and say what is wrong, with key paths and lines.
    CheckConfig,
    /// Print the link that adds the bot to a Discord server with the permissions it needs.
    DiscordInvite {
        /// The application id (default: `[discord] application_id`).
        #[arg(long)]
        application_id: Option<u64>,
    },
    /// Print every release as a JSON array.
    Export,
    /// Read releases exported by `export` (from FILE or stdin) into an empty-id range.
    Import { file: Option<PathBuf> },
    /// Move the bot's state between backends (stop the bot first).
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Print the audit log, or verify its hash chain.
    Audit {
        /// One JSON array instead of lines.
        #[arg(long)]
        json: bool,
        /// Only this release's entries.
        #[arg(long)]
        release: Option<String>,
        #[command(subcommand)]
        action: Option<AuditAction>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Copy everything into an empty store of the other backend: `--to
    /// postgres` reads the data dir and writes the database `[store]` (or
    /// $DATABASE_URL) names; `--to sled` the other way, into a new data dir.
    Copy {
        #[arg(long, value_parser = ["postgres", "sled"])]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Exit non-zero and name the first broken entry if the chain was tampered with.
    Verify,
}

impl Cli {
    fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config)?)
    }

    fn data_dir(&self, config: Option<&Config>) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| config.and_then(|c| c.data_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("./data"))
    }

    fn clock(&self) -> Arc<dyn Clock> {
        match self.clock {
            Some(start) => Arc::new(OffsetClock::starting_at(start)),
            None => Arc::new(SystemClock),
        }
    }

    fn open(&self) -> anyhow::Result<(Arc<Config>, Store)> {
        let config = Arc::new(self.load_config()?);
        let store = self.open_store(Some(&config))?;
        Ok((config, store))
    }

    /// The store the config names: sled in the data dir, or PostgreSQL.
    fn open_store(&self, config: Option<&Config>) -> Result<Store, StoreError> {
        open_store(&self.data_dir(config), config)
    }

    /// Like `open_store`, but waits out a database that is down, with
    /// backoff, until it answers or the process is told to stop (`None`).
    async fn open_store_waiting(&self, config: &Arc<Config>) -> anyhow::Result<Option<Store>> {
        let mut wait = std::time::Duration::from_secs(1);
        loop {
            let (data_dir, config) = (self.data_dir(Some(config)), config.clone());
            let attempt = crate::engine::off_async_threads("opening the store", move || {
                open_store(&data_dir, Some(&config))
            })
            .await?;
            match attempt {
                Ok(store) => return Ok(Some(store)),
                Err(StoreError::Unavailable(why)) => {
                    tracing::error!(
                        "the store is unavailable ({why}); retrying in {} s",
                        wait.as_secs()
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = termination() => return Ok(None),
                    }
                    wait = (wait * 2).min(std::time::Duration::from_secs(30));
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
}

fn open_store(data_dir: &std::path::Path, config: Option<&Config>) -> Result<Store, StoreError> {
    match config.map(|c| &c.store) {
        Some(StoreSettings::Postgres(settings)) => Store::connect(&settings.options()?),
        Some(StoreSettings::Sled(settings)) => Store::open_with(data_dir, settings),
        None => Store::open(data_dir),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Shell { user } => shell_command(&cli, user.clone()),
        Command::Run { listen } => run_command(&cli, *listen),
        Command::CheckConfig => check_config(&cli),
        Command::DiscordInvite { application_id } => discord_invite(&cli, *application_id),
        Command::Export => export(&cli),
        Command::Import { file } => import(&cli, file.clone()),
        Command::Store {
            action: StoreAction::Copy { to },
        } => store_copy(&cli, to),
        Command::Audit {
            json,
            release,
            action,
        } => audit_command(&cli, *json, release.as_deref(), action.is_some()),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Resolves after SIGINT or SIGTERM.
async fn termination() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn start_app(cli: &Cli, out: shell::ShellOut) -> anyhow::Result<(Arc<Config>, App)> {
    let (config, store) = cli.open()?;
    let clock = cli.clock();
    let engine = Engine::new(store, config.clone(), clock.clone());
    let mut sinks: HashMap<String, Arc<dyn ChatSink>> = HashMap::new();
    sinks.insert("shell".to_string(), Arc::new(ShellSink::new(out)));
    Ok((config, App::start(engine, clock, sinks)))
}

fn shell_command(cli: &Cli, user: Option<String>) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let out = shell::stdout_out();
        let (config, app) = start_app(cli, out.clone())?;
        let user = match user {
            Some(name) if name.contains(':') => UserRef::parse(&name)?,
            Some(name) => UserRef::parse(&format!("shell:{name}"))?,
            None => config.shell_user.clone(),
        };
        let stdin = io::stdin();
        let interactive = stdin.is_terminal();
        let input: Box<dyn BufRead + Send> = Box::new(io::BufReader::new(stdin));
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let signals = tokio::spawn(async move {
            termination().await;
            let _ = stop_tx.send(true);
        });
        Shell::new(&app, user, out.clone(), interactive)
            .run(input, stop)
            .await;
        signals.abort();
        app.stop().await;
        // Announcements the workers printed last may still sit in the buffer.
        if let Ok(mut out) = out.lock() {
            let _ = out.flush();
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn run_command(cli: &Cli, listen: Option<std::net::SocketAddr>) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let config = Arc::new(cli.load_config()?);
        let Some(store) = cli.open_store_waiting(&config).await? else {
            tracing::info!("stopped before the store answered");
            return Ok(ExitCode::FAILURE);
        };
        tracing::info!(backend = store.kind(), "store open");
        let clock = cli.clock();
        let engine = Engine::new(store, config.clone(), clock.clone());
        let mut sinks: HashMap<String, Arc<dyn ChatSink>> = HashMap::new();
        sinks.insert("shell".to_string(), Arc::new(ShellSink::new(shell::stdout_out())));
        let (mut app, adapters) = Adapters::start(engine, clock, sinks)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if let Some(address) = listen.or(config.http_listen) {
            let bound = app.serve_http(address).await.with_context(|| format!("binding the HTTP listener to {address}"))?;
            // On stderr as a plain line too, so scripts using port 0 can find it.
            let slack_paths = match config.slack.as_ref().map(|s| s.mode) {
                Some(config::SlackMode::Http) => ", /slack/commands, /slack/interactions, /slack/events",
                _ => "",
            };
            let discord_path = match config.discord.as_ref().and_then(|d| d.public_key.as_ref()) {
                Some(_) => ", /discord/interactions",
                None => "",
            };
            eprintln!("releasebot: HTTP listening on http://{bound} (/healthz, /metrics, /ci/callback, /calendar.ics{slack_paths}{discord_path})");
        }
        tracing::info!(
            environments = %config.environment_names(),
            services = %config.service_names(),
            "releasebot running: relay and notifier started; chat adapters: shell channels print here (interactive shell: `releasebot shell`)"
        );
        // What starting freed goes back now, and what work frees, each minute.
        let give_back = tokio::spawn(crate::memory::give_back_every(
            std::time::Duration::from_secs(60),
        ));
        termination().await;
        give_back.abort();
        tracing::info!("stopping: finishing in-flight work and flushing the store");
        adapters.stop().await;
        app.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn discord_invite(cli: &Cli, application_id: Option<u64>) -> anyhow::Result<ExitCode> {
    let from_config = || {
        let text = std::fs::read_to_string(&cli.config).ok()?;
        let raw: toml::Value = toml::from_str(&text).ok()?;
        raw.get("discord")?
            .get("application_id")?
            .as_str()?
            .parse::<u64>()
            .ok()
    };
    match application_id.or_else(from_config) {
        Some(id) => {
            println!("{}", crate::chat::discord::invite_url(id));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "no application id: pass --application-id or set [discord] application_id in {}",
                cli.config.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check_config(cli: &Cli) -> anyhow::Result<ExitCode> {
    match Config::load(&cli.config) {
        Ok(config) => {
            // The database URL lives in the environment: check it is there
            // and readable, naming host and database, never the password.
            let store = match &config.store {
                StoreSettings::Sled(settings) => Ok(format!(
                    "sled in {} (cache {} MiB)",
                    cli.data_dir(Some(&config)).display(),
                    settings.cache_bytes / (1024 * 1024)
                )),
                StoreSettings::Postgres(settings) => settings.options().map(|options| {
                    format!(
                        "{}, {} (URL from ${})",
                        crate::store::postgres::describe(&options.url),
                        crate::store::postgres::describe_tls(&options.url),
                        settings.url_env
                    )
                }),
            };
            let store = match store {
                Ok(store) => store,
                Err(error) => {
                    println!("{}: store.url_env: {error}", cli.config.display());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let users = config.directory.users().count();
            println!(
                "{} is valid: {} service(s) ({}), {} environment(s) ({}), {users} user(s) with roles; store: {store}.",
                cli.config.display(),
                config.services.len(),
                config.service_names(),
                config.environments.len(),
                config.environment_names()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `store copy --to postgres|sled`.
fn store_copy(cli: &Cli, to: &str) -> anyhow::Result<ExitCode> {
    let config = cli.load_config().ok();
    let postgres = match config.as_ref().map(|c| &c.store) {
        Some(StoreSettings::Postgres(settings)) => settings.clone(),
        _ => crate::config::store::PostgresSettings::default(),
    };
    let sled = || open_store(&cli.data_dir(config.as_ref()), None);
    let database = || Store::connect(&postgres.options()?);
    let (from, into) = match to {
        "postgres" => (sled()?, database()?),
        _ => (database()?, sled()?),
    };
    let report = crate::store::copy(&from, &into)?;
    println!("Copied from {} to {}: {report}.", from.kind(), into.kind());
    Ok(ExitCode::SUCCESS)
}

fn export(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = cli.load_config().ok();
    let store = cli.open_store(config.as_ref())?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    out.write_all(b"[")?;
    for (i, release) in store.all_releases().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut out, &release?)?;
    }
    out.write_all(b"\n]\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn import(cli: &Cli, file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let text = match &file {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => io::read_to_string(io::stdin()).context("reading stdin")?,
    };
    let releases: Vec<crate::domain::release::Release> = serde_json::from_str(&text)
        .context("the input is not an export (a JSON array of releases)")?;
    let (config, store) = cli.open()?;
    let engine = Engine::new(store, config, cli.clock());
    let count = engine.import(releases)?;
    println!("Imported {count} release(s).");
    Ok(ExitCode::SUCCESS)
}

fn audit_command(
    cli: &Cli,
    json: bool,
    release: Option<&str>,
    verify: bool,
) -> anyhow::Result<ExitCode> {
    let config = cli.load_config().ok();
    let store = cli.open_store(config.as_ref())?;
    if verify {
        let entries = store.audit_log().collect::<Result<Vec<_>, _>>()?;
        return Ok(match audit::verify(&entries) {
            Ok(count) => {
                println!("Audit log intact: {count} entries.");
                ExitCode::SUCCESS
            }
            Err(broken) => {
                println!("Audit log broken at entry #{}: {}.", broken.seq, broken.why);
                ExitCode::FAILURE
            }
        });
    }
    let entries = match release {
        Some(id) => store.audit_for(ReleaseId::parse(id)?)?,
        None => store.audit_log().collect::<Result<Vec<_>, _>>()?,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &entries)?;
        writeln!(out)?;
    } else {
        for entry in entries {
            writeln!(out, "{}", entry.to_line())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
