//! The dashboard in a real browser: Debian's chromium through
//! chromium-driver (WebDriver, via fantoccini). Signs in through a link a
//! preview fetched first, sees a deploy on the board, opens a release,
//! watches a live update arrive without a reload, checks that a signed-out
//! browser sees no data, and runs axe-core in each page (no serious or
//! critical violation). Screenshots of each page, desktop and phone, go to
//! `target/tmp/dashboard-screenshots/`. Without chromium-driver the tests
//! say they were skipped (with `CI=true` they fail).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::ci_app::CiApp;
use crate::dashboard::{client as http, link_path, with_releases, Pair, CONFIG};

const AXE: &str = include_str!("../assets/axe.min.js");

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(binary) = binary else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and no chromium-driver: the browser tests must run here");
        }
        eprintln!("skipped: browser tests (dashboard in chromium) — apt-get install chromium chromium-driver, then cargo test");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver {
        child: Command::new(binary)
            .arg(format!("--port={port}"))
            // The browser's own zone, which the calendar takes up.
            .env("TZ", "Asia/Tokyo")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(driver);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// The main part's text, read in one script (a page swapping it or
/// navigating meanwhile leaves no stale element behind).
async fn main_text(client: &Client) -> String {
    let text = client
        .execute(
            "const m = document.querySelector('main'); return m ? m.innerText : '';",
            vec![],
        )
        .await
        .unwrap();
    text.as_str().unwrap_or_default().to_string()
}

/// Saves the page at desktop and phone width.
async fn screenshots(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (label, width, height) in [("desktop", 1280, 900), ("phone", 390, 844)] {
        client.set_window_size(width, height).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(1280, 900).await.unwrap();
}

/// axe-core's serious and critical violations on the current page.
async fn violations(client: &Client) -> Vec<String> {
    client
        .execute(&format!("{AXE}\n;return true;"), vec![])
        .await
        .unwrap();
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

async fn until(
    what: &str,
    mut done: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>,
) {
    for _ in 0..100 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_chromium() {
    let Some(driver) = driver() else { return };
    let bot = CiApp::spawn(CONFIG).await;
    with_releases(&bot).await;
    bot.run("alice", "incident open web staging sev3 slow pages")
        .unwrap();
    let client = browser(&driver).await;

    // Signed out: a sign-in page, no data.
    client.goto(&format!("{}/", bot.http)).await.unwrap();
    let text = main_text(&client).await;
    assert!(
        text.contains("Sign in from chat") && !text.contains("2.0"),
        "{text}"
    );
    screenshots(&client, "signed-out").await;

    // The link, previewed by a chat app first, then opened.
    let path = link_path(&bot, "alice");
    assert_eq!(
        http()
            .get(format!("{}{path}", bot.http))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    client.goto(&format!("{}{path}", bot.http)).await.unwrap();
    screenshots(&client, "sign-in").await;
    click_until(&client, "form button", "Which version runs where").await;
    let board = main_text(&client).await;
    assert!(board.contains("2.0") && board.contains("R-1"), "{board}");
    screenshots(&client, "board").await;

    // A live update after an approval, without a reload.
    assert!(main_text(&client).await.contains("awaiting approval"));
    approval_arrives_live(&client, || {
        bot.run("bob", "approve R-2").unwrap();
    })
    .await;

    // A release from the board.
    click_until(&client, "a[href='/releases/R-1']", "CI runs").await;
    screenshots(&client, "release").await;

    for (name, path) in [
        ("board", "/"),
        ("release", "/releases/R-1"),
        ("calendar", "/calendar"),
        ("stats", "/stats"),
        ("incident", "/incidents/I-1"),
    ] {
        client.goto(&format!("{}{path}", bot.http)).await.unwrap();
        if name == "calendar" {
            until("the calendar in the browser's timezone", || {
                let client = client.clone();
                Box::pin(async move { main_text(&client).await.contains("times in Asia/Tokyo") })
            })
            .await;
        }
        if !matches!(name, "board" | "release") {
            screenshots(&client, name).await;
        }
        let found = violations(&client).await;
        assert!(found.is_empty(), "{path}: {found:?}");
    }
    client.close().await.unwrap();
}

/// Clicks what `css` finds, then waits until the page's main part shows
/// `words`.
async fn click_until(client: &Client, css: &str, words: &'static str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(words, || {
        let client = client.clone();
        Box::pin(async move { main_text(&client).await.contains(words) })
    })
    .await;
}

/// Marks the page, runs `act`, waits until "awaiting approval" is gone
/// from the page, and checks the page was updated in place.
async fn approval_arrives_live(client: &Client, act: impl FnOnce()) {
    client
        .execute("window.__notReloaded = true; return true;", vec![])
        .await
        .unwrap();
    act();
    until("the live update", || {
        let client = client.clone();
        Box::pin(async move { !main_text(&client).await.contains("awaiting approval") })
    })
    .await;
    let same_page = client
        .execute("return window.__notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "updated in place, not reloaded");
}

/// On a PostgreSQL pair: the browser reads instance B's board; an approval
/// made on instance A reaches it live, without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_on_one_instance_sees_an_approval_made_on_the_other() {
    let Some(pair) = Pair::start("the browser test across two instances").await else {
        return;
    };
    let Some(driver) = driver() else { return };
    Pair::run(&pair.a, "alice", "request api 2.0 to production");
    let path = pair.link_on_b("bob");
    let client = browser(&driver).await;
    client.goto(&format!("{}{path}", pair.base)).await.unwrap();
    click_until(&client, "form button", "awaiting approval").await;
    approval_arrives_live(&client, || {
        Pair::run(&pair.a, "bob", "approve R-1");
    })
    .await;
    client.close().await.unwrap();
    pair.stop().await;
}
