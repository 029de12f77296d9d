//! Slack events in: each is handled in its own task, and acknowledged (see
//! `chat::ack`) once its command has committed with its delivery mark, or
//! once it is known to need none; the answer follows the ack, through
//! `response_url`, `chat.postEphemeral` or the release's thread.
//! Redeliveries are dropped by their delivery id.

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::{render, SlackBot};
use crate::chat::ack::{Ack, Handled};
use crate::chat::{self, text, Outcome, Request};
use crate::domain::ids::{ChannelRef, ReleaseId, UserRef};
use crate::domain::text::Text;

/// How long a command waits for its author's name before it runs.
const NAME_LOOKUP: std::time::Duration = std::time::Duration::from_millis(500);
/// The modal that asks for a rejection's reason.
const REJECT_VIEW: &str = "release_reject";
const REASON_BLOCK: &str = "reason";
const REASON_INPUT: &str = "reason_input";

impl SlackBot {
    /// `/release …`: acknowledged empty once durable; the answer follows on
    /// `response_url`.
    pub fn on_command(self: &Arc<Self>, event: SlackCommandEvent) -> Ack {
        let bot = self.clone();
        let tasks = &self.events;
        tasks.spawn_acked("a Slack command", |handled| async move {
            let delivery = format!("slack:command:{}", event.trigger_id);
            if bot.seen(&delivery).await {
                return;
            }
            let line = text::slash_text(event.text.as_deref());
            let outcome = bot
                .run(
                    user(&event.user_id),
                    channel(&event.channel_id),
                    Request::Line(line),
                    &delivery,
                )
                .await;
            drop(handled);
            if outcome.duplicate {
                return;
            }
            // To its author only: a change shows to everybody already, in
            // the edited announcement and its thread line.
            let answered = bot
                .respond(event.response_url.value().as_str(), &outcome.view.text())
                .await;
            if !answered {
                // response_url takes 5 answers in 30 minutes; past that, whisper.
                bot.whisper(
                    &event.channel_id,
                    &event.user_id,
                    None,
                    &outcome.view.text(),
                )
                .await;
            }
        })
    }

    /// Buttons and the reject modal.
    pub fn on_interaction(self: &Arc<Self>, event: SlackInteractionEvent) -> Ack {
        let bot = self.clone();
        let tasks = &self.events;
        tasks.spawn_acked("a Slack interaction", |handled| async move {
            match event {
                SlackInteractionEvent::BlockActions(actions) => {
                    bot.on_block_actions(actions, handled).await
                }
                SlackInteractionEvent::ViewSubmission(submission) => {
                    bot.on_view_submission(submission, handled).await
                }
                _ => {}
            }
        })
    }

    /// `message` events (replies in a release's thread) and `app_mention`s.
    pub fn on_push(self: &Arc<Self>, event: SlackPushEventCallback) -> Ack {
        let bot = self.clone();
        let tasks = &self.events;
        tasks.spawn_acked("a Slack event", |handled| async move {
            let delivery = format!("slack:event:{}", event.event_id);
            match event.event {
                SlackEventCallbackBody::Message(message) => {
                    bot.on_message(message, &delivery, handled).await
                }
                SlackEventCallbackBody::AppMention(mention) => {
                    bot.on_mention(mention, &delivery, handled).await
                }
                _ => {}
            }
        })
    }

