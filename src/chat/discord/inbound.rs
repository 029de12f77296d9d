//! Discord events in. An interaction that runs a command is answered once
//! the command has committed with its delivery mark (`chat::ack`): its first
//! response is the engine's answer, private to the person who acted. Other
//! interactions (a modal, autocomplete choices, a refused button) are
//! answered at once. Messages in a release's thread and `@releasebot`
//! mentions run like the slash command. Redeliveries are dropped by
//! interaction / message id.

use std::collections::BTreeMap;
use std::sync::Arc;

use serenity::all::{
    ActionRowComponent, ChannelId, CommandDataOptionValue, CommandInteraction, CreateActionRow,
    CreateAutocompleteResponse, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, CreateModal, InputTextStyle, Interaction,
    InteractionResponseFlags, Member, Message, RoleId, User,
};

use super::{commands, render, DiscordBot};
use crate::chat::{self, ack, text, Outcome, Request};
use crate::domain::ids::{ChannelRef, UserRef};
use crate::domain::text::Text;

/// The modal asking why a release is rejected: `release:reason:<id>`.
const REASON_MODAL: &str = "release:reason:";
const REASON_INPUT: &str = "reason";
/// Discord shows at most 25 autocomplete choices.
const SUGGESTIONS: usize = 25;

/// What an interaction asks for, decoded.
pub enum Decoded {
    /// Answered at once: nothing in it needs a commit.
    Answer(CreateInteractionResponse),
    /// A command to run; it is answered once durable.
    Run(Job),
}

/// Why an interaction gets no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoResponse {
    /// It was answered the first time.
    Redelivery,
    /// Its command did not commit within `ack::BUDGET`: not acknowledged.
    /// It goes on; its thread line says whether it took effect.
    NotDurable,
}

/// A command to run as someone, from an interaction.
pub struct Job {
    actor: UserRef,
    channel: ChannelRef,
    /// What to run, or why the interaction could not become a command.
    request: Result<Request, Text>,
    /// The interaction's delivery id, marked with the command's effect.
    delivery: String,
}

impl DiscordBot {
    /// The response to an interaction, given once what it asks is durable;
    /// else why there is none.
    pub async fn response(
        self: &Arc<Self>,
        interaction: &Interaction,
    ) -> Result<CreateInteractionResponse, NoResponse> {
        let job = match self.decode(interaction).await {
            None => return Err(NoResponse::Redelivery),
            Some(Decoded::Answer(response)) => return Ok(response),
            Some(Decoded::Run(job)) => job,
        };
        // In a tracked task of its own, so that the command finishes (and
        // shutdown waits for it) even when its answer comes too late.
        let (answer, answered) = tokio::sync::oneshot::channel();
        let bot = self.clone();
        self.events.spawn("a Discord interaction", async move {
            let _ = answer.send(bot.run_job(job).await);
        });
        let text = ack::durable_answer("a Discord interaction", answered)
            .await
            .ok_or(NoResponse::NotDurable)?
            .ok_or(NoResponse::Redelivery)?;
        let (words, allowed) = self.shown(&text);
        Ok(CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content(fit(&words))
                .allowed_mentions(allowed)
                .flags(InteractionResponseFlags::SUPPRESS_EMBEDS)
                .ephemeral(true),
        ))
    }

    /// What an interaction asks for. `None` for a redelivery.
    async fn decode(&self, interaction: &Interaction) -> Option<Decoded> {
        match interaction {
            Interaction::Ping(_) => return Some(Decoded::Answer(CreateInteractionResponse::Pong)),
            // Suggestions change nothing; answering one twice is harmless.
            Interaction::Autocomplete(command) => {
                return Some(Decoded::Answer(self.suggestions(command)))
            }
            _ => {}
        }
        let delivery = format!("discord:interaction:{}", interaction.id());
        if self.seen(&delivery).await {
            return None;
        }
        Some(match interaction {
            Interaction::Command(command) => {
                let (sub, values) = invocation(command);
                Decoded::Run(self.job(
                    &command.user,
                    command.member.as_deref(),
                    command.channel_id,
                    commands::request(&sub, &values).map_err(Text::plain),
                    &delivery,
                ))
            }
            Interaction::Component(click) => {
                let (action, release) = render::decode_custom_id(&click.data.custom_id);
                let button = match chat::button(&click.data.custom_id, release, |_| action) {
                    Ok(button) => button,
                    Err(refusal) => return Some(Decoded::Answer(private(&self.shown(&refusal).0))),
                };
                let Some(command) = button.command() else {
                    // Reject asks why first; a redelivered click opens nothing.
                    if !self.first_delivery(&delivery).await {
                        return None;
                    }
                    return Some(Decoded::Answer(reason_modal(&button.release.to_string())));
                };
                Decoded::Run(self.job(
                    &click.user,
                    click.member.as_ref(),
                    click.channel_id,
                    Ok(Request::Command(command)),
                    &delivery,
                ))
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
                Decoded::Run(self.job(
                    &submit.user,
                    submit.member.as_ref(),
                    submit.channel_id,
                    request,
                    &delivery,
                ))
            }
            _ => Decoded::Answer(private(
                "releasebot does not handle this kind of interaction.",
            )),
        })
    }

    fn job(
        &self,
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

    /// Runs the job; its answer, or `None` for a redelivery (answer nobody).
    async fn run_job(&self, job: Job) -> Option<Text> {
        match job.request {
            Ok(request) => {
                let outcome = self
                    .run(job.actor, job.channel, request, &job.delivery)
                    .await;
                (!outcome.duplicate).then(|| outcome.view.text())
            }
            Err(why) => {
                self.first_delivery(&job.delivery).await;
                Some(why)
            }
        }
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
        let (words, allowed) = self.shown(&outcome.view.text());
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
        crate::chat::run(&self.engine, actor, origin, request, Some(delivery)).await
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
            .flags(InteractionResponseFlags::SUPPRESS_EMBEDS)
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
