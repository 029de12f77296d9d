//! Announcements out: a message with the embed and buttons (its id is the
//! message ref) and a thread opened on it; edits in place; one message per
//! step in the thread. Failures go back to the notifier's outbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serenity::all::{
    AutoArchiveDuration, ChannelId, CreateMessage, CreateThread, EditMessage, LightMethod,
    MessageId, Nonce, Route,
};

use super::rest::Failure;
use super::{render, DiscordBot};
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::domain::text::Text;
use crate::notify::{ChatSink, DeliveryError};

/// Messages per page of the lost-post lookup (Discord's most).
const HISTORY_PAGE: u8 = 100;
/// At most this many pages (20,000 messages) since the earlier try began.
const HISTORY_PAGES: usize = 200;
/// How far Discord's clock may run behind ours.
const CLOCK_SLACK_SECS: i64 = 300;
/// Discord's epoch (2015-01-01), in Unix milliseconds: a snowflake's top
/// 42 bits count milliseconds since then.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// The smallest snowflake made at `at`.
fn snowflake_at(at: DateTime<Utc>) -> u64 {
    let millis = (at.timestamp_millis() - DISCORD_EPOCH_MS).max(0) as u64;
    millis << 22
}

/// A nonce for a release's announcement in a channel, the same on every try
/// and across restarts (Discord allows 25 characters).
fn nonce(message: &Message, channel: &ChannelRef) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(channel.as_str().as_bytes());
    let nonce = format!(
        "rb{}-{}",
        message.release.number(),
        hex::encode(&digest[..2])
    );
    nonce.chars().take(25).collect()
}

/// Discord's message length limit.
const CONTENT_MAX: usize = 2000;

fn channel_id(channel: &ChannelRef) -> Result<ChannelId, DeliveryError> {
    channel
        .local()
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ChannelId::new)
        .ok_or_else(|| DeliveryError::Permanent(format!("{channel} is not a Discord channel id")))
}

fn message_id(posted: &str) -> Result<MessageId, DeliveryError> {
    posted
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .map(MessageId::new)
        .ok_or_else(|| DeliveryError::Permanent(format!("`{posted}` is not a Discord message id")))
}

/// Splits text into messages Discord accepts, on line breaks where it can.
fn chunks(text: &str) -> Vec<String> {
    let mut chunks = vec![String::new()];
    for line in text.lines() {
        let current = chunks.last_mut().expect("never empty");
        if !current.is_empty() && current.chars().count() + line.chars().count() + 1 > CONTENT_MAX {
            chunks.push(String::new());
        }
        let current = chunks.last_mut().expect("never empty");
        if !current.is_empty() {
            current.push('\n');
        }
        current.extend(line.chars().take(CONTENT_MAX));
    }
    chunks
}

impl DiscordBot {
    /// Opens the release's thread on its announcement; the thread's id is the message's.
    async fn open_thread(
        &self,
        channel: ChannelId,
        message: MessageId,
        name: String,
    ) -> Result<(), Failure> {
        let thread = CreateThread::new(name).auto_archive_duration(AutoArchiveDuration::OneWeek);
        let route = Route::ChannelMessageThreads {
            channel_id: channel,
            message_id: message,
        };
        self.call::<serde::de::IgnoredAny>(route, LightMethod::Post, Some(&thread), None)
            .await
            .map(|_| ())
    }

    /// Sends a message to a channel or thread.
    async fn send(
        &self,
        channel: ChannelId,
        create: &CreateMessage,
    ) -> Result<serenity::all::Message, Failure> {
        let route = Route::ChannelMessages {
            channel_id: channel,
        };
        self.call(route, LightMethod::Post, Some(create), None)
            .await
    }
}