    /// Every action is run (or its modal's delivery marked) before the ack;
    /// answers and modals follow it.
    async fn on_block_actions(&self, event: SlackInteractionBlockActionsEvent, handled: Handled) {
        let Some(who) = event.user.as_ref().map(|u| user(&u.id)) else {
            return;
        };
        let origin = event
            .channel
            .as_ref()
            .map_or_else(|| channel_ref("slack:direct"), |c| channel(&c.id));
        let mut after_ack = Vec::new();
        for action in event.actions.iter().flatten() {
            let delivery = format!("slack:action:{}:{}", event.trigger_id, action.action_id);
            if self.seen(&delivery).await {
                continue;
            }
            let value = action.value.as_deref().unwrap_or_default();
            let button = match chat::button(action.action_id.value(), value, render::button_action)
            {
                Ok(button) => button,
                // Not one of ours, or not a release: say so, change nothing.
                Err(refusal) => {
                    after_ack.push(AfterAck::Answer(refusal));
                    continue;
                }
            };
            match button.command() {
                Some(command) => {
                    let outcome = self
                        .run(
                            who.clone(),
                            origin.clone(),
                            Request::Command(command),
                            &delivery,
                        )
                        .await;
                    if !outcome.duplicate {
                        after_ack.push(AfterAck::Answer(outcome.view.text()));
                    }
                }
                // Reject asks why first.
                None if self.first_delivery(&delivery).await => {
                    after_ack.push(AfterAck::AskReason(button.release))
                }
                None => {}
            }
        }
        drop(handled);
        for work in after_ack {
            match work {
                AfterAck::Answer(text) => {
                    if let Some(url) = &event.response_url {
                        self.respond(url.value().as_str(), &text).await;
                    }
                }
                AfterAck::AskReason(release) => {
                    let channel_id = event.channel.as_ref().map(|c| c.id.to_string());
                    self.ask_reason(&event.trigger_id, release, channel_id)
                        .await
                }
            }
        }
    }

    /// Opens the modal asking why; its submission rejects.
    async fn ask_reason(
        &self,
        trigger: &SlackTriggerId,
        release: ReleaseId,
        channel: Option<String>,
    ) {
        let input = SlackBlockPlainTextInputElement::new()
            .with_action_id(REASON_INPUT.into())
            .with_multiline(true)
            .with_min_length(3);
        let blocks = vec![SlackInputBlock::new(
            pt!("Why is {} rejected?", release),
            SlackInputBlockElement::PlainTextInput(input),
        )
        .with_block_id(REASON_BLOCK.into())
        .into()];
        let metadata = format!("{release}|{}", channel.unwrap_or_default());
        let view = SlackModalView::new(pt!("Reject {}", release), blocks)
            .with_submit(pt!("Reject"))
            .with_close(pt!("Cancel"))
            .with_callback_id(REJECT_VIEW.into())
            .with_private_metadata(metadata);
        let request = SlackApiViewsOpenRequest::new(trigger.clone(), SlackView::Modal(view));
        let session = self.session();
        if let Some(Err(error)) = self.timed("views.open", session.views_open(&request)).await {
            tracing::warn!(%error, "views.open for a rejection reason failed");
        }
    }

    async fn on_view_submission(
        &self,
        event: SlackInteractionViewSubmissionEvent,
        handled: Handled,
    ) {
        let SlackView::Modal(modal) = &event.view.view else {
            return;
        };
        if modal.callback_id.as_ref().map(|id| id.value().as_str()) != Some(REJECT_VIEW) {
            return;
        }
        let delivery = format!("slack:view:{}", event.view.state_params.id);
        if self.seen(&delivery).await {
            return;
        }
        let metadata = modal.private_metadata.clone().unwrap_or_default();
        let (release, channel_id) = metadata.split_once('|').unwrap_or((&metadata, ""));
        let reason = event
            .view
            .state_params
            .state
            .as_ref()
            .and_then(|state| state.values.get(&REASON_BLOCK.into()))
            .and_then(|block| block.get(&REASON_INPUT.into()))
            .and_then(|value| value.value.clone())
            .unwrap_or_default();
        let who = user(&event.user.id);
        let origin = if channel_id.is_empty() {
            channel_ref("slack:direct")
        } else {
            channel(&channel_id.into())
        };
        let outcome = match chat::reject_reason(release, &reason) {
            Ok(command) => {
                self.run(who, origin, Request::Command(command), &delivery)
                    .await
            }
            Err(refusal) => Outcome::refused(refusal),
        };
        drop(handled);
        if !outcome.ok && !outcome.duplicate && !channel_id.is_empty() {
            self.whisper(
                &channel_id.into(),
                &event.user.id,
                None,
                &outcome.view.text(),
            )
            .await;
        }
    }

