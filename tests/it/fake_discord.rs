//! A fake Discord on 127.0.0.1: the REST routes the bot calls (checking the
//! `Bot` token and bodies as Discord does, answering in Discord's shapes) and
//! a gateway websocket speaking the documented opcodes: Hello (10) →
//! Identify (2) → READY, dispatches (0), heartbeats (1) answered with ACKs (11).
//! Shapes: <https://discord.com/developers/docs/topics/gateway>,
//! <https://discord.com/developers/docs/interactions/receiving-and-responding>.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

pub const TOKEN: &str = "fake.discord.bot-token";
pub const APP: &str = "1100000000000000001";
pub const BOT: &str = "1100000000000000002";
pub const GUILD: &str = "1200000000000000001";
pub const RELEASES: &str = "1300000000000000001";
pub const STAKEHOLDERS: &str = "1300000000000000002";
pub const ALICE: &str = "1400000000000000001";
pub const BOB: &str = "1400000000000000002";
pub const CAROL: &str = "1400000000000000003";
pub const DAVE: &str = "1400000000000000004";
/// Discord says 41,250 ms; the fake asks for beats often enough to see some in a test.
pub const HEARTBEAT_MS: u64 = 500;
/// The guild role that makes a member a release manager.
pub const LEADS_ROLE: &str = "1500000000000000001";

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// HTTP 429 with `retry_after` in the body (seconds).
    RateLimited(f64),
    ServerError,
    /// The call takes effect, but the answer is lost (a 500 comes back).
    LostResponse,
    /// The post takes effect and its answer is lost, and then `n` other
    /// messages land in the channel: a busy channel, where the lost post
    /// is far below the latest page of history.
    LostInBusyChannel(usize),
    /// Discord holds the call for `secs` and only then carries it out (the
    /// caller has long given up): a late answer.
    LateEffect(u64),
}

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub status: u16,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Call>>,
    /// Messages by id: their channel and current JSON.
    messages: Mutex<HashMap<String, Value>>,
    /// Channel ids that exist (the text channels and opened threads).
    threads: Mutex<Vec<String>>,
    commands: Mutex<Option<Value>>,
    /// Enforced nonces seen, by channel and nonce: the message they made,
    /// and when.
    nonces: Mutex<HashMap<(String, String), (String, Instant)>>,
    /// How long an enforced nonce is remembered ("the past few minutes";
    /// five unless a test shortens it).
    nonce_window: Mutex<Option<std::time::Duration>>,
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    gateways: Mutex<Vec<mpsc::UnboundedSender<String>>>,
    identifies: AtomicUsize,
    connections: AtomicUsize,
    heartbeats_acked: AtomicUsize,
    sequence: AtomicU64,
    next_id: AtomicU64,
    ws_url: Mutex<String>,
    /// When each interaction was dispatched.
    dispatched: Mutex<HashMap<String, Instant>>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    /// `http://127.0.0.1:PORT`, for `discord.proxy_url`.
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Inner::default());
        // Real snowflakes: milliseconds since Discord's epoch in the top bits.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        inner
            .next_id
            .store((now_ms - 1_420_070_400_000) << 22, Ordering::SeqCst);
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        *inner.ws_url.lock().unwrap() = format!("ws://{}", ws.local_addr().unwrap());
        tokio::spawn(accept_gateways(ws, inner.clone()));
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", http.local_addr().unwrap());
        let app = Router::new()
            .route("/api/v10/gateway", get(gateway_url))
            .route("/api/v10/gateway/bot", get(gateway_url))
            .route("/api/v10/{*path}", any(rest))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
        FakeDiscord { base, inner }
    }

    pub fn fail_next(&self, route: &str, fault: Fault) {
        let mut faults = self.inner.faults.lock().unwrap();
        faults
            .entry(route.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Calls whose `METHOD path` starts with `prefix` (e.g. `POST /channels/1300…/messages`).
    pub fn calls(&self, prefix: &str) -> Vec<Call> {
        let calls = self.inner.calls.lock().unwrap();
        calls
            .iter()
            .filter(|c| format!("{} {}", c.method, c.path).starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn ok_calls(&self, prefix: &str) -> Vec<Call> {
        self.calls(prefix)
            .into_iter()
            .filter(|c| c.status < 300)
            .collect()
    }

    /// Messages in `channel` as Discord holds them, however the bot's calls
    /// were answered.
    pub fn stored_in(&self, channel: &str) -> Vec<Value> {
        let messages = self.inner.messages.lock().unwrap();
        messages
            .values()
            .filter(|m| m["channel_id"] == channel)
            .cloned()
            .collect()
    }

    pub fn message(&self, id: &str) -> Option<Value> {
        self.inner.messages.lock().unwrap().get(id).cloned()
    }

    /// Messages posted in `channel`, oldest first.
    pub fn posted_in(&self, channel: &str) -> Vec<Value> {
        self.ok_calls(&format!("POST /channels/{channel}/messages"))
            .into_iter()
            .filter(|c| c.path == format!("/channels/{channel}/messages"))
            .map(|c| c.body)
            .collect()
    }

    pub fn identifies(&self) -> usize {
        self.inner.identifies.load(Ordering::SeqCst)
    }

    /// Heartbeats (op 1) answered with an ACK (op 11).
    pub fn heartbeats_acked(&self) -> usize {
        self.inner.heartbeats_acked.load(Ordering::SeqCst)
    }

    /// Gateway connections opened so far.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    pub fn live_gateways(&self) -> usize {
        let mut gateways = self.inner.gateways.lock().unwrap();
        gateways.retain(|g| !g.is_closed());
        gateways.len()
    }

    /// Sends a dispatch (op 0) on the live gateway connection.
    pub fn dispatch(&self, event: &str, data: Value) {
        if event == "INTERACTION_CREATE" {
            let id = data["id"].as_str().unwrap_or_default().to_string();
            self.inner
                .dispatched
                .lock()
                .unwrap()
                .insert(id, Instant::now());
        }
        let s = self.inner.sequence.fetch_add(1, Ordering::SeqCst) + 2;
        let frame = json!({"op": 0, "s": s, "t": event, "d": data});
        let mut gateways = self.inner.gateways.lock().unwrap();
        gateways.retain(|g| !g.is_closed());
        gateways
            .last()
            .expect("no live gateway connection")
            .send(frame.to_string())
            .unwrap();
    }

    /// Forgets enforced nonces after `window` instead of five minutes.
    pub fn forget_nonces_after(&self, window: std::time::Duration) {
        *self.inner.nonce_window.lock().unwrap() = Some(window);
    }

    /// Interaction dispatched → its callback received, for every answered one.
    pub fn callback_latencies(&self) -> Vec<std::time::Duration> {
        let dispatched = self.inner.dispatched.lock().unwrap();
        self.ok_calls("POST /interactions/")
            .iter()
            .filter_map(|call| {
                let id = call.path.split('/').nth(2)?;
                Some(call.at - *dispatched.get(id)?)
            })
            .collect()
    }

    /// The interaction callbacks for `interaction`.
    pub fn callbacks(&self, interaction: &str) -> Vec<Value> {
        self.ok_calls(&format!("POST /interactions/{interaction}/"))
            .into_iter()
            .map(|c| c.body)
            .collect()
    }
}

async fn gateway_url(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let url = inner.ws_url.lock().unwrap().clone();
    Json(json!({
        "url": url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
    }))
}

pub fn user(id: &str, name: &str, bot: bool) -> Value {
    json!({
        "id": id, "username": name, "discriminator": "0", "global_name": name,
        "avatar": null, "bot": bot, "public_flags": 0
    })
}

pub fn member(id: &str, name: &str, roles: &[&str]) -> Value {
    json!({
        "user": user(id, name, false), "nick": null, "avatar": null, "roles": roles,
        "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
        "flags": 0, "pending": false, "permissions": "2248473465835073"
    })
}

/// A message object as Discord returns and dispatches it.
pub fn message(id: &str, channel: &str, author: Value, content: &str) -> Value {
    json!({
        "id": id, "channel_id": channel, "author": author, "content": content,
        "timestamp": "2026-11-26T10:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0, "components": []
    })
}

async fn accept_gateways(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    while let Ok((stream, _)) = listener.accept().await {
        inner.connections.fetch_add(1, Ordering::SeqCst);
        let inner = inner.clone();
        tokio::spawn(async move {
            // As a real server would: no Nagle delay on small frames.
            let _ = stream.set_nodelay(true);
            let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let (mut write, mut read) = socket.split();
            let hello =
                json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": null, "t": null});
            if write.send(Frame::text(hello.to_string())).await.is_err() {
                return;
            }
            let (tx, mut rx) = mpsc::unbounded_channel::<String>();
            loop {
                tokio::select! {
                    out = rx.recv() => match out {
                        Some(text) => if write.send(Frame::text(text)).await.is_err() { return },
                        None => return,
                    },
                    frame = read.next() => {
                        let text = match frame {
                            Some(Ok(Frame::Text(text))) => text.to_string(),
                            Some(Ok(Frame::Binary(_) | Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_))) => continue,
                            _ => return,
                        };
                        let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                        match payload["op"].as_u64() {
                            Some(1) => {
                                inner.heartbeats_acked.fetch_add(1, Ordering::SeqCst);
                                let ack = json!({"op": 11, "d": null, "s": null, "t": null});
                                if write.send(Frame::text(ack.to_string())).await.is_err() { return }
                            }
                            Some(2) => {
                                let token = payload["d"]["token"].as_str().unwrap_or_default();
                                if token.trim_start_matches("Bot ") != TOKEN {
                                    // 4004: Authentication failed.
                                    let _ = write.send(Frame::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                        code: 4004u16.into(), reason: "Authentication failed.".into(),
                                    }))).await;
                                    return;
                                }
                                inner.identifies.fetch_add(1, Ordering::SeqCst);
                                let url = inner.ws_url.lock().unwrap().clone();
                                let ready = json!({"op": 0, "s": 1, "t": "READY", "d": {
                                    "v": 10, "user": user(BOT, "releasebot", true),
                                    "guilds": [{"id": GUILD, "unavailable": true}],
                                    "session_id": "fake-session", "resume_gateway_url": url,
                                    "shard": [0, 1], "application": {"id": APP, "flags": 0},
                                    "private_channels": [], "presences": [], "relationships": []
                                }});
                                if write.send(Frame::text(ready.to_string())).await.is_err() { return }
                                inner.gateways.lock().unwrap().push(tx.clone());
                            }
                            _ => {}
                        }
                    }
                }
            }
        });
    }
}

