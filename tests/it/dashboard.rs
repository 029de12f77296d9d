//! The dashboard over HTTP: sign-in from chat (a preview's GET spends
//! nothing; the POST does, once), sessions, pages with data only for the
//! signed in, security headers, live events, and the bad input the issue
//! names: expired, reused, forged and other people's links, unknown ids, a
//! far month, an `at=` before the first release, oversized queries.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::ci_app::CiApp;

pub const CONFIG: &str = r##"
[http]
listen = "127.0.0.1:0"
insecure_cookies = true

[roles]
developer = ["shell:alice", "shell:erin"]
release-manager = ["shell:bob"]

[services.api]
[services.web]

[environments.staging]
approve = ["developer", "release-manager"]
deploy = ["developer"]
rollback = ["developer"]
self_approval = true

[environments.staging.ci]
kind = "simulate"
delay_secs = 0

[environments.production]
approve = ["release-manager"]
deploy = ["developer"]
requires = { environment = "staging", soak_minutes = 60 }

[environments.production.ci]
kind = "simulate"
delay_secs = 0
"##;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// `dashboard` as `user`: the link's path (`/signin/<token>`).
pub fn link_path(bot: &CiApp, user: &str) -> String {
    let reply = bot.run(user, "dashboard").unwrap();
    let at = reply.find("/signin/").expect("a sign-in link");
    reply[at..].trim().to_string()
}

