//! Starting the real binary on a temporary data dir with the demo config.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The instant the tests pretend it is; demo dates lie a few days after it.
pub const CLOCK: &str = "2026-11-26T10:00:00Z";

pub fn demo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/releasebot.toml")
}

pub struct Bot {
    pub dir: tempfile::TempDir,
    /// With `RELEASEBOT_TEST_BACKEND=postgres`: the demo config plus a
    /// `[store]` on a schema of this bot's own.
    config: PathBuf,
    _schema: Option<releasebot::store::testkit::TestSchema>,
}

impl Bot {
    pub fn new() -> Bot {
        use releasebot::store::testkit;
        let dir = tempfile::tempdir().unwrap();
        let url = (testkit::backend_under_test() == "postgres").then(|| {
            testkit::database_url("integration suite").unwrap_or_else(|| {
                panic!("RELEASEBOT_TEST_BACKEND=postgres needs RELEASEBOT_TEST_DATABASE_URL")
            })
        });
        let Some(url) = url else {
            return Bot {
                dir,
                config: demo_config(),
                _schema: None,
            };
        };
        let schema = testkit::TestSchema::new(&url);
        let config = dir.path().join("releasebot.toml");
        let demo = std::fs::read_to_string(demo_config()).unwrap();
        std::fs::write(
            &config,
            format!(
                "{demo}\n[store]\nbackend = \"postgres\"\nurl_env = \"RELEASEBOT_TEST_DATABASE_URL\"\nschema = \"{}\"\n",
                schema.name
            ),
        )
        .unwrap();
        Bot {
            dir,
            config,
            _schema: Some(schema),
        }
    }

    /// Whether this bot keeps its state in sled (tests of sled's own
    /// files and lock skip on PostgreSQL).
    pub fn on_sled(&self) -> bool {
        self._schema.is_none()
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_releasebot"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data())
            .args(["--clock", CLOCK])
            .args(args)
            .env_remove("RELEASEBOT_CONFIG")
            .env_remove("RELEASEBOT_DATA_DIR")
            .env("RUST_LOG", "warn");
        command
    }

    /// Spawns `releasebot shell` with piped stdin and stdout.
    pub fn spawn_shell(&self, args: &[&str]) -> Child {
        let mut all = vec!["shell"];
        all.extend_from_slice(args);
        self.command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn releasebot shell")
    }

    /// Pipes `input` into the shell and returns what it printed.
    pub fn shell_bytes(&self, input: &[u8]) -> String {
        let mut child = self.spawn_shell(&[]);
        child.stdin.take().unwrap().write_all(input).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "shell failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("the shell prints UTF-8")
    }

    pub fn shell(&self, script: &str) -> String {
        self.shell_bytes(script.as_bytes())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run releasebot")
    }

    /// `releasebot export`, parsed.
    pub fn export(&self) -> Vec<serde_json::Value> {
        let output = self.run(&["export"]);
        assert!(
            output.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("export prints a JSON array")
    }

    /// Export and audit log together: what "the store did not change" compares.
    pub fn snapshot(&self) -> (String, String) {
        let export = self.run(&["export"]);
        let audit = self.run(&["audit", "--json"]);
        (
            String::from_utf8(export.stdout).unwrap(),
            String::from_utf8(audit.stdout).unwrap(),
        )
    }
}

/// Script lines for a production release that is approved and checked off.
pub const READY_R1: &str = "\
request api 2.4.0 to production at 2026-12-01 14:00 notes \"New checkout flow\"
/as bob
approve R-1 looks good
/as carol
approve R-1
/as alice
check R-1 1
check R-1 2
check R-1 3
check R-1 4
";
