//! Discord events in. Every interaction gets its first response at once
//! (deferred and ephemeral, a modal, or autocomplete choices) so Discord's
//! 3 seconds are never at risk; the command then runs and the deferred
//! answer is edited with the engine's reply. Messages in a release's thread
//! and `@releasebot` mentions run like the slash command. Redeliveries are
//! dropped by interaction / message id.

use std::collections::BTreeMap;

use serenity::all::{
    ActionRowComponent, ChannelId, CommandDataOptionValue, CommandInteraction, CreateActionRow,
    CreateAutocompleteResponse, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, CreateModal, EditInteractionResponse,
    InputTextStyle, Interaction, Member, Message, RoleId, User,
};

use super::{commands, render, DiscordBot};
use crate::chat::{self, text, Outcome, Request};
use crate::domain::ids::{ChannelRef, UserRef};
use crate::domain::text::Text;

/// The modal asking why a release is rejected: `release:reason:<id>`.
const REASON_MODAL: &str = "release:reason:";
const REASON_INPUT: &str = "reason";
/// Pauses between tries at editing a deferred answer (its token lasts 15 minutes).
const EDIT_RETRIES: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(250),
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(3),
];
/// Discord shows at most 25 autocomplete choices.
const SUGGESTIONS: usize = 25;

/// Work that follows the first response: a command line to run as someone.
pub struct Job {
    token: String,
    actor: UserRef,
    channel: ChannelRef,
    /// What to run, or why the interaction could not become a command.
    request: Result<Request, Text>,
    /// The interaction's delivery id, marked with the command's effect.
    delivery: String,
}

