//! `releasebot run` as its own process, as an operator runs it: started on
//! a config (with its `[store]`), killed as SIGKILL would, stopped with
//! SIGTERM, and its store read back through `export`. Shared by the kill
//! tests and `examples/failover_bench`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use releasebot::store::testkit::TestSchema;
use serde_json::Value;

/// The variables the test configs name for tokens and secrets.
pub const SECRETS: &[(&str, &str)] = &[
    ("RB_TEST_SLACK_BOT_TOKEN", "xoxb-fake-bot-token"),
    ("RB_TEST_SLACK_APP_TOKEN", "xapp-1-fake-app-token"),
    (
        "RB_TEST_SLACK_SIGNING_SECRET",
        "8f742231b10e8888abcd99yyyzzz85a5",
    ),
    ("RB_TEST_DISCORD_TOKEN", "fake.discord.bot-token"),
    ("RB_TEST_CI_SECRET", "fake-ci-secret"),
];

/// A data dir (or PostgreSQL schema) and a config that instances share.
/// The `releasebot` binary: cargo names it to tests; an example finds it
/// beside its own folder (`target/release/examples/..`), so build it first.
fn binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_releasebot") {
        return PathBuf::from(path);
    }
    let me = std::env::current_exe().expect("the running example's path");
    me.parent()
        .and_then(|examples| examples.parent())
        .map(|target| target.join("releasebot"))
        .expect("target/<profile>/releasebot")
}

pub struct Instance {
    dir: tempfile::TempDir,
    config: PathBuf,
    _schema: Option<TestSchema>,
    /// The Discord app's public key, hex, for `public_key_env`.
    pub discord_public_key: Option<String>,
}

/// A running `releasebot run`, and the address of its HTTP listener.
pub struct Running {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, the HTTP listener.
    pub http: String,
}

impl Instance {
    /// On sled, or with `postgres_url` on a schema of its own.
    pub fn new(config_text: &str, postgres_url: Option<&str>) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let schema = postgres_url.map(TestSchema::new);
        let store = schema.as_ref().map_or(String::new(), |schema| {
            format!(
                "\n[store]\nbackend = \"postgres\"\nurl_env = \"RELEASEBOT_TEST_DATABASE_URL\"\nschema = \"{}\"\n",
                schema.name
            )
        });
        let config = dir.path().join("releasebot.toml");
        std::fs::write(&config, format!("{config_text}{store}")).unwrap();
        Instance {
            dir,
            config,
            _schema: schema,
            discord_public_key: None,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .env_remove("RELEASEBOT_FAILPOINTS")
            .envs(SECRETS.iter().copied())
            .env("RUST_LOG", "warn");
        if let Some(key) = &self.discord_public_key {
            command.env("RB_TEST_DISCORD_PUBLIC_KEY", key);
        }
        command
    }

    /// Starts `releasebot run`, armed to abort at `failpoint`; returns once
    /// its HTTP listener is up.
    pub async fn spawn(&self, failpoint: Option<&str>) -> Running {
        let mut command = self.command(&["run"]);
        if let Some(point) = failpoint {
            command.env("RELEASEBOT_FAILPOINTS", point);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn releasebot run");
        let (found, listening) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line
                    .split_once("HTTP listening on ")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                {
                    let _ = found.send(url.to_string());
                }
                // Kept draining, so the child never blocks on a full pipe.
                if std::env::var_os("RB_TEST_SHOW_RUN").is_some() {
                    eprintln!("  [run] {line}");
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let http = loop {
            if let Ok(url) = listening.try_recv() {
                break url;
            }
            assert!(Instant::now() < deadline, "run did not start listening");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Running { child, http }
    }

    /// Every release, as `export` prints it (read with the bot stopped,
    /// on sled).
    pub fn export(&self) -> Vec<Value> {
        let output = self.command(&["export"]).output().unwrap();
        assert!(
            output.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// How many releases the store holds.
    pub fn releases(&self) -> usize {
        self.export().len()
    }
}

impl Running {
    /// Waits for the failpoint to abort the process.
    pub async fn killed(mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the failpoint did not stop the process"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it cleanly (SIGTERM), so that the store can be read.
    pub async fn stop(mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "run did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
