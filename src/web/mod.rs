//! The dashboard: read-only pages on the HTTP listener (board, calendar,
//! release, incident, stats), rendered on the server from the engine's
//! typed views with askama (escaped everywhere), kept live by server-sent
//! events from the change feed. Sign-in comes from chat (`dashboard`);
//! without a session (or the wall screen's token) a page shows how to sign
//! in, never data. No route changes anything but the visitor's own session.

mod auth;
mod calendar_grid;
mod live;
mod pages;
mod release;
mod stats;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::engine::{Engine, Rotation, SessionLookup, Visitor};
use crate::http::HttpState;

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Longest query string a page reads; a longer one is refused.
const MAX_QUERY: usize = 512;

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/", get(pages::board))
        .route("/calendar", get(pages::calendar))
        .route("/stats", get(stats::show))
        .route("/stats/behind", get(stats::behind))
        .route("/releases/{id}", get(release::release))
        .route("/incidents/{id}", get(release::incident))
        .route("/events", get(live::events))
        .route("/signin/{token}", get(auth::preview).post(auth::sign_in))
        .route("/signout", post(auth::sign_out))
        .route("/static/app.css", get(css))
        .route("/static/live.js", get(js))
        .with_state(state)
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("static/app.css"))
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/live.js"),
    )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Who is looking: a signed-in person, or the wall screen.
#[derive(Debug, Clone)]
pub enum Viewer {
    Person(Visitor),
    Wall,
}

impl Viewer {
    fn name(&self) -> String {
        match self {
            Viewer::Person(v) => v.name.clone(),
            Viewer::Wall => "the wall screen".to_string(),
        }
    }

    fn signed_in(&self) -> bool {
        matches!(self, Viewer::Person(_))
    }
}

/// The session cookie's name: `__Host-` needs `Secure`, so plain http on
/// localhost (`[http] insecure_cookies`) goes without it.
pub(crate) fn cookie_name(engine: &Engine) -> &'static str {
    if engine.config().dashboard.insecure_cookies {
        "releasebot_session"
    } else {
        "__Host-releasebot_session"
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The viewer of a request, if any: the session cookie, or the wall
/// screen's `?token=`.
pub(crate) async fn viewer(
    state: &HttpState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Option<Viewer> {
    visit(state, headers, token).await.ok()
}

/// Why a request has no viewer.
pub(crate) enum Absent {
    Nobody,
    /// Its session began before an admin signed everyone out.
    Ended(Rotation),
}

/// The viewer of a request, or why there is none.
pub(crate) async fn visit(
    state: &HttpState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<Viewer, Absent> {
    if let (Some(given), Some(wall)) = (token, &state.engine.config().dashboard.wall_token) {
        if subtle_eq::eq(given.as_bytes(), wall.expose().as_bytes()) {
            return Ok(Viewer::Wall);
        }
    }
    let value = cookie(headers, cookie_name(&state.engine))
        .ok_or(Absent::Nobody)?
        .to_string();
    let engine = state.engine.clone();
    let found =
        crate::engine::off_async_threads("reading a session", move || engine.session(&value)).await;
    match found {
        Ok(Ok(SessionLookup::Active(visitor))) => Ok(Viewer::Person(visitor)),
        Ok(Ok(SessionLookup::Ended(rotation))) => Err(Absent::Ended(rotation)),
        _ => Err(Absent::Nobody),
    }
}

mod subtle_eq {
    /// Compares without stopping at the first difference.
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · releasebot</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/live.js" defer></script>
</head>
<body data-live="{% if live %}on{% else %}off{% endif %}">
<header>
<nav aria-label="Pages"><a href="/">Board</a><a href="/calendar">Calendar</a><a href="/stats">Stats</a></nav>
{% if let Some(who) = who %}<p>Signed in as <strong>{{ who }}</strong>{% if can_sign_out %} <form method="post" action="/signout"><button type="submit">Sign out</button></form>{% endif %}</p>{% endif %}
</header>
<main id="main">
<h1>{{ title }}</h1>
{{ body|safe }}
</main>
</body>
</html>"#
)]
struct Layout<'a> {
    title: &'a str,
    who: Option<String>,
    can_sign_out: bool,
    live: bool,
    /// Rendered (and escaped) by its own template.
    body: String,
}

/// A page: the layout around `body`, with the security headers.
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    viewer: Option<&Viewer>,
    body: String,
) -> Response {
    let html = Layout {
        title,
        who: viewer.map(Viewer::name),
        can_sign_out: viewer.is_some_and(Viewer::signed_in),
        live: viewer.is_some(),
        body,
    }
    .render()
    .unwrap_or_else(|e| format!("<!doctype html><title>error</title><p>{e}</p>"));
    secured((status, html).into_response())
}

/// The headers every page carries.
pub(crate) fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p>These pages show releases only to people signed in from chat.</p>
<p>Type <code>dashboard</code> to the bot in Slack, Discord or the shell: it answers you alone with a sign-in link that works once, for 15 minutes.</p>"#
)]
struct SignInFirst;

/// What a visitor without a session sees: how to sign in, no data.
pub(crate) fn sign_in_first() -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        "Sign in from chat",
        None,
        SignInFirst.render().unwrap_or_default(),
    )
}

/// A cookie from before `signout-everyone`: what happened, and how to
/// sign in again; the stale cookie is cleared.
fn signed_out_everyone(state: &HttpState, rotation: &Rotation) -> Response {
    let tz = state.engine.config().timezone;
    let message = format!(
        "Your dashboard session has ended: {} signed everyone out at {}. Type `dashboard` to the bot for a new sign-in link.",
        rotation.by,
        crate::domain::when::format_local(rotation.at, tz)
    );
    let mut response = page(
        StatusCode::UNAUTHORIZED,
        "Signed out",
        None,
        Problem { message: &message }.render().unwrap_or_default(),
    );
    if let Ok(value) = HeaderValue::from_str(&auth::clear_cookie(state)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<p>{{ message }}</p><p><a href=\"/\">Back to the board</a></p>"
)]
struct Problem<'a> {
    message: &'a str,
}

/// A clear page for a request that cannot be answered.
pub(crate) fn problem(status: StatusCode, viewer: Option<&Viewer>, message: &str) -> Response {
    let body = Problem { message }.render().unwrap_or_default();
    page(status, "Not here", viewer, body)
}

/// The viewer of a page request, or the page to answer instead: how to
/// sign in, or an oversized address refused.
pub(crate) async fn admitted(
    state: &HttpState,
    headers: &HeaderMap,
    query: &Params,
    uri: &axum::http::Uri,
) -> Result<Viewer, Response> {
    let who = match visit(state, headers, query.token.as_deref()).await {
        Ok(who) => who,
        Err(Absent::Nobody) => return Err(sign_in_first()),
        Err(Absent::Ended(rotation)) => return Err(signed_out_everyone(state, &rotation)),
    };
    if !query_ok(uri) {
        return Err(problem(
            StatusCode::URI_TOO_LONG,
            Some(&who),
            "That address is too long.",
        ));
    }
    Ok(who)
}

/// The query string, refused when oversized.
pub(crate) fn query_ok(uri: &axum::http::Uri) -> bool {
    uri.query().is_none_or(|q| q.len() <= MAX_QUERY)
}

/// Common query parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Params {
    pub token: Option<String>,
    pub at: Option<String>,
    pub view: Option<String>,
    pub period: Option<String>,
    pub scope: Option<String>,
}

pub(crate) type Q = Query<Params>;
pub(crate) type S = State<HttpState>;