fn discord_error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

async fn rest(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{path}");
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let route = format!("{method} {path}");
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    if let Some(secs) = late_effect(&inner, &route) {
        // Carried out after `secs`, when the caller has given up.
        let late = inner.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            let request = Request {
                path: &path,
                query: &query,
                method: &method,
                headers: &headers,
                body: &body,
            };
            let _ = handle(&late, "", &request);
        });
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let request = Request {
        path: &path,
        query: &query,
        method: &method,
        headers: &headers,
        body: &body,
    };
    let (status, answer) = handle(&inner, &route, &request);
    inner.calls.lock().unwrap().push(Call {
        method: method.to_string(),
        path: path.clone(),
        body,
        status: status.as_u16(),
        at: Instant::now(),
    });
    answer
}

/// Takes a planned `LateEffect` for `route`, if one is next.
fn late_effect(inner: &Inner, route: &str) -> Option<u64> {
    let mut faults = inner.faults.lock().unwrap();
    let queue = faults
        .iter_mut()
        .find(|(prefix, queue)| route.starts_with(prefix.as_str()) && !queue.is_empty())?
        .1;
    match queue.front() {
        Some(Fault::LateEffect(secs)) => {
            let secs = *secs;
            queue.pop_front();
            Some(secs)
        }
        _ => None,
    }
}

