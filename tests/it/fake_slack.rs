//! A fake Slack on 127.0.0.1: the Web API methods the bot calls (checking
//! the token and the body as Slack does, answering in Slack's shapes), a
//! `response_url` endpoint, and a Socket Mode websocket that sends `hello`
//! and documented envelopes and collects the acks.
//! Shapes: <https://api.slack.com/apis/socket-mode>, <https://api.slack.com/methods>.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

pub const BOT_TOKEN: &str = "xoxb-fake-bot-token";
pub const APP_TOKEN: &str = "xapp-1-fake-app-token";
pub const BOT_USER: &str = "U0BOT00001";
pub const CHANNELS: &[&str] = &["C0RELEASES", "C0STAKEHOLD", "C0GENERAL"];
/// People the fake knows, with their display names.
pub const PEOPLE: &[(&str, &str)] = &[
    ("U0ALICE001", "Alice Ng"),
    ("U0BOB00001", "Bob Stone"),
    ("U0CAROL001", "Carol Diaz"),
    ("U0DAVE0001", "Dave Okafor"),
];
/// The user group `@release-leads` holds Carol.
pub const LEADS_GROUP: (&str, &str, &str) = ("S0LEADS001", "release-leads", "U0CAROL001");

/// A planned failure for the next call of a method.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: secs`.
    RateLimited(u64),
    /// HTTP 500.
    ServerError,
    /// The call takes effect, but the answer is lost (a 500 comes back):
    /// what a timeout or a crash before the answer is recorded looks like.
    LostResponse,
    /// The call takes effect, but its answer comes only after `secs`: an
    /// endpoint that hangs.
    Hang(u64),
    /// The call takes effect and its answer is lost, and then `n` other
    /// messages land in the channel: a busy channel, where the lost post
    /// is far below the latest page of history.
    LostInBusyChannel(usize),
    /// Slack holds the call for `secs` and only then carries it out (the
    /// caller has long given up): a late answer.
    LateEffect(u64),
}

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
    /// What the fake answered: `ok` true, an error code, or an HTTP status.
    pub outcome: String,
}

enum Socket {
    Send(String),
    /// Close the TCP connection without a close frame.
    Drop,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Call>>,
    responses: Mutex<Vec<Value>>,
    /// Current messages by (channel, ts).
    messages: Mutex<HashMap<(String, String), Value>>,
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    sockets: Mutex<Vec<mpsc::UnboundedSender<Socket>>>,
    acks: Mutex<Vec<Value>>,
    /// When each envelope went out and when its ack came back.
    sent_at: Mutex<HashMap<String, Instant>>,
    acked_at: Mutex<HashMap<String, Instant>>,
    next_ts: AtomicU64,
    /// When the fake started, in Unix seconds: the whole part of every `ts`.
    started_secs: u64,
    opened: AtomicUsize,
    ws_url: Mutex<String>,
}

impl Inner {
    /// A new message's `ts`: the fake's start (real time, so that `oldest`
    /// means what it does on Slack) and a counter, unique and increasing.
    fn next_ts(&self) -> String {
        let n = self.next_ts.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{}.{n:06}", self.started_secs)
    }
}