    /// Only commands are remembered for dedupe (`delivery`); chatter costs no write.
    async fn on_message(&self, message: SlackMessageEvent, delivery: &str, handled: Handled) {
        // Edits, joins, bot posts (our own included) are not commands; a
        // thread reply also sent to the channel is.
        let from_a_person = matches!(
            message.subtype,
            None | Some(SlackMessageEventType::ThreadBroadcast)
        );
        if !from_a_person || message.sender.bot_id.is_some() {
            return;
        }
        let (Some(author), Some(channel_id)) = (&message.sender.user, &message.origin.channel)
        else {
            return;
        };
        if Some(author.to_string()).as_ref() == self.bot_user.get() {
            return;
        }
        let Some(thread) = &message.origin.thread_ts else {
            return;
        };
        let body = message
            .content
            .as_ref()
            .and_then(|c| c.text.clone())
            .unwrap_or_default();
        // A mention is handled once, as the `app_mention` event.
        if self
            .mention()
            .is_some_and(|m| body.trim_start().starts_with(&m))
        {
            return;
        }
        let Some(release) = self.thread_release(channel_id, thread).await else {
            return;
        };
        let Some(line) = chat::message_line(None, &body, Some(release)) else {
            return;
        };
        if self.seen(delivery).await {
            return;
        }
        let place = Place {
            author,
            channel_id,
            thread: Some(thread),
            announced_there: true,
        };
        self.answer_in_thread(place, line, delivery, handled).await;
    }

    async fn on_mention(&self, mention: SlackAppMentionEvent, delivery: &str, handled: Handled) {
        let body = mention.content.text.clone().unwrap_or_default();
        let line = match self.mention() {
            Some(tag) => text::after_mention(&body, &tag).map(str::to_string),
            // Without our own id, take off whatever mention comes first.
            None => body
                .trim_start()
                .strip_prefix("<@")
                .and_then(|rest| rest.split_once('>'))
                .map(|(_, rest)| rest.trim().to_string()),
        };
        let Some(mentioned) = line else {
            return;
        };
        if self.seen(delivery).await {
            return;
        }
        let thread = mention
            .origin
            .thread_ts
            .clone()
            .unwrap_or_else(|| mention.origin.ts.clone());
        let release = self.thread_release(&mention.channel, &thread).await;
        let Some(line) = chat::message_line(Some(&mentioned), &body, release) else {
            return;
        };
        let announced_there = release.is_some();
        // A top-level mention is answered in the channel: Slack shows no
        // ephemeral message in a thread that does not exist yet.
        let place = Place {
            author: &mention.user,
            channel_id: &mention.channel,
            thread: mention.origin.thread_ts.as_ref(),
            announced_there,
        };
        self.answer_in_thread(place, line, delivery, handled).await;
    }

    /// Runs a command written in a thread (or a mention), lets Slack have
    /// its ack, and answers its author alone where they see it. A change in
    /// the release's own thread needs no answer: its thread line tells
    /// everybody.
    async fn answer_in_thread(
        &self,
        place: Place<'_>,
        line: String,
        delivery: &str,
        handled: Handled,
    ) {
        let outcome = self
            .run(
                user(place.author),
                channel(place.channel_id),
                Request::Line(line),
                delivery,
            )
            .await;
        drop(handled);
        if !outcome.wants_answer(place.announced_there) {
            return;
        }
        self.whisper(
            place.channel_id,
            place.author,
            place.thread,
            &outcome.view.text(),
        )
        .await;
    }

    fn mention(&self) -> Option<String> {
        self.bot_user.get().map(|id| format!("<@{id}>"))
    }

    async fn thread_release(
        &self,
        channel_id: &SlackChannelId,
        thread: &SlackTs,
    ) -> Option<ReleaseId> {
        chat::thread_release(&self.engine, vec![channel(channel_id)], thread.to_string()).await
    }

