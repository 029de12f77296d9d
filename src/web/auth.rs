//! Sign-in links from chat and sessions. A GET of a link shows whom it
//! would sign in, and spends nothing (chat apps fetch links for previews);
//! the POST from that page spends it and sets the session cookie. Signing
//! out ends the session in the store, for every instance.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{cookie, cookie_name, page, problem, viewer, Viewer, S};
use crate::engine::{off_async_threads, LinkProblem};
use crate::http::HttpState;

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p>This link signs you in as <strong>{{ name }}</strong> ({{ user }}).</p>
<form method="post" action="/signin/{{ token }}"><button type="submit">Continue as {{ name }}</button></form>
<p class="muted">It works once, until {{ until }}. If you did not ask for it, close this page.</p>"#
)]
struct Continue<'a> {
    name: &'a str,
    user: &'a str,
    token: &'a str,
    until: String,
}

fn link_problem(problem: LinkProblem) -> &'static str {
    match problem {
        LinkProblem::Unknown => "This sign-in link is not one the bot made. Ask for a new one: type `dashboard` to the bot.",
        LinkProblem::Used => "This sign-in link was used already; each works once. Ask for a new one: type `dashboard` to the bot.",
        LinkProblem::Expired => "This sign-in link has expired (they last 15 minutes). Ask for a new one: type `dashboard` to the bot.",
    }
}

/// Someone already signed in as another person may not spend this link.
fn someone_else(current: Option<&Viewer>, user: &crate::domain::ids::UserRef) -> Option<Response> {
    match current {
        Some(Viewer::Person(v)) if &v.user != user => Some(problem(
            StatusCode::FORBIDDEN,
            current,
            &format!(
                "This link belongs to someone else, and you are signed in as {}. Sign out first if you mean to switch.",
                v.name
            ),
        )),
        _ => None,
    }
}

pub(super) async fn preview(
    State(state): S,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let current = viewer(&state, &headers, None).await;
    let engine = state.engine.clone();
    let lookup = token.clone();
    let found =
        off_async_threads("reading a sign-in link", move || engine.peek_link(&lookup)).await;
    match found {
        Ok(Ok(Ok(visitor))) => {
            if let Some(refused) = someone_else(current.as_ref(), &visitor.user) {
                return refused;
            }
            let tz = state.engine.config().timezone;
            let body = Continue {
                name: &visitor.name,
                user: visitor.user.as_str(),
                token: &token,
                until: crate::domain::when::format_local(visitor.expires_at, tz),
            }
            .render()
            .unwrap_or_default();
            page(StatusCode::OK, "Sign in", None, body)
        }
        Ok(Ok(Err(problem_kind))) => problem(
            StatusCode::GONE,
            current.as_ref(),
            link_problem(problem_kind),
        ),
        _ => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "The store is unavailable; try the link again in a minute.",
        ),
    }
}

pub(super) async fn sign_in(
    State(state): S,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let current = viewer(&state, &headers, None).await;
    let engine = state.engine.clone();
    if let Ok(Ok(Ok(visitor))) = {
        let lookup = token.clone();
        off_async_threads("reading a sign-in link", move || engine.peek_link(&lookup)).await
    } {
        if let Some(refused) = someone_else(current.as_ref(), &visitor.user) {
            return refused;
        }
    }
    let engine = state.engine.clone();
    let redeemed = off_async_threads("spending a sign-in link", move || {
        engine.redeem_link(&token)
    })
    .await;
    match redeemed {
        Ok(Ok(Ok((session, _)))) => {
            let mut response = Redirect::to("/").into_response();
            let cookie = set_cookie(&state, &session, crate::engine::SESSION_DAYS * 86_400);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Ok(Err(problem_kind))) => problem(StatusCode::GONE, None, link_problem(problem_kind)),
        _ => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "The store is unavailable; try the link again in a minute.",
        ),
    }
}

fn set_cookie(state: &HttpState, value: &str, max_age: i64) -> String {
    let name = cookie_name(&state.engine);
    let secure = if state.engine.config().dashboard.insecure_cookies {
        ""
    } else {
        "; Secure"
    };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// A `Set-Cookie` that removes the session cookie.
pub(super) fn clear_cookie(state: &HttpState) -> String {
    set_cookie(state, "", 0)
}

pub(super) async fn sign_out(State(state): S, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, cookie_name(&state.engine)).map(str::to_string) {
        let engine = state.engine.clone();
        let _ = off_async_threads("ending a session", move || engine.sign_out(&value)).await;
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&clear_cookie(&state)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
