//! TLS to the test PostgreSQL (`ssl = on` with Debian's self-signed
//! snakeoil certificate, CN and SAN `localhost`), through the same URL keys
//! libpq reads; and a server that takes only TLS, refusing a plain one.

use std::io::{Read, Write};

use super::postgres::{self, tls};
use super::testkit;
use super::{Store, StoreError};

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
/// A root from Debian's ca-certificates that signed nothing here.
const OTHER_ROOT: &str = "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt";

/// The test URL with `params` added to its query.
fn with(url: &str, params: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

/// The test URL on another host name (same port and database).
fn on_host(url: &str, host: &str) -> String {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let user = config.get_user().unwrap_or("postgres");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("test");
    format!("postgres://{user}@{host}:{port}/{database}")
}

/// Whether a session opened with `url` is encrypted, as the server sees it.
fn encrypted(url: &str) -> Result<bool, String> {
    let (rest, tls) = tls::split(url)?;
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e| format!("{e}"))?;
    config.ssl_mode(tls.driver_mode());
    let connector = tls.connector()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (client, connection) = config.connect(connector).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get::<_, bool>(0))
    })
}

/// Opens the store (a schema of its own) on `url`.
fn open(url: &str, schema: &testkit::TestSchema) -> Result<Store, StoreError> {
    Store::connect(&schema.options("tls").with_url(url))
}

#[test]
fn postgres_require_and_verify_ca_connect_encrypted() {
    let Some(url) = testkit::database_url("TLS tests") else {
        return;
    };
    let schema = testkit::TestSchema::new(&url);
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}"),
        // The host name matches the certificate: verify-full passes too.
    ] {
        let url = with(&url, &params);
        assert_eq!(encrypted(&url), Ok(true), "{params}");
        let store = open(&url, &schema).unwrap_or_else(|e| panic!("{params}: {e}"));
        assert_eq!(store.release_count().unwrap(), 0);
    }
    let by_name = with(
        &on_host(&url, "localhost"),
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    assert_eq!(encrypted(&by_name), Ok(true), "{by_name}");
    assert_eq!(
        encrypted(&with(&url, "sslmode=disable")),
        Ok(false),
        "disable is plain"
    );
}

#[test]
fn postgres_verify_full_against_another_host_name_is_refused_in_one_line() {
    let Some(url) = testkit::database_url("TLS tests") else {
        return;
    };
    let schema = testkit::TestSchema::new(&url);
    // The certificate names `localhost`; the URL says 127.0.0.1.
    let wrong_name = with(
        &on_host(&url, "127.0.0.1"),
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    let error = open(&wrong_name, &schema).err().expect("refused");
    assert!(matches!(error, StoreError::Rejected(_)), "{error:?}");
    let text = error.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(
        text.contains("certificate") && text.contains("127.0.0.1"),
        "says why and where: {text}"
    );
    // A root that did not sign the server's certificate is refused too.
    // (Not `system`: Debian's /etc/ssl/certs holds the snakeoil itself.)
    if std::path::Path::new(OTHER_ROOT).exists() {
        let other_root = with(&url, &format!("sslmode=verify-ca&sslrootcert={OTHER_ROOT}"));
        let error = open(&other_root, &schema).err().expect("refused");
        assert!(matches!(error, StoreError::Rejected(_)), "{error:?}");
        assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    }
}

/// A server set to take only TLS (`hostssl` lines alone in pg_hba.conf)
/// answers a plain startup with this refusal: it speaks just enough of
/// the protocol to say so, as PostgreSQL does.
fn tls_only_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut length = [0u8; 4];
            if stream.read_exact(&mut length).is_err() {
                continue;
            }
            let mut startup = vec![0u8; u32::from_be_bytes(length) as usize - 4];
            if stream.read_exact(&mut startup).is_err() {
                continue;
            }
            let mut fields = Vec::new();
            for (code, value) in [
                (b'S', "FATAL"),
                (b'V', "FATAL"),
                (b'C', "28000"),
                (b'M', "no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"test\", no encryption"),
            ] {
                fields.push(code);
                fields.extend_from_slice(value.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let mut message = vec![b'E'];
            message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
            message.extend_from_slice(&fields);
            let _ = stream.write_all(&message);
        }
    });
    port
}

#[test]
fn disable_against_a_server_that_takes_only_tls_is_refused_clearly() {
    let port = tls_only_server();
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{port}/test?sslmode=disable");
    let error = Store::connect(&postgres::PgOptions::new(url))
        .err()
        .expect("refused");
    assert!(matches!(error, StoreError::Rejected(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("no encryption") && text.contains("sslmode=require"),
        "{text}"
    );
    assert!(!text.contains("s3cret") && !text.contains('\n'), "{text}");
}

#[test]
fn check_config_names_the_tls_mode() {
    assert_eq!(
        postgres::describe_tls("postgres://db/x?sslmode=verify-full&sslrootcert=/ca.pem"),
        "TLS verify-full (roots from /ca.pem)"
    );
    assert_eq!(
        postgres::describe_tls("postgres://db/x"),
        "TLS prefer (certificate not checked)"
    );
    assert_eq!(
        postgres::describe_tls("postgres://db/x?sslmode=disable"),
        "no TLS (sslmode=disable)"
    );
    assert!(postgres::check_url("postgres://db/x?sslmode=sometimes")
        .unwrap_err()
        .contains("sslmode `sometimes`"));
}