    /// Runs a command from the Slack delivery `delivery` as a Slack user,
    /// whose name is learned first (once) so that other platforms can show
    /// it in what the command announces.
    async fn run(
        &self,
        actor: UserRef,
        origin: ChannelRef,
        request: Request,
        delivery: &str,
    ) -> Outcome {
        // Slack's ack waits for this command: a slow `users.info` must not
        // hold it up. An unknown name shows as the id until learned.
        let session = self.session();
        let learning = self
            .names
            .resolve(&session, vec![actor.local()], &self.engine);
        if tokio::time::timeout(NAME_LOOKUP, learning).await.is_err() {
            tracing::debug!("users.info is slow; the command goes on without the name");
        }
        crate::chat::run(&self.engine, actor, origin, request, Some(delivery)).await
    }

    /// Answers on a `response_url`, to the asker alone. False when Slack
    /// did not take it.
    async fn respond(&self, url: &str, text: &Text) -> bool {
        let body = serde_json::json!({
            "response_type": "ephemeral",
            "replace_original": false,
            // No previews: a sign-in link fetched by an unfurler is shown,
            // not spent, but a card would show it to no purpose.
            "unfurl_links": false,
            "unfurl_media": false,
            "text": excerpt_in_code(self.mrkdwn(text).await),
        });
        let sent = self.http.post(url).json(&body).send().await;
        match sent {
            Ok(response) if response.status().is_success() => true,
            Ok(response) => {
                tracing::warn!(status = %response.status(), "response_url refused the answer");
                false
            }
            Err(error) => {
                tracing::warn!(%error, "response_url could not be reached");
                false
            }
        }
    }

    /// An ephemeral message to one person in a channel (or thread).
    async fn whisper(
        &self,
        channel_id: &SlackChannelId,
        to: &SlackUserId,
        thread: Option<&SlackTs>,
        text: &Text,
    ) {
        let content =
            SlackMessageContent::new().with_text(excerpt_in_code(self.mrkdwn(text).await));
        let mut request =
            SlackApiChatPostEphemeralRequest::new(channel_id.clone(), to.clone(), content);
        if let Some(thread) = thread {
            request = request.with_thread_ts(thread.clone());
        }
        let session = self.session();
        let posted = self.timed("chat.postEphemeral", session.chat_post_ephemeral(&request));
        if let Some(Err(error)) = posted.await {
            tracing::warn!(%error, "chat.postEphemeral failed");
        }
    }
}

/// What a button click leaves to do once Slack has its ack.
enum AfterAck {
    /// Tell the clicker, on the interaction's `response_url`.
    Answer(Text),
    /// Open the modal asking why the release is rejected.
    AskReason(ReleaseId),
}

/// Where a thread reply or mention was written, and so where it is answered.
struct Place<'a> {
    author: &'a SlackUserId,
    channel_id: &'a SlackChannelId,
    /// The thread they wrote in; `None` for the channel.
    thread: Option<&'a SlackTs>,
    /// Written in the release's own thread, where its thread line shows.
    announced_there: bool,
}

/// A parse error's caret excerpt (indented under its message) kept in a
/// code block, so the caret still lines up.
fn excerpt_in_code(mrkdwn: String) -> String {
    match mrkdwn.split_once("\n    ") {
        Some((message, excerpt)) => format!("{message}\n```    {excerpt}```"),
        None => mrkdwn,
    }
}

fn user(id: &SlackUserId) -> UserRef {
    UserRef::parse(&format!("slack:{id}"))
        .unwrap_or_else(|_| UserRef::parse("slack:unknown").expect("a valid literal"))
}

fn channel(id: &SlackChannelId) -> ChannelRef {
    channel_ref(&format!("slack:{id}"))
}

fn channel_ref(text: &str) -> ChannelRef {
    ChannelRef::parse(text)
        .unwrap_or_else(|_| ChannelRef::parse("slack:unknown").expect("a valid literal"))
}
