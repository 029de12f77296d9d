//! Sign-in to the dashboard from chat: `dashboard` answers privately with a
//! personal link (128 random bits; only its hash is stored; 15 minutes;
//! one use; bound to the chat user). A GET of the link only shows who it
//! would sign in (chat apps fetch links for previews); the POST from that
//! page spends it and starts a session, kept in the store (any instance
//! serves it) under the hash of its cookie, for 30 days or until signed out.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::ids::UserRef;
use crate::domain::text::Text;
use crate::domain::Act;
use crate::store::StoreResult;

use super::{Engine, EngineResult, Reply};

const LINK: &str = "signin";
const SESSION: &str = "session";
/// The record of the last `signout-everyone`: sessions started before it
/// are over.
const ROTATION: (&str, &str) = ("dashboard", "signed-out-everyone");
pub const LINK_LIFETIME: Duration = Duration::minutes(15);
pub const SESSION_DAYS: i64 = 30;
pub const SESSION_LIFETIME: Duration = Duration::days(SESSION_DAYS);

/// Who a link or a session is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub user: UserRef,
    /// As their chat platform names them, when the bot knows.
    pub name: String,
    pub expires_at: DateTime<Utc>,
}

/// The last time an admin signed everyone out (a key rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub by: UserRef,
    pub at: DateTime<Utc>,
}

/// What a session cookie is worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLookup {
    Active(Visitor),
    /// It was started before everyone was signed out.
    Ended(Rotation),
    /// Not one the bot made, signed out, or expired.
    Unknown,
}

/// Why a link does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not one the bot made (or mistyped).
    Unknown,
    Used,
    Expired,
}

/// 128 random bits, hex.
fn secret() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps for a secret: its SHA-256, hex.
fn hashed(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn well_formed(secret: &str) -> bool {
    secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Link {
    visitor: Visitor,
    #[serde(default)]
    used: bool,
}

impl Engine {
    /// The engine's clock, for pages that judge a date.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The pages' public address: `[dashboard] url`, else the listener's.
    pub fn dashboard_url(&self) -> String {
        let config = &self.config;
        config
            .dashboard
            .url
            .clone()
            .unwrap_or_else(|| match config.http_listen {
                Some(address) => format!("http://{address}"),
                None => "http://127.0.0.1:8686".to_string(),
            })
    }

    /// `dashboard`: a personal sign-in link, for the asker alone.
    pub(crate) fn dashboard_link(&self, user: &UserRef) -> EngineResult<Reply> {
        let token = secret();
        let now = self.clock.now();
        let link = Link {
            visitor: Visitor {
                user: user.clone(),
                name: self.display_name(user),
                expires_at: now + LINK_LIFETIME,
            },
            used: false,
        };
        let body = serde_json::to_vec(&link).expect("links always serialize");
        self.commit(|tx| tx.put_record(LINK, &hashed(&token), Some(&body)))?;
        let url = format!("{}/signin/{token}", self.dashboard_url());
        Ok(Reply::new(
            Text::plain("Your dashboard sign-in link, for you alone (one use, 15 minutes): ")
                .link(url),
        ))
    }

    /// Who a link would sign in, without spending it.
    pub fn peek_link(&self, token: &str) -> StoreResult<Result<Visitor, LinkProblem>> {
        if !well_formed(token) {
            return Ok(Err(LinkProblem::Unknown));
        }
        let link = self.store.record(LINK, &hashed(token))?;
        Ok(self.judge(link.as_deref()))
    }

    fn judge(&self, link: Option<&[u8]>) -> Result<Visitor, LinkProblem> {
        let link: Link = link
            .and_then(|b| serde_json::from_slice(b).ok())
            .ok_or(LinkProblem::Unknown)?;
        if link.used {
            Err(LinkProblem::Used)
        } else if link.visitor.expires_at <= self.clock.now() {
            Err(LinkProblem::Expired)
        } else {
            Ok(link.visitor)
        }
    }

    /// Spends a link and starts a session: its cookie value and who.
    pub fn redeem_link(&self, token: &str) -> StoreResult<Result<(String, Visitor), LinkProblem>> {
        if !well_formed(token) {
            return Ok(Err(LinkProblem::Unknown));
        }
        let cookie = secret();
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let key = hashed(token);
            let stored = tx.record(LINK, &key)?;
            let visitor = match self.judge(stored.as_deref()) {
                Ok(visitor) => visitor,
                Err(problem) => return Ok(Err(problem)),
            };
            let spent = Link {
                visitor: visitor.clone(),
                used: true,
            };
            let body = serde_json::to_vec(&spent).expect("links always serialize");
            tx.put_record(LINK, &key, Some(&body))?;
            let session = Visitor {
                expires_at: now + SESSION_LIFETIME,
                ..visitor
            };
            let body = serde_json::to_vec(&session).expect("sessions always serialize");
            tx.put_record(SESSION, &hashed(&cookie), Some(&body))?;
            Ok(Ok((cookie.clone(), session)))
        })
    }

    /// The session a cookie holds, while it lasts.
    pub fn session(&self, cookie: &str) -> StoreResult<SessionLookup> {
        if !well_formed(cookie) {
            return Ok(SessionLookup::Unknown);
        }
        let stored = self.store.record(SESSION, &hashed(cookie))?;
        let Some(visitor) = stored
            .and_then(|b| serde_json::from_slice::<Visitor>(&b).ok())
            .filter(|v| v.expires_at > self.clock.now())
        else {
            return Ok(SessionLookup::Unknown);
        };
        let rotation = self.store.record(ROTATION.0, ROTATION.1)?;
        let rotation = rotation.and_then(|b| serde_json::from_slice::<Rotation>(&b).ok());
        match rotation {
            Some(rotation) if visitor.expires_at - SESSION_LIFETIME < rotation.at => {
                Ok(SessionLookup::Ended(rotation))
            }
            _ => Ok(SessionLookup::Active(visitor)),
        }
    }

    /// `signout-everyone`: ends every session on every instance; a cookie
    /// from before gets a page saying so.
    pub(crate) fn sign_out_everyone(&self, actor: &UserRef) -> EngineResult<Reply> {
        self.require_admin(actor, Act::SignOutEveryone)?;
        let rotation = Rotation {
            by: actor.clone(),
            at: self.clock.now(),
        };
        let body = serde_json::to_vec(&rotation).expect("rotations always serialize");
        self.commit(|tx| {
            tx.put_record(ROTATION.0, ROTATION.1, Some(&body))?;
            tx.audit(self.audit_plain(actor, "signout-everyone", String::new()))?;
            Ok(())
        })?;
        Ok(Reply::new(
            "Every dashboard session has ended. Everyone signs in again with `dashboard`.",
        ))
    }

    /// Ends a session, for every instance.
    pub fn sign_out(&self, cookie: &str) -> StoreResult<()> {
        if well_formed(cookie) {
            self.store
                .transaction(|tx| tx.put_record(SESSION, &hashed(cookie), None))?;
        }
        Ok(())
    }

    fn display_name(&self, user: &UserRef) -> String {
        self.names
            .read()
            .ok()
            .and_then(|names| names.get(user).cloned())
            .unwrap_or_else(|| user.local().to_string())
    }
}