#[async_trait]
impl ChatSink for DiscordBot {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        let id = channel_id(channel)?;
        // Discord drops a second create with the same enforced nonce made
        // within minutes; `find_post` covers longer gaps.
        let create = CreateMessage::new()
            .embed(render::embed(message, &|user| self.display(user)))
            .components(render::buttons(message))
            .nonce(Nonce::String(nonce(message, channel)))
            .enforce_nonce(true);
        let posted = self.send(id, &create).await?;
        // The post stands even if the thread fails; the first thread line retries it.
        if let Err(error) = self
            .open_thread(id, posted.id, render::thread_name(message))
            .await
        {
            tracing::warn!(error = %error.error, "opening a release thread failed; will retry with its first line");
        }
        Ok(posted.id.to_string())
    }

    fn uncertain_posts(&self) -> bool {
        true
    }

    /// The bot's announcements of this release (an embed's title names the
    /// release), paging back through the channel (`before`, newest first)
    /// to when the earlier try began: in a busy channel one may lie far
    /// below the latest page.
    async fn find_posts(
        &self,
        channel: &ChannelRef,
        message: &Message,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, DeliveryError> {
        let channel_id = channel_id(channel)?;
        let release = message.release.to_string();
        let ours = |author: &serenity::all::User| match self.me.get() {
            Some(me) => author.id == *me,
            None => author.bot,
        };
        let oldest = snowflake_at(since - chrono::Duration::seconds(CLOCK_SLACK_SECS));
        let mut before: Option<u64> = None;
        let mut found = Vec::new();
        for _ in 0..HISTORY_PAGES {
            let route = Route::ChannelMessages { channel_id };
            let mut query = vec![("limit", HISTORY_PAGE.to_string())];
            if let Some(before) = before {
                query.push(("before", before.to_string()));
            }
            let page: Vec<serenity::all::Message> = self
                .call(route, LightMethod::Get, None::<&()>, Some(query))
                .await?;
            let copies = page.iter().filter(|m| {
                ours(&m.author)
                    && m.embeds
                        .first()
                        .and_then(|e| e.title.as_deref())
                        .is_some_and(|title| {
                            title.split_whitespace().nth(1) == Some(release.as_str())
                        })
            });
            found.extend(copies.map(|m| m.id.to_string()));
            match page.iter().map(|m| m.id.get()).min() {
                Some(last) if page.len() == usize::from(HISTORY_PAGE) && last > oldest => {
                    before = Some(last)
                }
                _ => return Ok(found),
            }
        }
        tracing::warn!(%channel, %release, "the lost-post lookup stopped after {HISTORY_PAGES} pages");
        Ok(found)
    }

    async fn delete(&self, channel: &ChannelRef, posted: &str) -> Result<(), DeliveryError> {
        let route = Route::ChannelMessage {
            channel_id: channel_id(channel)?,
            message_id: message_id(posted)?,
        };
        self.call::<()>(route, LightMethod::Delete, None::<&()>, None)
            .await?;
        Ok(())
    }

    async fn update(
        &self,
        channel: &ChannelRef,
        posted: &str,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        let edit = EditMessage::new()
            .embed(render::embed(message, &|user| self.display(user)))
            .components(render::buttons(message));
        let route = Route::ChannelMessage {
            channel_id: channel_id(channel)?,
            message_id: message_id(posted)?,
        };
        self.call::<serde::de::IgnoredAny>(route, LightMethod::Patch, Some(&edit), None)
            .await?;
        Ok(())
    }

    async fn reply_in_thread(
        &self,
        channel: &ChannelRef,
        posted: &str,
        line: &Text,
    ) -> Result<(), DeliveryError> {
        let message = message_id(posted)?;
        let thread = ChannelId::new(message.get());
        let (words, allowed) = self.shown(line);
        let content = CreateMessage::new()
            .content(words)
            .allowed_mentions(allowed);
        match self.send(thread, &content).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_unknown_channel() => {
                let name = self
                    .engine
                    .release_for_thread(channel, posted)
                    .map_or_else(|| "release".to_string(), |id| format!("{id}"));
                self.open_thread(channel_id(channel)?, message, name)
                    .await?;
                self.send(thread, &content).await?;
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A message link, `https://discord.com/channels/<guild>/<channel>/<message>`:
    /// the guild comes from the channel (`GET /channels/{id}`).
    async fn permalink(&self, channel: &ChannelRef, posted: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct InGuild {
            guild_id: Option<String>,
        }
        let id = channel_id(channel).ok()?;
        let route = Route::Channel { channel_id: id };
        let found = self
            .call::<InGuild>(route, LightMethod::Get, None::<&()>, None)
            .await;
        match found {
            Ok(InGuild {
                guild_id: Some(guild),
            }) => Some(format!(
                "https://discord.com/channels/{guild}/{id}/{posted}"
            )),
            Ok(_) => None,
            Err(failure) => {
                tracing::warn!(error = %failure.error, "reading a channel's guild failed");
                None
            }
        }
    }

    async fn post_text(&self, channel: &ChannelRef, text: &Text) -> Result<(), DeliveryError> {
        let id = channel_id(channel)?;
        let (words, allowed) = self.shown(text);
        for chunk in chunks(&words) {
            let create = CreateMessage::new()
                .content(chunk)
                .allowed_mentions(allowed.clone());
            self.send(id, &create).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digests_are_split_at_line_breaks() {
        let line = "x".repeat(150);
        let text = vec![line.as_str(); 30].join("\n");
        let parts = chunks(&text);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= CONTENT_MAX));
        assert_eq!(parts.join("\n"), text);
        assert_eq!(chunks("short"), vec!["short".to_string()]);
    }
}