/// Spends the sign-in link in a chat answer at the bot listening on
/// `http`; the session cookie (`name=value`).
pub async fn sign_in_from(http: &str, answer: &str) -> String {
    let at = answer.find("/signin/").expect("a sign-in link") + "/signin/".len();
    let token = &answer[at..at + 32];
    let response = client()
        .post(format!("{http}/signin/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// A page as someone signed in: status and body.
pub async fn page(http: &str, path: &str, cookie: &str) -> (u16, String) {
    let response = client()
        .get(format!("{http}{path}"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Signs `user` in; the session cookie (`name=value`).
pub async fn sign_in(bot: &CiApp, user: &str) -> String {
    let path = link_path(bot, user);
    let response = client()
        .post(format!("{}{path}", bot.http))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "the POST spends the link and redirects"
    );
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

async fn get(
    bot: &CiApp,
    path: &str,
    cookie: Option<&str>,
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut request = client().get(format!("{}{path}", bot.http));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

/// api 2.0 live in staging (R-1), and R-2 waiting for approval in production.
pub async fn with_releases(bot: &CiApp) {
    bot.run(
        "alice",
        r#"request api 2.0 to staging notes "**bold** <script>alert(1)</script>""#,
    )
    .unwrap();
    bot.run("alice", "approve R-1").unwrap();
    bot.run("alice", "deploy R-1").unwrap();
    bot.until("R-1 deployed", |b| {
        b.release(1).status.as_str() == "deployed"
    })
    .await;
    bot.run("alice", "promote R-1").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_signs_in_once_and_only_its_post_spends_it() {
    let bot = CiApp::spawn(CONFIG).await;
    with_releases(&bot).await;
    let (status, body, _) = get(&bot, "/", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("Type <code>dashboard</code>"), "{body}");
    assert!(
        !body.contains("R-1") && !body.contains("2.0"),
        "no data without sign-in"
    );

    let path = link_path(&bot, "alice");
    // A chat app's link preview fetches it first: that spends nothing.
    let (status, preview, headers) = get(&bot, &path, None).await;
    assert_eq!(status, 200);
    assert!(preview.contains("Continue as alice"), "{preview}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let response = client()
        .post(format!("{}{path}", bot.http))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // Once only.
    let again = client()
        .post(format!("{}{path}", bot.http))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("used already"));

    let (status, board, _) = get(&bot, "/", Some(&cookie)).await;
    assert_eq!(status, 200);
    for part in [
        "Signed in as <strong>alice</strong>",
        "<span class=\"version\">2.0</span>",
        "href=\"/releases/R-1\"",
        "awaiting approval",
        "R-2",
    ] {
        assert!(board.contains(part), "{part:?} in the board:\n{board}");
    }
    let (_, release, _) = get(&bot, "/releases/R-1", Some(&cookie)).await;
    assert!(
        release.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "notes are escaped"
    );
    assert!(
        release.contains("<strong>bold</strong>"),
        "and their Markdown rendered"
    );
    assert!(
        release.contains("Promoted on as <a href=\"/releases/R-2\">R-2</a>"),
        "{release}"
    );
    // A booking a later freeze overlaps is marked as a conflict.
    bot.run("alice", "request web 3.0 to staging at 2026-11-27 10:00")
        .unwrap();
    bot.run("bob", "freeze staging 2026-11-27 to 2026-11-27 launch day")
        .unwrap();
    let (_, calendar, _) = get(&bot, "/calendar", Some(&cookie)).await;
    assert!(
        calendar.contains("<span class=\"badge b-bad\">conflict</span> freeze"),
        "{calendar}"
    );
    // Without `[timezones]` for the viewer, the browser's zone (the cookie
    // live.js sets); a zone that is no zone falls back to the bot's.
    let berlin = format!("{cookie}; releasebot_tz=Europe%2FBerlin");
    let (_, in_berlin, _) = get(&bot, "/calendar", Some(&berlin)).await;
    assert!(in_berlin.contains("times in Europe/Berlin"), "{in_berlin}");
    assert!(in_berlin.contains("data-from=\"browser\""));
    let mars = format!("{cookie}; releasebot_tz=Mars%2FBase");
    let (_, on_mars, _) = get(&bot, "/calendar", Some(&mars)).await;
    assert!(on_mars.contains("times in UTC"), "{on_mars}");
    assert!(on_mars.contains("data-from=\"default\""));
    // The grid: hours shaded open (no windows here: any time) and hatched
    // under the freeze, in words too, with the booking on its day.
    assert!(calendar.contains("<span class=\"h frozen\">"), "{calendar}");
    assert!(calendar.contains("<span class=\"h open\">"), "{calendar}");
    let staging = calendar.split("<h2 id=\"env-staging\">").nth(1).unwrap();
    let friday = staging
        .split("<th scope=\"row\">Fri 27 Nov</th>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a row for the frozen day");
    assert!(friday.contains("<td>frozen 00:00–24:00</td>"), "{friday}");
    assert!(friday.contains("10:00"), "the booking: {friday}");
    assert!(calendar.contains("<td>open 00:00–24:00</td>"), "{calendar}");
    for path in [
        "/calendar",
        "/calendar?view=month",
        "/stats",
        "/stats?period=quarter&scope=staging",
    ] {
        let (status, body, _) = get(&bot, path, Some(&cookie)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    // Each number links to the deploys behind it.
    let (_, stats, _) = get(&bot, "/stats?period=month&scope=staging", Some(&cookie)).await;
    assert!(
        stats.contains("href=\"/stats/behind?period=month&amp;scope=staging\""),
        "{stats}"
    );
    let (status, behind, _) = get(
        &bot,
        "/stats/behind?period=month&scope=staging",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        behind.contains("<a href=\"/releases/R-1\">R-1</a> api 2.0 → staging"),
        "{behind}"
    );
    assert!(behind.contains("planned 2.0: Succeeded"), "{behind}");
    assert_eq!(
        get(&bot, "/stats/behind?period=decade", Some(&cookie))
            .await
            .0,
        400
    );

    // Signing out ends the session in the store.
    let out = client()
        .post(format!("{}/signout", bot.http))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(get(&bot, "/", Some(&cookie)).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_links_and_bad_addresses_get_a_clear_page_and_no_data() {
    let bot = CiApp::spawn(CONFIG).await;
    with_releases(&bot).await;
    let forged = format!("/signin/{}", "ab".repeat(16));
    let (status, body, _) = get(&bot, &forged, None).await;
    assert_eq!(status, 410);
    assert!(body.contains("not one the bot made"), "{body}");
    assert_eq!(get(&bot, "/signin/not-a-token", None).await.0, 410);
    let stale = link_path(&bot, "alice");
    bot.advance(16 * 60);
    let (status, body, _) = get(&bot, &stale, None).await;
    assert_eq!(status, 410);
    assert!(body.contains("expired"), "{body}");
    // Someone signed in as erin opening alice's link spends nothing.
    let erin = sign_in(&bot, "erin").await;
    let alices = link_path(&bot, "alice");
    let (status, body, _) = get(&bot, &alices, Some(&erin)).await;
    assert_eq!(status, 403);
    assert!(body.contains("belongs to someone else"), "{body}");
    let response = client()
        .post(format!("{}{alices}", bot.http))
        .header(COOKIE, &erin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, _, _) = get(&bot, &alices, None).await;
    assert_eq!(status, 200, "still unspent");
    // A cookie the store does not know (a forged one, or one from before
    // its sessions were cleared) is no session.
    assert_eq!(
        get(
            &bot,
            "/",
            Some(&format!("releasebot_session={}", "cd".repeat(16)))
        )
        .await
        .0,
        401
    );

    let cases = [
        ("/releases/R-99", 404, "There is no release R-99"),
        ("/releases/nope", 404, "not a release id"),
        ("/incidents/I-9", 404, "There is no incident I-9"),
        (
            "/?at=2020-01-01T00:00",
            404,
            "goes back to the first release",
        ),
        ("/?at=yesterday", 400, "not a time"),
        ("/calendar?view=1900-01-01", 404, "within five years"),
        ("/calendar?view=2999-01-01", 404, "within five years"),
        ("/calendar?view=fortnight", 400, "week, month"),
    ];
    for (path, code, words) in cases {
        let (status, body, _) = get(&bot, path, Some(&erin)).await;
        assert_eq!(status, code, "{path}: {body}");
        assert!(body.contains(words), "{path}: {words:?} in {body}");
        assert!(!body.contains("2.0"), "{path} shows no data");
    }
    let long = format!("/?token={}", "x".repeat(2000));
    assert_eq!(get(&bot, &long, Some(&erin)).await.0, 414);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_hears_of_a_change_through_server_sent_events() {
    let bot = CiApp::spawn(CONFIG).await;
    with_releases(&bot).await;
    let cookie = sign_in(&bot, "bob").await;
    assert_eq!(get(&bot, "/events", None).await.0, 401);
    let mut events = client()
        .get(format!("{}/events", bot.http))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    bot.run("bob", "approve R-2").unwrap();
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
        .await
        .expect("an event within 5 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(
        text.contains("event: change") && text.contains("id: "),
        "{text}"
    );
    // A browser that reconnects having missed changes hears one at once.
    let mut resumed = client()
        .get(format!("{}/events", bot.http))
        .header(COOKIE, &cookie)
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), resumed.chunk())
        .await
        .expect("a catch-up event at once")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: change"));
}

/// Two instances on one PostgreSQL schema; B serves the pages.
pub struct Pair {
    pub a: releasebot::app::App,
    pub b: releasebot::app::App,
    /// B's pages.
    pub base: String,
    _schema: releasebot::store::testkit::TestSchema,
}

impl Pair {
    /// `None` (having said so) without a PostgreSQL server for the tests.
    pub async fn start(group: &str) -> Option<Pair> {
        use releasebot::app::App;
        use releasebot::engine::Engine;
        use releasebot::store::testkit;
        let url = testkit::database_url(group)?;
        let schema = testkit::TestSchema::new(&url);
        let config =
            std::sync::Arc::new(releasebot::config::Config::parse(CONFIG, "test.toml").unwrap());
        let clock = crate::ci_app::test_clock();
        let start = |name: &str| {
            let store = schema.connect(name).unwrap();
            let engine = Engine::new(store, config.clone(), clock.clone());
            App::start(engine, clock.clone(), std::collections::HashMap::new())
        };
        let a = start("a");
        let mut b = start("b");
        let bound = b.serve_http("127.0.0.1:0".parse().unwrap()).await.unwrap();
        Some(Pair {
            a,
            b,
            base: format!("http://{bound}"),
            _schema: schema,
        })
    }

    /// A line as `user` on an instance; the reply's text.
    pub fn run(app: &releasebot::app::App, user: &str, line: &str) -> String {
        use releasebot::domain::ids::{ChannelRef, UserRef};
        let user = UserRef::parse(&format!("shell:{user}")).unwrap();
        let origin = releasebot::engine::Origin {
            channel: ChannelRef::parse("shell:#test").unwrap(),
        };
        app.engine
            .handle_line(&user, line, &origin)
            .unwrap()
            .text()
            .to_string()
    }

    /// `/signin/<token>` for `user`, asked on B.
    pub fn link_on_b(&self, user: &str) -> String {
        let reply = Pair::run(&self.b, user, "dashboard");
        reply[reply.find("/signin/").unwrap()..].trim().to_string()
    }

    pub async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_one_instance_hears_an_approval_made_on_the_other() {
    let Some(pair) = Pair::start("dashboard across two instances").await else {
        return;
    };
    Pair::run(&pair.a, "alice", "request api 2.0 to production");
    // Signed in on B, listening on B.
    let cookie = sign_in_from(&pair.base, &pair.link_on_b("bob")).await;
    let mut events = client()
        .get(format!("{}/events", pair.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    Pair::run(&pair.a, "bob", "approve R-1");
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
        .await
        .expect("B's page hears A's approval within 5 s")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: change"));
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_screen_reads_with_its_token_and_nothing_else() {
    std::env::set_var("RB_TEST_WALL_TOKEN", "wall-screen-token-0123456789");
    let config = format!("{CONFIG}\n[dashboard]\ntoken_env = \"RB_TEST_WALL_TOKEN\"\n");
    let bot = CiApp::spawn(&config).await;
    with_releases(&bot).await;
    let (status, board, _) = get(&bot, "/?token=wall-screen-token-0123456789", None).await;
    assert_eq!(status, 200);
    assert!(
        board.contains("Signed in as <strong>the wall screen</strong>") && board.contains("2.0")
    );
    assert!(
        !board.contains("Sign out"),
        "a wall screen has no session to end"
    );
    let (status, body, _) = get(&bot, "/?token=wall-screen-token-0123456780", None).await;
    assert_eq!(status, 401);
    assert!(!body.contains("2.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_everyone_out_ends_every_session_with_a_page_that_says_so() {
    let bot = CiApp::spawn(CONFIG).await;
    with_releases(&bot).await;
    let alice = sign_in(&bot, "alice").await;
    let erin = sign_in(&bot, "erin").await;
    bot.advance(1);

    // Only an admin may; a refusal changes nothing.
    let refused = bot.run("alice", "signout-everyone").unwrap_err();
    assert!(refused.contains("sign everyone out"), "{refused}");
    assert_eq!(get(&bot, "/", Some(&alice)).await.0, 200);
    let store = bot.app.engine.store();
    assert_eq!(
        store.record("dashboard", "signed-out-everyone").unwrap(),
        None,
        "a refusal writes nothing"
    );

    let done = bot.run("bob", "signout-everyone").unwrap();
    assert!(done.contains("Every dashboard session has ended"), "{done}");
    for cookie in [&alice, &erin] {
        let (status, body, headers) = get(&bot, "/", Some(cookie)).await;
        assert_eq!(status, 401);
        assert!(body.contains("shell:bob signed everyone out at"), "{body}");
        assert!(!body.contains("2.0"), "no data: {body}");
        let cleared = headers[SET_COOKIE].to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let (status, _, _) = get(&bot, "/events", Some(cookie)).await;
        assert_eq!(status, 401, "no live events either");
    }
    // A sign-in after the rotation works.
    bot.advance(1);
    let again = sign_in(&bot, "alice").await;
    let (status, body, _) = get(&bot, "/", Some(&again)).await;
    assert_eq!(status, 200);
    assert!(body.contains("2.0"), "{body}");
}
