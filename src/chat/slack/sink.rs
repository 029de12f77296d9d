//! Announcements out: `chat.postMessage` for a new one (its `ts` is the
//! message ref), `chat.update` to edit it in place, a threaded
//! `chat.postMessage` for each step. Failures go back to the notifier's
//! outbox, which retries (honouring `Retry-After`) and never double-posts.

use async_trait::async_trait;
use slack_morphism::prelude::*;

use super::{delivery_error, render, SlackBot};
use crate::domain::ids::ChannelRef;
use crate::domain::message::Message;
use crate::notify::{ChatSink, DeliveryError};

impl SlackBot {
    async fn content(&self, message: &Message) -> SlackMessageContent {
        let mut ids = render::user_ids(&message.headline);
        if let Some(requester) = message.requester.strip_prefix("slack:") {
            ids.push(requester);
        }
        self.names.resolve(&self.session(), ids).await;
        render::announcement(message, &|id| self.names.get(id))
    }
}

fn channel_id(channel: &ChannelRef) -> SlackChannelId {
    channel.local().into()
}

#[async_trait]
impl ChatSink for SlackBot {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        let request =
            SlackApiChatPostMessageRequest::new(channel_id(channel), self.content(message).await);
        let posted = self
            .session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(posted.ts.to_string())
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
        line: &str,
    ) -> Result<(), DeliveryError> {
        let text = self.named(line).await;
        let request = SlackApiChatPostMessageRequest::new(
            channel_id(channel),
            SlackMessageContent::new().with_text(text),
        )
        .with_thread_ts(posted.into());
        self.session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }

    async fn post_text(&self, channel: &ChannelRef, text: &str) -> Result<(), DeliveryError> {
        let text = self.named(text).await;
        let request = SlackApiChatPostMessageRequest::new(
            channel_id(channel),
            SlackMessageContent::new().with_text(text),
        );
        self.session()
            .chat_post_message(&request)
            .await
            .map_err(delivery_error)?;
        Ok(())
    }
}
