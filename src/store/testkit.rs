//! Stores for tests and benchmarks: a temporary sled store, and a
//! PostgreSQL store in a schema of its own (dropped afterwards) on the
//! server `RELEASEBOT_TEST_DATABASE_URL` names. Without that variable the
//! PostgreSQL tests skip, and say so once per test binary.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use super::postgres::PgOptions;
use super::{Store, StoreResult};

/// The variable that points the tests at a PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "RELEASEBOT_TEST_DATABASE_URL";

/// The backend the integration suite runs on: `RELEASEBOT_TEST_BACKEND`
/// (`sled`, the default, or `postgres`).
pub fn backend_under_test() -> &'static str {
    match std::env::var("RELEASEBOT_TEST_BACKEND").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sled",
    }
}

/// The test server's URL, or `None` after saying (once) that the
/// PostgreSQL tests of `group` are skipped and how to run them. With
/// `CI=true` a missing URL fails the test instead.
pub fn database_url(group: &str) -> Option<String> {
    static SAID: Once = Once::new();
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            // Under CI a missing server is a failure, never a green skip.
            panic!(
                "CI=true but {DATABASE_URL_VAR} is not set: the {group} on PostgreSQL cannot run"
            )
        }
        _ => {
            SAID.call_once(|| {
                // Straight to stderr: the test harness captures print!.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: the {group} on PostgreSQL; run them with {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/test cargo test (what .ci/run does)"
                );
            });
            None
        }
    }
}

/// A schema of its own on the test server, dropped with this value.
pub struct TestSchema {
    pub url: String,
    pub name: String,
}

impl TestSchema {
    pub fn new(url: &str) -> TestSchema {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "rb_test_{}_{}_{:04x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u16>()
        );
        TestSchema {
            url: url.to_string(),
            name,
        }
    }

    /// Options for an instance on this schema, with short leases so that
    /// takeovers show within a test.
    pub fn options(&self, instance: &str) -> PgOptions {
        PgOptions {
            schema: Some(self.name.clone()),
            pool_size: 4,
            lease_ttl: Duration::from_secs(2),
            instance: instance.to_string(),
            ..PgOptions::new(self.url.clone())
        }
    }

    pub fn connect(&self, instance: &str) -> StoreResult<Store> {
        Store::connect(&self.options(instance))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(error) = super::postgres::execute_once(&self.url, &sql) {
            let _ = writeln!(
                std::io::stderr(),
                "dropping test schema {}: {error}",
                self.name
            );
        }
    }
}

/// A store of the backend under test, and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    _dir: Option<tempfile_dir::Dir>,
    _schema: Option<TestSchema>,
}

/// A temporary directory without a dev-dependency (examples use this too).
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> std::io::Result<Dir> {
            let path = std::env::temp_dir().join(format!(
                "releasebot-test-{}-{:016x}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&path)?;
            Ok(Dir(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestStore {
    /// A fresh temporary sled store.
    pub fn sled() -> TestStore {
        let dir = tempfile_dir::Dir::new().expect("a temporary directory");
        TestStore {
            store: Store::open(dir.path()).expect("a sled store"),
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// A fresh PostgreSQL store, or `None` when no test server is set.
    pub fn postgres(group: &str) -> Option<TestStore> {
        let url = database_url(group)?;
        let schema = TestSchema::new(&url);
        let store = schema
            .connect("test-instance")
            .unwrap_or_else(|e| panic!("connecting to the test database: {e}"));
        Some(TestStore {
            store,
            _dir: None,
            _schema: Some(schema),
        })
    }

    /// A fresh store of `backend_under_test()`. PostgreSQL asked for with
    /// no server set is a failure: the suite would pass on sled instead.
    pub fn under_test() -> TestStore {
        match backend_under_test() {
            "postgres" => TestStore::postgres("integration suite").unwrap_or_else(|| {
                panic!("RELEASEBOT_TEST_BACKEND=postgres needs {DATABASE_URL_VAR}")
            }),
            _ => TestStore::sled(),
        }
    }
}