/// One REST call, as the fake reads it.
struct Request<'a> {
    path: &'a str,
    query: &'a HashMap<String, String>,
    method: &'a Method,
    headers: &'a HeaderMap,
    body: &'a Value,
}

fn handle(inner: &Inner, route: &str, request: &Request) -> (StatusCode, Response) {
    let Request {
        path,
        query,
        method,
        headers,
        body,
    } = *request;
    let fault = {
        let mut faults = inner.faults.lock().unwrap();
        faults
            .iter_mut()
            .find(|(prefix, queue)| route.starts_with(prefix.as_str()) && !queue.is_empty())
            .and_then(|(_, queue)| queue.pop_front())
    };
    match fault {
        Some(Fault::RateLimited(seconds)) => {
            let body = json!({"message": "You are being rate limited.", "retry_after": seconds, "global": false});
            return (
                StatusCode::TOO_MANY_REQUESTS,
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        ("retry-after", format!("{}", seconds.ceil())),
                        ("x-ratelimit-reset-after", format!("{seconds:.3}")),
                        ("x-ratelimit-scope", "user".to_string()),
                    ],
                    Json(body),
                )
                    .into_response(),
            );
        }
        Some(Fault::ServerError) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            );
        }
        Some(Fault::LostResponse) => {
            let _ = handle(inner, "", request);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            );
        }
        Some(Fault::LostInBusyChannel(chatter)) => {
            let _ = handle(inner, "", request);
            let channel = path.split('/').nth(2).unwrap_or_default();
            for n in 0..chatter {
                let id = inner.next_id.fetch_add(1, Ordering::SeqCst).to_string();
                let said = message(
                    &id,
                    channel,
                    user(ALICE, "alice", false),
                    &format!("chatter {n}"),
                );
                inner.messages.lock().unwrap().insert(id, said);
            }
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            );
        }
        // Taken in `rest`, which can wait.
        Some(Fault::LateEffect(_)) | None => {}
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Interaction callbacks and webhooks are authorised by their token, not the bot's.
    let token_routes = matches!(parts.first(), Some(&"interactions") | Some(&"webhooks"));
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bot {TOKEN}"));
    if !token_routes && !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized"),
        );
    }
    let ok = |value: Value| (StatusCode::OK, Json(value).into_response());
    let new_id = || inner.next_id.fetch_add(1, Ordering::SeqCst).to_string();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["applications", app, "guilds", guild, "commands"])
            if *app == APP && *guild == GUILD =>
        {
            ok(inner.commands.lock().unwrap().clone().unwrap_or(json!([])))
        }
        ("PUT", ["applications", app, "guilds", guild, "commands"])
            if *app == APP && *guild == GUILD =>
        {
            let Some(list) = body.as_array() else {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            };
            let valid = list.iter().all(|c| {
                c["name"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty() && n.len() <= 32)
                    && c["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty() && d.len() <= 100)
                    && c["options"].as_array().is_none_or(|o| o.len() <= 25)
            });
            if !valid {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            let stored: Vec<Value> = list
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c["id"] = json!(new_id());
                    c["application_id"] = json!(APP);
                    c["guild_id"] = json!(GUILD);
                    c["version"] = json!(new_id());
                    c["type"] = c.get("type").cloned().unwrap_or(json!(1));
                    c["default_member_permissions"] = Value::Null;
                    c["nsfw"] = json!(false);
                    c
                })
                .collect();
            *inner.commands.lock().unwrap() = Some(json!(stored));
            ok(json!(stored))
        }
        ("POST", ["interactions", _id, _token, "callback"]) => {
            if body["type"].as_u64().is_none() {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            (
                StatusCode::NO_CONTENT,
                StatusCode::NO_CONTENT.into_response(),
            )
        }
        ("PATCH", ["webhooks", app, _token, "messages", "@original"])
        | ("POST", ["webhooks", app, _token])
            if *app == APP =>
        {
            let content = body["content"].as_str().unwrap_or_default();
            if content.chars().count() > 2000 {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            ok(message(
                &new_id(),
                RELEASES,
                user(BOT, "releasebot", true),
                content,
            ))
        }
        ("POST", ["channels", channel, "messages"]) => {
            let known = [RELEASES, STAKEHOLDERS].contains(channel)
                || inner.threads.lock().unwrap().iter().any(|t| t == channel);
            if !known {
                return (
                    StatusCode::NOT_FOUND,
                    discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
                );
            }
            if check_message(body).is_err() {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            let nonce = body["nonce"]
                .as_str()
                .filter(|_| body["enforce_nonce"] == true);
            if let Some(nonce) = nonce {
                let key = (channel.to_string(), nonce.to_string());
                let window = inner
                    .nonce_window
                    .lock()
                    .unwrap()
                    .unwrap_or(std::time::Duration::from_secs(300));
                let remembered = inner.nonces.lock().unwrap().get(&key).cloned();
                if let Some((earlier, _)) = remembered.filter(|(_, at)| at.elapsed() < window) {
                    let messages = inner.messages.lock().unwrap();
                    if let Some(made) = messages.get(&earlier) {
                        return ok(made.clone());
                    }
                }
            }
            let id = new_id();
            if let Some(nonce) = nonce {
                let key = (channel.to_string(), nonce.to_string());
                inner
                    .nonces
                    .lock()
                    .unwrap()
                    .insert(key, (id.clone(), Instant::now()));
            }
            let mut posted = message(
                &id,
                channel,
                user(BOT, "releasebot", true),
                body["content"].as_str().unwrap_or_default(),
            );
            posted["embeds"] = body.get("embeds").cloned().unwrap_or(json!([]));
            posted["components"] = body.get("components").cloned().unwrap_or(json!([]));
            inner.messages.lock().unwrap().insert(id, posted.clone());
            ok(posted)
        }
        // https://discord.com/developers/docs/resources/channel#get-channel
        ("GET", ["channels", channel]) => {
            if ![RELEASES, STAKEHOLDERS].contains(channel) {
                return (
                    StatusCode::NOT_FOUND,
                    discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
                );
            }
            ok(json!({
                "id": channel, "type": 0, "guild_id": GUILD, "name": "releases",
                "position": 0, "permission_overwrites": [], "nsfw": false,
                "parent_id": null, "last_message_id": null, "rate_limit_per_user": 0
            }))
        }
        ("GET", ["channels", channel, "messages"]) => {
            let messages = inner.messages.lock().unwrap();
            let mut found: Vec<Value> = messages
                .values()
                .filter(|m| m["channel_id"] == *channel)
                .cloned()
                .collect();
            // Newest first, before `before`, at most `limit` (1–100, default 50).
            let id_of = |m: &Value| m["id"].as_str().and_then(|id| id.parse::<u64>().ok());
            if let Some(before) = query.get("before").and_then(|b| b.parse::<u64>().ok()) {
                found.retain(|m| id_of(m).is_some_and(|id| id < before));
            }
            found.sort_by_key(|m| std::cmp::Reverse(id_of(m)));
            let limit = query
                .get("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(50)
                .clamp(1, 100);
            found.truncate(limit);
            ok(json!(found))
        }
        ("DELETE", ["channels", channel, "messages", id]) => {
            let mut messages = inner.messages.lock().unwrap();
            if messages
                .get(*id)
                .is_none_or(|m| m["channel_id"] != *channel)
            {
                return (
                    StatusCode::NOT_FOUND,
                    discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
                );
            }
            messages.remove(*id);
            (
                StatusCode::NO_CONTENT,
                StatusCode::NO_CONTENT.into_response(),
            )
        }
        ("PATCH", ["channels", channel, "messages", id]) => {
            if check_message(body).is_err() {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            let mut messages = inner.messages.lock().unwrap();
            let Some(current) = messages
                .get_mut(*id)
                .filter(|m| m["channel_id"] == *channel)
            else {
                return (
                    StatusCode::NOT_FOUND,
                    discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
                );
            };
            for key in ["content", "embeds", "components"] {
                if let Some(value) = body.get(key) {
                    current[key] = value.clone();
                }
            }
            current["edited_timestamp"] = json!("2026-11-26T10:00:01.000000+00:00");
            ok(current.clone())
        }
        ("POST", ["channels", channel, "messages", id, "threads"]) => {
            if !inner.messages.lock().unwrap().contains_key(*id) {
                return (
                    StatusCode::NOT_FOUND,
                    discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
                );
            }
            let name = body["name"].as_str().unwrap_or_default();
            if name.is_empty() || name.chars().count() > 100 {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
                );
            }
            let mut threads = inner.threads.lock().unwrap();
            if threads.iter().any(|t| t == id) {
                return (
                    StatusCode::BAD_REQUEST,
                    discord_error(
                        StatusCode::BAD_REQUEST,
                        160004,
                        "A thread has already been created for this message",
                    ),
                );
            }
            threads.push(id.to_string());
            ok(json!({
                "id": id, "type": 11, "guild_id": GUILD, "parent_id": channel, "name": name,
                "owner_id": BOT, "last_message_id": null, "rate_limit_per_user": 0,
                "message_count": 0, "member_count": 1, "flags": 0, "total_message_sent": 0,
                "thread_metadata": {"archived": false, "auto_archive_duration": body["auto_archive_duration"].as_u64().unwrap_or(4320),
                    "archive_timestamp": "2026-11-26T10:00:00.000000+00:00", "locked": false}
            }))
        }
        _ => (
            StatusCode::NOT_FOUND,
            discord_error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
        ),
    }
}

/// Refuses what Discord refuses: over-long content, too many embeds or
/// fields, over-long titles, malformed buttons.
fn check_message(body: &Value) -> Result<(), ()> {
    if body["content"]
        .as_str()
        .is_some_and(|c| c.chars().count() > 2000)
    {
        return Err(());
    }
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    if embeds.len() > 10 {
        return Err(());
    }
    for embed in &embeds {
        let title_ok = embed["title"]
            .as_str()
            .is_none_or(|t| t.chars().count() <= 256);
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        let fields_ok = fields.len() <= 25
            && fields.iter().all(|f| {
                f["name"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty() && n.chars().count() <= 256)
                    && f["value"]
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v.chars().count() <= 1024)
            });
        if !title_ok || !fields_ok {
            return Err(());
        }
    }
    for row in body["components"].as_array().cloned().unwrap_or_default() {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        let ok = row["type"] == 1
            && buttons.len() <= 5
            && buttons.iter().all(|b| {
                b["type"] == 2
                    && b["custom_id"].as_str().is_some_and(|c| c.len() <= 100)
                    && b["label"].is_string()
            });
        if !ok {
            return Err(());
        }
    }
    Ok(())
}

// Interactions as Discord dispatches them.

fn interaction(id: &str, kind: u64, who: (&str, &str, &[&str]), data: Value) -> Value {
    json!({
        "id": id, "application_id": APP, "type": kind, "data": data,
        "guild_id": GUILD, "channel_id": RELEASES,
        "channel": {"id": RELEASES, "type": 0, "name": "releases", "guild_id": GUILD},
        "member": member(who.0, who.1, who.2),
        "token": format!("token-{id}"), "version": 1,
        "app_permissions": "2248473465835073", "locale": "en-US", "guild_locale": "en-US",
        "entitlements": [], "authorizing_integration_owners": {"0": GUILD}, "context": 0,
        "attachment_size_limit": 10485760
    })
}

/// `/release <sub>` with string options.
pub fn slash(id: &str, who: (&str, &str, &[&str]), sub: &str, options: &[(&str, &str)]) -> Value {
    let options: Vec<Value> = options
        .iter()
        .map(|(name, value)| json!({"type": 3, "name": name, "value": value}))
        .collect();
    interaction(
        id,
        2,
        who,
        json!({
            "id": "1700000000000000001", "name": "release", "type": 1, "guild_id": GUILD,
            "options": [{"type": 1, "name": sub, "options": options}]
        }),
    )
}

/// Autocomplete while typing `typed` in `/release <sub>`'s id option.
pub fn autocomplete(id: &str, who: (&str, &str, &[&str]), sub: &str, typed: &str) -> Value {
    interaction(
        id,
        4,
        who,
        json!({
            "id": "1700000000000000001", "name": "release", "type": 1, "guild_id": GUILD,
            "options": [{"type": 1, "name": sub, "options": [{"type": 3, "name": "id", "value": typed, "focused": true}]}]
        }),
    )
}

/// A click on a button of the announcement `message`.
pub fn click(id: &str, who: (&str, &str, &[&str]), custom_id: &str, announcement: Value) -> Value {
    let mut click = interaction(
        id,
        3,
        who,
        json!({"custom_id": custom_id, "component_type": 2}),
    );
    click["message"] = announcement;
    click
}

/// The reject modal submitted with a reason.
pub fn modal_submit(id: &str, who: (&str, &str, &[&str]), custom_id: &str, reason: &str) -> Value {
    interaction(
        id,
        5,
        who,
        json!({
            "custom_id": custom_id,
            "components": [{"type": 1, "components": [{"type": 4, "custom_id": "reason", "value": reason}]}]
        }),
    )
}

/// MESSAGE_CREATE by a person in `channel` (a thread's id is its message's).
pub fn chat_message(id: &str, channel: &str, who: (&str, &str, &[&str]), content: &str) -> Value {
    let mut created = message(id, channel, user(who.0, who.1, false), content);
    created["guild_id"] = json!(GUILD);
    let mut partial = member(who.0, who.1, who.2);
    partial.as_object_mut().unwrap().remove("user");
    created["member"] = partial;
    created
}