impl DiscordBot {
    /// The first response to an interaction, and the work after it. `None`
    /// for a redelivery: it was answered the first time.
    pub async fn first_response(
        &self,
        interaction: &Interaction,
    ) -> Option<(CreateInteractionResponse, Option<Job>)> {
        match interaction {
            Interaction::Ping(_) => return Some((CreateInteractionResponse::Pong, None)),
            // Suggestions change nothing; answering one twice is harmless.
            Interaction::Autocomplete(command) => return Some((self.suggestions(command), None)),
            _ => {}
        }
        let delivery = format!("discord:interaction:{}", interaction.id());
        if self.seen(&delivery).await {
            return None;
        }
        let deferred = || {
            CreateInteractionResponse::Defer(
                CreateInteractionResponseMessage::new().ephemeral(true),
            )
        };
        Some(match interaction {
            Interaction::Command(command) => {
                let (sub, values) = invocation(command);
                let job = self.job(
                    &command.token,
                    &command.user,
                    command.member.as_deref(),
                    command.channel_id,
                    commands::request(&sub, &values).map_err(Text::plain),
                    &delivery,
                );
                (deferred(), Some(job))
            }
            Interaction::Component(click) => {
                let (action, release) = render::decode_custom_id(&click.data.custom_id);
                let button = match chat::button(&click.data.custom_id, release, |_| action) {
                    Ok(button) => button,
                    Err(refusal) => return Some((private(&self.shown(&refusal).0), None)),
                };
                let Some(command) = button.command() else {
                    // Reject asks why first; a redelivered click opens nothing.
                    if !self.first_delivery(&delivery).await {
                        return None;
                    }
                    return Some((reason_modal(&button.release.to_string()), None));
                };
                let job = self.job(
                    &click.token,
                    &click.user,
                    click.member.as_ref(),
                    click.channel_id,
                    Ok(Request::Command(command)),
                    &delivery,
                );
                (deferred(), Some(job))
            }
            Interaction::Modal(submit) => {
                let release = submit
                    .data
                    .custom_id
                    .strip_prefix(REASON_MODAL)
                    .unwrap_or_default();
                let reason = submit
                    .data
                    .components
                    .iter()
                    .flat_map(|row| row.components.iter())
                    .find_map(|component| match component {
                        ActionRowComponent::InputText(input) if input.custom_id == REASON_INPUT => {
                            input.value.clone()
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                let request = chat::reject_reason(release, &reason).map(Request::Command);
                let job = self.job(
                    &submit.token,
                    &submit.user,
                    submit.member.as_ref(),
                    submit.channel_id,
                    request,
                    &delivery,
                );
                (deferred(), Some(job))
            }
            _ => (
                private("releasebot does not handle this kind of interaction."),
                None,
            ),
        })
    }

    fn job(
        &self,
        token: &str,
        user: &User,
        member: Option<&Member>,
        channel: ChannelId,
        request: Result<Request, Text>,
        delivery: &str,
    ) -> Job {
        let actor = discord_user(user);
        self.engine.learn_name(
            &actor,
            &shown_name(user, member.and_then(|m| m.nick.as_deref())),
        );
        if let Some(member) = member {
            self.learn_roles(&actor, &member.roles);
        }
        Job {
            token: token.to_string(),
            actor,
            channel: discord_channel(channel),
            request,
            delivery: delivery.to_string(),
        }
    }

    /// Tells the engine which configured Discord roles a member holds.
    fn learn_roles(&self, actor: &UserRef, roles: &[RoleId]) {
        if self.role_groups.is_empty() {
            return;
        }
        let held = roles
            .iter()
            .filter_map(|role| UserRef::parse(&format!("discord:role:{role}")).ok())
            .filter(|group| self.role_groups.contains(group))
            .collect();
        self.engine.set_groups_of(actor, held);
    }

    fn suggestions(&self, command: &CommandInteraction) -> CreateInteractionResponse {
        let typed = focused_value(command).unwrap_or_default();
        let mut choices = CreateAutocompleteResponse::new();
        for (label, id) in self.engine.suggest_releases(&typed, SUGGESTIONS) {
            choices = choices.add_string_choice(label.chars().take(100).collect::<String>(), id);
        }
        CreateInteractionResponse::Autocomplete(choices)
    }

    /// Runs the job and edits the deferred answer with the reply.
    pub async fn finish(&self, job: Job) {
        let text = match job.request {
            Ok(request) => {
                let outcome = self
                    .run(job.actor, job.channel, request, &job.delivery)
                    .await;
                if outcome.duplicate {
                    return;
                }
                outcome.text
            }
            Err(why) => {
                self.first_delivery(&job.delivery).await;
                why
            }
        };
        let (words, allowed) = self.shown(&text);
        let edit = EditInteractionResponse::new()
            .content(fit(&words))
            .allowed_mentions(allowed);
        // Over HTTP, the deferral is our response body and may reach Discord
        // after a quick command is done: try the edit again a few times.
        for pause in EDIT_RETRIES {
            match self
                .http
                .edit_original_interaction_response(&job.token, &edit, vec![])
                .await
            {
                Ok(_) => return,
                Err(error) => {
                    tracing::debug!(%error, "editing the deferred answer failed; trying again");
                    tokio::time::sleep(pause).await;
                }
            }
        }
        tracing::warn!("the deferred interaction answer could not be edited; the command did run");
    }

    /// A message: a command in a release's thread, or one after a mention.
    pub async fn on_message(&self, message: Message) {
        if message.author.bot {
            return;
        }
        let actor = discord_user(&message.author);
        let nick = message.member.as_ref().and_then(|m| m.nick.as_deref());
        self.engine
            .learn_name(&actor, &shown_name(&message.author, nick));
        if let Some(member) = &message.member {
            self.learn_roles(&actor, &member.roles);
        }
        let mentioned = self.me.get().and_then(|me| {
            [format!("<@{me}>"), format!("<@!{me}>")]
                .iter()
                .find_map(|tag| text::after_mention(&message.content, tag).map(str::to_string))
        });
        let release = chat::thread_release(
            &self.engine,
            self.announcement_channels.clone(),
            message.channel_id.get().to_string(),
        )
        .await;
        // Only commands are remembered for dedupe; chatter costs no write.
        let Some(line) = chat::message_line(mentioned.as_deref(), &message.content, release) else {
            return;
        };
        let delivery = format!("discord:message:{}", message.id);
        if self.seen(&delivery).await {
            return;
        }
        let outcome = self
            .run(
                actor,
                discord_channel(message.channel_id),
                Request::Line(line),
                &delivery,
            )
            .await;
        if !outcome.wants_answer(release.is_some()) {
            return;
        }
        let (words, allowed) = self.shown(&outcome.text);
        let answer = CreateMessage::new()
            .content(fit(&words))
            .allowed_mentions(allowed.replied_user(false))
            .reference_message(&message);
        if let Err(error) = message.channel_id.send_message(&self.http, answer).await {
            tracing::warn!(%error, "answering a message failed");
        }
    }

    /// Runs a command from the Discord delivery `delivery`.
    async fn run(
        &self,
        actor: UserRef,
        origin: ChannelRef,
        request: Request,
        delivery: &str,
    ) -> Outcome {
        crate::chat::run(
            &self.engine,
            &self.waker,
            actor,
            origin,
            request,
            Some(delivery),
        )
        .await
    }
}

/// The subcommand and its option values as text.
pub(crate) fn invocation(command: &CommandInteraction) -> (String, BTreeMap<String, String>) {
    let Some(sub) = command.data.options.first() else {
        return (String::new(), BTreeMap::new());
    };
    let mut values = BTreeMap::new();
    if let CommandDataOptionValue::SubCommand(options) = &sub.value {
        for option in options {
            let value = match &option.value {
                CommandDataOptionValue::String(text) => text.clone(),
                CommandDataOptionValue::Autocomplete { value, .. } => value.clone(),
                CommandDataOptionValue::Integer(n) => n.to_string(),
                CommandDataOptionValue::Number(n) => n.to_string(),
                CommandDataOptionValue::Boolean(b) => b.to_string(),
                _ => continue,
            };
            values.insert(option.name.clone(), value);
        }
    }
    (sub.name.clone(), values)
}

/// What the user has typed so far in the option being autocompleted.
pub(crate) fn focused_value(command: &CommandInteraction) -> Option<String> {
    command
        .data
        .options
        .iter()
        .find_map(|sub| match &sub.value {
            CommandDataOptionValue::SubCommand(options) => {
                options.iter().find_map(|o| match &o.value {
                    CommandDataOptionValue::Autocomplete { value, .. } => Some(value.clone()),
                    _ => None,
                })
            }
            _ => None,
        })
}

/// An immediate answer only the person who acted sees.
fn private(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(text)
            .ephemeral(true),
    )
}

fn reason_modal(release: &str) -> CreateInteractionResponse {
    let input = CreateInputText::new(
        InputTextStyle::Paragraph,
        "Why is it rejected?",
        REASON_INPUT,
    )
    .min_length(3)
    .max_length(1000)
    .required(true);
    CreateInteractionResponse::Modal(
        CreateModal::new(
            format!("{REASON_MODAL}{release}"),
            format!("Reject {release}"),
        )
        .components(vec![CreateActionRow::InputText(input)]),
    )
}

/// Discord's 2,000-character message limit.
fn fit(text: &str) -> String {
    text::shorten(text, 2000)
}

/// The name a guild shows: the member's nickname, else the display name,
/// else the username.
fn shown_name(user: &User, nick: Option<&str>) -> String {
    nick.or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_string()
}

fn discord_user(user: &User) -> UserRef {
    UserRef::parse(&format!("discord:{}", user.id))
        .unwrap_or_else(|_| UserRef::parse("discord:unknown").expect("a valid literal"))
}

fn discord_channel(channel: ChannelId) -> ChannelRef {
    ChannelRef::parse(&format!("discord:{channel}"))
        .unwrap_or_else(|_| ChannelRef::parse("discord:unknown").expect("a valid literal"))
}