#[derive(Clone)]
pub struct FakeSlack {
    /// `http://127.0.0.1:PORT/api`, for `slack.api_url`.
    pub api_url: String,
    /// `http://127.0.0.1:PORT`, for `response_url`s.
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let started_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let inner = Arc::new(Inner {
            started_secs,
            ..Inner::default()
        });
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        *inner.ws_url.lock().unwrap() = format!("ws://{}/link/", ws.local_addr().unwrap());
        tokio::spawn(accept_sockets(ws, inner.clone()));
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", http.local_addr().unwrap());
        let app = Router::new()
            .route("/api/{method}", any(web_api))
            .route("/response/{id}", post(response_url))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
        FakeSlack {
            api_url: format!("{base}/api"),
            base,
            inner,
        }
    }

    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.inner
            .faults
            .lock()
            .unwrap()
            .entry(method.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Every call of `method` so far, failed ones included.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        let calls = self.inner.calls.lock().unwrap();
        calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Successful calls of `method`.
    pub fn ok_calls(&self, method: &str) -> Vec<Value> {
        let calls = self.calls(method);
        calls
            .into_iter()
            .filter(|c| c.outcome == "ok")
            .map(|c| c.body)
            .collect()
    }

    /// What the bot posted to `response_url`s.
    pub fn responses(&self) -> Vec<Value> {
        self.inner.responses.lock().unwrap().clone()
    }

    /// A message as it stands now (after edits).
    pub fn message(&self, channel: &str, ts: &str) -> Option<Value> {
        let messages = self.inner.messages.lock().unwrap();
        messages.get(&(channel.into(), ts.into())).cloned()
    }

    /// Top-level (not threaded) posts to `channel`.
    pub fn announcements(&self, channel: &str) -> Vec<Value> {
        self.ok_calls("chat.postMessage")
            .into_iter()
            .filter(|b| b["channel"] == channel && b.get("thread_ts").is_none())
            .collect()
    }

    /// Top-level messages in `channel` as Slack holds them, however the
    /// bot's calls were answered.
    pub fn stored_in(&self, channel: &str) -> Vec<Value> {
        let messages = self.inner.messages.lock().unwrap();
        messages
            .iter()
            .filter(|((c, _), m)| c == channel && m.get("thread_ts").is_none())
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Replies in the thread of `ts`.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<String> {
        self.ok_calls("chat.postMessage")
            .into_iter()
            .filter(|b| b["channel"] == channel && b["thread_ts"] == ts)
            .map(|b| b["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn connections_opened(&self) -> usize {
        self.inner.opened.load(Ordering::SeqCst)
    }

    pub fn live_sockets(&self) -> usize {
        let mut sockets = self.inner.sockets.lock().unwrap();
        sockets.retain(|s| !s.is_closed());
        sockets.len()
    }

    /// Sends a frame on the newest live connection.
    pub fn send(&self, frame: &Value) {
        let mut sockets = self.inner.sockets.lock().unwrap();
        sockets.retain(|s| !s.is_closed());
        let socket = sockets.last().expect("no live Socket Mode connection");
        if let Some(envelope) = frame["envelope_id"].as_str() {
            let mut sent_at = self.inner.sent_at.lock().unwrap();
            sent_at.insert(envelope.to_string(), Instant::now());
        }
        socket.send(Socket::Send(frame.to_string())).unwrap();
    }

    /// Sends a frame on live connection `n` (modulo how many are live), as
    /// Slack spreads envelopes over an app's connections; false when none is.
    #[allow(dead_code)] // examples/failover_bench
    pub fn send_on(&self, n: usize, frame: &Value) -> bool {
        let mut sockets = self.inner.sockets.lock().unwrap();
        sockets.retain(|s| !s.is_closed());
        if sockets.is_empty() {
            return false;
        }
        if let Some(envelope) = frame["envelope_id"].as_str() {
            let mut sent_at = self.inner.sent_at.lock().unwrap();
            sent_at.insert(envelope.to_string(), Instant::now());
        }
        let socket = &sockets[n % sockets.len()];
        socket.send(Socket::Send(frame.to_string())).is_ok()
    }

    /// Drops every connection at the TCP level, as a network failure would.
    pub fn drop_sockets(&self) {
        for socket in self.inner.sockets.lock().unwrap().drain(..) {
            let _ = socket.send(Socket::Drop);
        }
    }

    /// Envelope sent → its ack received, for every acked envelope.
    pub fn ack_latencies(&self) -> Vec<Duration> {
        let sent_at = self.inner.sent_at.lock().unwrap();
        let acked_at = self.inner.acked_at.lock().unwrap();
        acked_at
            .iter()
            .filter_map(|(envelope, acked)| Some(*acked - *sent_at.get(envelope)?))
            .collect()
    }

    pub fn ack(&self, envelope_id: &str) -> Option<Value> {
        let acks = self.inner.acks.lock().unwrap();
        acks.iter()
            .find(|a| a["envelope_id"] == envelope_id)
            .cloned()
    }
}

/// Polls `check` until it is true or 10 s pass.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn accept_sockets(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    while let Ok((stream, _)) = listener.accept().await {
        let inner = inner.clone();
        tokio::spawn(async move {
            // As a real server would: no Nagle delay on small frames.
            let _ = stream.set_nodelay(true);
            let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let (mut write, mut read) = socket.split();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let hello = json!({
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A0FAKEAPP1"}
            });
            if write.send(Frame::text(hello.to_string())).await.is_err() {
                return;
            }
            inner.sockets.lock().unwrap().push(tx);
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(Socket::Send(text)) => {
                            if write.send(Frame::text(text)).await.is_err() {
                                return;
                            }
                        }
                        Some(Socket::Drop) | None => return,
                    },
                    frame = read.next() => match frame {
                        Some(Ok(Frame::Text(text))) => {
                            let now = Instant::now();
                            if let Ok(ack) = serde_json::from_str::<Value>(&text) {
                                if let Some(envelope) = ack["envelope_id"].as_str() {
                                    inner.acked_at.lock().unwrap().insert(envelope.to_string(), now);
                                }
                                inner.acks.lock().unwrap().push(ack);
                            }
                        }
                        Some(Ok(Frame::Ping(data))) => {
                            let _ = write.send(Frame::Pong(data)).await;
                        }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}

async fn response_url(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Json(mut body): Json<Value>,
) -> StatusCode {
    body["response_url_id"] = json!(id);
    // `fail_next("response_url", Fault::Hang(secs))`: the answer is taken
    // only after `secs`, as a slow link would deliver it.
    let fault = inner
        .faults
        .lock()
        .unwrap()
        .get_mut("response_url")
        .and_then(VecDeque::pop_front);
    if let Some(Fault::Hang(secs)) = fault {
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    }
    inner.responses.lock().unwrap().push(body);
    StatusCode::OK
}

/// The request's parameters, whichever way they came (query, form, JSON).
fn params(headers: &HeaderMap, query: Option<String>, body: &Bytes) -> Value {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let text = if body.is_empty() {
        query.unwrap_or_default()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let pairs: HashMap<String, String> = serde_urlencoded::from_str(&text).unwrap_or_default();
    json!(pairs)
}

fn slack_error(code: &str) -> Response {
    Json(json!({"ok": false, "error": code})).into_response()
}

async fn web_api(
    State(inner): State<Arc<Inner>>,
    Path(method): Path<String>,
    _verb: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = params(&headers, query, &body);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| params["token"].as_str().map(str::to_string));
    let record = |outcome: &str| {
        inner.calls.lock().unwrap().push(Call {
            method: method.clone(),
            body: params.clone(),
            outcome: outcome.to_string(),
        });
    };
    let fault = inner
        .faults
        .lock()
        .unwrap()
        .get_mut(&method)
        .and_then(VecDeque::pop_front);
    match fault {
        Some(Fault::RateLimited(secs)) => {
            record("429");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response();
        }
        Some(Fault::ServerError) => {
            record("500");
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        Some(Fault::LostResponse) => {
            let taken = answer(&inner, &method, &params).is_ok();
            record(if taken { "ok, answer lost" } else { "500" });
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        Some(Fault::LostInBusyChannel(chatter)) => {
            let taken = answer(&inner, &method, &params).is_ok();
            record(if taken { "ok, answer lost" } else { "500" });
            let channel = params["channel"].as_str().unwrap_or_default().to_string();
            for n in 0..chatter {
                let ts = inner.next_ts();
                let message = json!({
                    "type": "message", "user": "U0ALICE001", "ts": ts,
                    "text": format!("chatter {n}")
                });
                inner
                    .messages
                    .lock()
                    .unwrap()
                    .insert((channel.clone(), ts), message);
            }
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        Some(Fault::LateEffect(secs)) => {
            record("held, carried out late");
            let (late, method, params) = (inner.clone(), method.clone(), params.clone());
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                let _ = answer(&late, &method, &params);
            });
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        Some(Fault::Hang(secs)) => {
            let taken = answer(&inner, &method, &params).is_ok();
            record(if taken { "ok, answer held" } else { "500" });
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        None => {}
    }
    let wanted = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    match token.as_deref() {
        None => {
            record("not_authed");
            return slack_error("not_authed");
        }
        Some(token) if token != wanted => {
            record("invalid_auth");
            return slack_error("invalid_auth");
        }
        Some(_) => {}
    }
    let answer = answer(&inner, &method, &params);
    let outcome = match &answer {
        Ok(_) => "ok".to_string(),
        Err(code) => code.clone(),
    };
    record(&outcome);
    match answer {
        Ok(mut value) => {
            value["ok"] = json!(true);
            Json(value).into_response()
        }
        Err(code) => slack_error(&code),
    }
}

fn text_of(params: &Value, key: &str) -> Option<String> {
    params[key].as_str().map(str::to_string)
}

/// Checks blocks the way Slack refuses them (`invalid_blocks`).
fn check_blocks(blocks: &Value) -> Result<(), String> {
    let Some(blocks) = blocks.as_array() else {
        return Ok(());
    };
    if blocks.len() > 50 {
        return Err("invalid_blocks".into());
    }
    for block in blocks {
        let valid = match block["type"].as_str() {
            Some("header") => {
                block["text"]["type"] == "plain_text"
                    && block["text"]["text"]
                        .as_str()
                        .is_some_and(|t| t.chars().count() <= 150)
            }
            Some("section") => block["fields"].as_array().is_none_or(|f| {
                f.len() <= 10
                    && f.iter()
                        .all(|t| t["text"].as_str().is_some_and(|t| t.len() <= 2000))
            }),
            Some("actions") => block["elements"].as_array().is_some_and(|e| {
                e.len() <= 25
                    && e.iter().all(|b| {
                        b["type"] == "button"
                            && b["action_id"].as_str().is_some_and(|a| a.len() <= 255)
                            && b["text"]["type"] == "plain_text"
                    })
            }),
            Some("context" | "divider" | "input") => true,
            _ => false,
        };
        if !valid {
            return Err("invalid_blocks".into());
        }
    }
    Ok(())
}

fn answer(inner: &Inner, method: &str, params: &Value) -> Result<Value, String> {
    match method {
        "auth.test" => Ok(json!({
            "url": "https://fake.slack.com/", "team": "Fake Team", "user": "releasebot",
            "team_id": "T0FAKE0001", "user_id": BOT_USER, "bot_id": "B0BOT00001"
        })),
        "apps.connections.open" => {
            let n = inner.opened.fetch_add(1, Ordering::SeqCst) + 1;
            let url = inner.ws_url.lock().unwrap().clone();
            Ok(json!({ "url": format!("{url}?ticket={n}") }))
        }
        "chat.postMessage" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            if !CHANNELS.contains(&channel.as_str()) {
                return Err("channel_not_found".into());
            }
            if params["text"].as_str().is_none_or(str::is_empty) && params["blocks"].is_null() {
                return Err("no_text".into());
            }
            check_blocks(&params["blocks"])?;
            if let Some(thread) = text_of(params, "thread_ts") {
                if !inner
                    .messages
                    .lock()
                    .unwrap()
                    .contains_key(&(channel.clone(), thread))
                {
                    return Err("thread_not_found".into());
                }
            }
            let ts = inner.next_ts();
            let mut message = json!({
                "type": "message", "user": BOT_USER, "bot_id": "B0BOT00001", "ts": ts,
                "text": params["text"], "blocks": params["blocks"]
            });
            if !params["metadata"].is_null() {
                message["metadata"] = params["metadata"].clone();
            }
            if let Some(thread) = params.get("thread_ts") {
                message["thread_ts"] = thread.clone();
            }
            inner
                .messages
                .lock()
                .unwrap()
                .insert((channel.clone(), ts.clone()), message.clone());
            Ok(json!({ "channel": channel, "ts": ts, "message": message }))
        }
        "conversations.history" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            if !CHANNELS.contains(&channel.as_str()) {
                return Err("channel_not_found".into());
            }
            let limit = params["limit"]
                .as_u64()
                .or_else(|| params["limit"].as_str().and_then(|l| l.parse().ok()))
                .unwrap_or(100) as usize;
            let with_metadata =
                params["include_all_metadata"] == true || params["include_all_metadata"] == "true";
            let messages = inner.messages.lock().unwrap();
            let mut found: Vec<Value> = messages
                .iter()
                .filter(|((c, ts), m)| *c == channel && m.get("thread_ts").is_none_or(|t| t == ts))
                .map(|(_, m)| {
                    let mut m = m.clone();
                    if !with_metadata {
                        m.as_object_mut().unwrap().remove("metadata");
                    }
                    m
                })
                .collect();
            // Newest first, after `oldest`, a page at a time from `cursor`.
            let oldest = text_of(params, "oldest").unwrap_or_default();
            found.retain(|m| m["ts"].as_str().unwrap_or_default() > oldest.as_str());
            found.sort_by(|a, b| b["ts"].as_str().cmp(&a["ts"].as_str()));
            let from: usize = text_of(params, "cursor")
                .and_then(|c| c.strip_prefix("page:").and_then(|n| n.parse().ok()))
                .unwrap_or(0);
            let page: Vec<Value> = found.iter().skip(from).take(limit).cloned().collect();
            let more = found.len() > from + limit;
            let next = if more {
                format!("page:{}", from + limit)
            } else {
                String::new()
            };
            Ok(json!({
                "messages": page,
                "has_more": more,
                "response_metadata": { "next_cursor": next }
            }))
        }
        "chat.delete" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            let ts = text_of(params, "ts").ok_or("message_not_found")?;
            let mut messages = inner.messages.lock().unwrap();
            messages
                .remove(&(channel.clone(), ts.clone()))
                .ok_or("message_not_found")?;
            Ok(json!({ "channel": channel, "ts": ts }))
        }
        // https://api.slack.com/methods/chat.getPermalink
        "chat.getPermalink" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            let ts = text_of(params, "message_ts").ok_or("message_not_found")?;
            if !inner
                .messages
                .lock()
                .unwrap()
                .contains_key(&(channel.clone(), ts.clone()))
            {
                return Err("message_not_found".into());
            }
            Ok(json!({
                "channel": channel,
                "permalink": format!("https://fake.slack.com/archives/{channel}/p{}", ts.replace('.', "")),
            }))
        }
        "chat.update" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            let ts = text_of(params, "ts").ok_or("message_not_found")?;
            check_blocks(&params["blocks"])?;
            let mut messages = inner.messages.lock().unwrap();
            let message = messages
                .get_mut(&(channel.clone(), ts.clone()))
                .ok_or("message_not_found")?;
            message["text"] = params["text"].clone();
            message["blocks"] = params["blocks"].clone();
            message["edited"] = json!({"user": BOT_USER, "ts": ts});
            Ok(json!({
                "channel": channel, "ts": ts, "text": params["text"],
                "message": {"text": params["text"], "user": BOT_USER, "bot_id": "B0BOT00001"}
            }))
        }
        "chat.postEphemeral" => {
            let channel = text_of(params, "channel").ok_or("channel_not_found")?;
            if !CHANNELS.contains(&channel.as_str()) {
                return Err("channel_not_found".into());
            }
            let user = text_of(params, "user").ok_or("user_not_found")?;
            if !PEOPLE.iter().any(|(id, _)| *id == user) {
                return Err("user_not_in_channel".into());
            }
            Ok(json!({ "message_ts": "1764151200.999999" }))
        }
        "users.info" => {
            let user = text_of(params, "user").ok_or("user_not_found")?;
            let (id, name) = PEOPLE
                .iter()
                .find(|(id, _)| *id == user)
                .ok_or("user_not_found")?;
            Ok(json!({ "user": {
                "id": id, "team_id": "T0FAKE0001", "name": name.to_lowercase().replace(' ', "."),
                "real_name": name, "profile": {"display_name": name, "real_name": name}
            }}))
        }
        "usergroups.list" => {
            let (id, handle, member) = LEADS_GROUP;
            let mut group = json!({
                "id": id, "team_id": "T0FAKE0001", "is_usergroup": true, "name": "Release leads",
                "description": "", "handle": handle, "is_external": false,
                "date_create": 1700000000, "date_update": 1700000000, "date_delete": 0,
                "auto_type": null, "created_by": "U0BOB00001", "updated_by": "U0BOB00001",
                "deleted_by": null, "prefs": {"channels": [], "groups": []}, "user_count": 1
            });
            if params["include_users"] == "true" || params["include_users"] == true {
                group["users"] = json!([member]);
            }
            Ok(json!({ "usergroups": [group] }))
        }
        "views.open" => {
            if text_of(params, "trigger_id").is_none() {
                return Err("invalid_trigger_id".into());
            }
            let mut view = if params["view"].is_string() {
                serde_json::from_str(params["view"].as_str().unwrap()).unwrap_or(Value::Null)
            } else {
                params["view"].clone()
            };
            if view["type"] != "modal" {
                return Err("invalid_arguments".into());
            }
            view["id"] = json!("V0FAKE0001");
            view["team_id"] = json!("T0FAKE0001");
            view["hash"] = json!("1764151200.fake");
            view["state"] = json!({"values": {}});
            Ok(json!({ "view": view }))
        }
        _ => Err("unknown_method".into()),
    }
}

// Payloads Slack sends, as documented.

pub fn slash_envelope(
    envelope: &str,
    user: &str,
    channel: &str,
    text: &str,
    trigger: &str,
    response_base: &str,
) -> Value {
    json!({
        "envelope_id": envelope,
        "type": "slash_commands",
        "accepts_response_payload": true,
        "payload": slash_payload(user, channel, text, trigger, response_base),
    })
}

pub fn slash_payload(
    user: &str,
    channel: &str,
    text: &str,
    trigger: &str,
    response_base: &str,
) -> Value {
    json!({
        "token": "deprecated-verification-token",
        "team_id": "T0FAKE0001", "team_domain": "fake",
        "channel_id": channel, "channel_name": "releases",
        "user_id": user, "user_name": user.to_lowercase(),
        "command": "/release", "text": text,
        "api_app_id": "A0FAKEAPP1", "is_enterprise_install": "false",
        "response_url": format!("{response_base}/response/{trigger}"),
        "trigger_id": trigger,
    })
}

/// An `interactive` envelope around a payload (`button_payload`, a view submission).
pub fn interactive_envelope(envelope: &str, payload: Value) -> Value {
    json!({
        "envelope_id": envelope,
        "type": "interactive",
        "accepts_response_payload": false,
        "payload": payload,
    })
}

pub fn button_payload(
    user: &str,
    channel: &str,
    message_ts: &str,
    action_id: &str,
    release: &str,
    trigger: &str,
    response_base: &str,
) -> Value {
    json!({
        "type": "block_actions",
        "team": {"id": "T0FAKE0001", "domain": "fake"},
        "user": {"id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T0FAKE0001"},
        "api_app_id": "A0FAKEAPP1",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": false},
        "trigger_id": trigger,
        "channel": {"id": channel, "name": "releases"},
        "message": {"type": "message", "user": BOT_USER, "ts": message_ts, "text": "announcement"},
        "response_url": format!("{response_base}/response/{trigger}"),
        "actions": [{
            "action_id": action_id, "block_id": format!("release:{release}"),
            "text": {"type": "plain_text", "text": "Approve", "emoji": true},
            "value": release, "type": "button", "action_ts": "1764151260.000001"
        }]
    })
}

pub fn event_envelope(envelope: &str, event_id: &str, event: Value, retry: u32) -> Value {
    json!({
        "envelope_id": envelope,
        "type": "events_api",
        "accepts_response_payload": false,
        "retry_attempt": retry,
        "retry_reason": if retry > 0 { "timeout" } else { "" },
        "payload": event_callback(event_id, event),
    })
}

pub fn event_callback(event_id: &str, event: Value) -> Value {
    json!({
        "token": "deprecated-verification-token",
        "team_id": "T0FAKE0001",
        "api_app_id": "A0FAKEAPP1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1764151260,
        "authorizations": [{"team_id": "T0FAKE0001", "user_id": BOT_USER, "is_bot": true}]
    })
}

/// A person's message in the thread of `thread_ts`.
pub fn thread_message(user: &str, channel: &str, thread_ts: &str, ts: &str, text: &str) -> Value {
    json!({
        "type": "message", "channel": channel, "user": user, "text": text,
        "ts": ts, "thread_ts": thread_ts, "event_ts": ts, "channel_type": "channel",
        "client_msg_id": format!("msg-{ts}")
    })
}

pub fn app_mention(user: &str, channel: &str, ts: &str, text: &str) -> Value {
    json!({
        "type": "app_mention", "user": user, "text": text, "ts": ts,
        "channel": channel, "event_ts": ts
    })
}
