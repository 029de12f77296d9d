//! Announcements out: `chat.postMessage` for a new one (its `ts` is the
//! message ref), `chat.update` to edit it in place, a threaded
//! `chat.postMessage` for each step. Failures go back to the notifier's
//! outbox, which retries (honouring `Retry-After`) and never double-posts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;

use super::{delivery_error, render, SlackBot};
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::domain::text::Text;
use crate::notify::{ChatSink, DeliveryError};

impl SlackBot {
    async fn content(&self, message: &Message) -> SlackMessageContent {
        let mut ids = render::user_ids(&message.headline);
        if let Some(requester) = message.requester.strip_prefix("slack:") {
            ids.push(requester);
        }
        self.names.resolve(&self.session(), ids, &self.engine).await;
        render::announcement(message, &|user| self.display(user))
    }
}

/// The metadata event type that marks an announcement.
const ANNOUNCEMENT_EVENT: &str = "releasebot_announcement";
/// Messages per page of the lost-post lookup (Slack suggests at most 200).
const HISTORY_PAGE: u16 = 200;
/// At most this many pages (40,000 messages) since the earlier try began.
const HISTORY_PAGES: usize = 200;
/// How far Slack's clock may run behind ours, for `oldest`.
const CLOCK_SLACK_SECS: i64 = 300;

fn channel_id(channel: &ChannelRef) -> SlackChannelId {
    channel.local().into()
}

/// No link or media previews: a CI run's link would otherwise unfurl into a
/// card under every announcement and thread line.
pub(super) fn quiet(request: SlackApiChatPostMessageRequest) -> SlackApiChatPostMessageRequest {
    request.with_unfurl_links(false).with_unfurl_media(false)
}

#[async_trait]
impl ChatSink for SlackBot {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        // Metadata marks the message as this release's announcement, so a
        // retry whose first try went unanswered can find it (`find_post`).
        let metadata = SlackMessageMetadata::new(ANNOUNCEMENT_EVENT.into())
            .with_event_payload([("release".to_string(), message.release.to_string())].into());
        let content = self.content(message).await.with_metadata(metadata);
        let request = quiet(SlackApiChatPostMessageRequest::new(
            channel_id(channel),
            content,
        ));
        let posted = self
            .session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(posted.ts.to_string())
    }

    fn uncertain_posts(&self) -> bool {
        true
    }

    /// The bot's announcements of this release, by their metadata, paging
    /// back through the channel's history (newest first) to when the earlier
    /// try began: in a busy channel one may lie far below the latest page.
    async fn find_posts(
        &self,
        channel: &ChannelRef,
        message: &Message,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, DeliveryError> {
        let release = message.release.to_string();
        // Slack's clock may run a little behind ours.
        let oldest =
            (since - chrono::Duration::seconds(CLOCK_SLACK_SECS)).max(DateTime::UNIX_EPOCH);
        let oldest = format!("{}.000000", oldest.timestamp());
        let mut cursor: Option<SlackCursorId> = None;
        let mut found = Vec::new();
        for _ in 0..HISTORY_PAGES {
            let mut request = SlackApiConversationsHistoryRequest::new()
                .with_channel(channel_id(channel))
                .with_limit(HISTORY_PAGE)
                .with_oldest(oldest.clone().into())
                .with_include_all_metadata(true);
            if let Some(cursor) = cursor.take() {
                request = request.with_cursor(cursor);
            }
            let page = self
                .session()
                .conversations_history(&request)
                .await
                .map_err(delivery_error)?;
            let ours = page.messages.iter().filter(|m| {
                m.content.metadata.as_ref().is_some_and(|meta| {
                    meta.event_type == ANNOUNCEMENT_EVENT
                        && meta
                            .event_payload
                            .as_ref()
                            .and_then(|payload| payload.get("release"))
                            == Some(&release)
                })
            });
            found.extend(ours.map(|m| m.origin.ts.to_string()));
            cursor = page
                .response_metadata
                .and_then(|meta| meta.next_cursor)
                .filter(|next| !next.value().is_empty());
            if cursor.is_none() {
                return Ok(found);
            }
        }
        tracing::warn!(%channel, %release, "the lost-post lookup stopped after {HISTORY_PAGES} pages");
        Ok(found)
    }

    async fn delete(&self, channel: &ChannelRef, posted: &str) -> Result<(), DeliveryError> {
        let request = SlackApiChatDeleteRequest::new(channel_id(channel), posted.into());
        self.session()
            .chat_delete(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }

    async fn update(
        &self,
        channel: &ChannelRef,
        posted: &str,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        let request = SlackApiChatUpdateRequest::new(
            channel_id(channel),
            self.content(message).await,
            posted.into(),
        );
        self.session()
            .chat_update(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }

    async fn reply_in_thread(
        &self,
        channel: &ChannelRef,
        posted: &str,
        line: &Text,
    ) -> Result<(), DeliveryError> {
        let text = self.mrkdwn(line).await;
        let request = quiet(
            SlackApiChatPostMessageRequest::new(
                channel_id(channel),
                SlackMessageContent::new().with_text(text),
            )
            .with_thread_ts(posted.into()),
        );
        self.session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }

    /// `chat.getPermalink`: the link to the announcement, whose thread
    /// holds the release's approvals.
    async fn permalink(&self, channel: &ChannelRef, posted: &str) -> Option<String> {
        let request = SlackApiChatGetPermalinkRequest::new(channel_id(channel), posted.into());
        let session = self.session();
        match self
            .timed("chat.getPermalink", session.chat_get_permalink(&request))
            .await?
        {
            Ok(answer) => Some(answer.permalink.to_string()),
            Err(error) => {
                tracing::warn!(%error, "chat.getPermalink failed");
                None
            }
        }
    }

    async fn post_text(&self, channel: &ChannelRef, text: &Text) -> Result<(), DeliveryError> {
        let text = self.mrkdwn(text).await;
        let request = quiet(SlackApiChatPostMessageRequest::new(
            channel_id(channel),
            SlackMessageContent::new().with_text(text),
        ));
        self.session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }
}
