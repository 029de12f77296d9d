//! Engine text and announcements for Discord: people and roles as
//! mentions (which Discord shows as names), with `allowed_mentions` naming
//! only those the text pings; the announcement as an embed (colour by
//! status) with the buttons its status allows.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, RoleId, UserId,
};

use crate::chat::text;
use crate::domain::ids::UserRef;
use crate::domain::message::{ButtonAction, Message};
use crate::domain::release::ReleaseStatus;
use crate::domain::text::{write_plain, Span, Text};

/// Button `custom_id`s are `release:<action>:<id>`.
pub const BUTTON_PREFIX: &str = "release:";

/// Discord's limits: embed title 256, field value 1024, description 4096.
const TITLE_MAX: usize = 256;
const VALUE_MAX: usize = 1024;
const DESCRIPTION_MAX: usize = 4096;

pub fn colour(status: ReleaseStatus) -> u32 {
    match status {
        ReleaseStatus::Requested => 0xF1C40F,
        ReleaseStatus::Approved | ReleaseStatus::Scheduled => 0x3498DB,
        ReleaseStatus::Deploying | ReleaseStatus::RollingBack => 0x9B59B6,
        ReleaseStatus::Deployed => 0x2ECC71,
        ReleaseStatus::Failed => 0xE74C3C,
        ReleaseStatus::RolledBack => 0xE67E22,
        ReleaseStatus::Rejected | ReleaseStatus::Cancelled => 0x95A5A6,
    }
}

/// A Discord person or role as a mention; `None` for other platforms'.
fn mention(user: &UserRef) -> Option<String> {
    if user.platform() != "discord" {
        return None;
    }
    let local = user.local();
    match local.strip_prefix("role:") {
        Some(role) if text::is_snowflake(role) => Some(format!("<@&{role}>")),
        None if text::is_snowflake(local) => Some(format!("<@{local}>")),
        _ => None,
    }
}

/// How a person shows where mentions render: Discord people and roles as
/// mentions, others by the name `name` knows, else by their id.
pub fn person(user: &UserRef, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    mention(user).unwrap_or_else(|| name(user).unwrap_or_else(|| user.local().to_string()))
}

/// A view as Discord message content.
pub fn view(view: &crate::view::View, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    content(&view.text(), name)
}

/// Text as Discord message content.
pub fn content(text: &Text, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    text.render(&mut |span, out| match span {
        Span::Person { user, .. } => out.push_str(&person(user, name)),
        Span::Channel(channel) if channel.platform() == "discord" => {
            out.push_str(&format!("<#{}>", channel.local()))
        }
        Span::Code(code) => out.push_str(&format!("`{}`", code.replace('`', "'"))),
        // In angle brackets: no preview card under the line.
        Span::Link(url) => out.push_str(&format!("<{url}>")),
        other => write_plain(other, out),
    })
}

/// Who `text` may notify: the Discord people and roles it pings, and
/// nobody else (never `@everyone` or a role written in someone's words).
pub fn allowed_mentions(text: &Text) -> CreateAllowedMentions {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    for user in text.pinged() {
        if user.platform() != "discord" {
            continue;
        }
        let local = user.local();
        match local.strip_prefix("role:").map(str::parse::<u64>) {
            Some(Ok(role)) if role > 0 => roles.push(RoleId::new(role)),
            Some(_) => {}
            None => {
                if let Ok(id) = local.parse::<u64>() {
                    if id > 0 {
                        users.push(UserId::new(id));
                    }
                }
            }
        }
    }
    CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .users(users)
        .roles(roles)
}

/// Text where mentions do not render (embed titles): people by name.
pub fn plain(text: &Text, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    text.to_plain(&|user| name(user).unwrap_or_else(|| user.local().to_string()))
}

pub fn embed(message: &Message, name: &dyn Fn(&UserRef) -> Option<String>) -> CreateEmbed {
    // Titles do not render mentions, so the requester goes in a field.
    let mut embed = CreateEmbed::new()
        .title(text::shorten(&plain(&message.headline, name), TITLE_MAX))
        .colour(colour(message.status));
    if !message.service.is_empty() {
        let requester = UserRef::parse(&message.requester)
            .map_or_else(|_| message.requester.clone(), |user| person(&user, name));
        embed = embed
            .field("Service", text::shorten(&message.service, VALUE_MAX), true)
            .field("Version", text::shorten(&message.version, VALUE_MAX), true)
            .field(
                "Environment",
                text::shorten(&message.environment, VALUE_MAX),
                true,
            )
            .field("Requester", requester, true);
    }
    for field in &message.fields {
        embed = embed.field(&field.label, text::shorten(&field.value, VALUE_MAX), true);
    }
    if let Some(notes) = &message.notes {
        embed = embed.description(text::shorten(notes, DESCRIPTION_MAX));
    }
    embed
}

/// A button's `custom_id`: `release:<action>:<id>`.
pub fn custom_id(action: ButtonAction, release: &str) -> String {
    format!("{BUTTON_PREFIX}{}:{release}", action.as_str())
}

/// The action and release text a `custom_id` carries, if it is ours.
pub fn decode_custom_id(custom_id: &str) -> (Option<ButtonAction>, &str) {
    match custom_id
        .strip_prefix(BUTTON_PREFIX)
        .and_then(|rest| rest.split_once(':'))
    {
        Some((action, release)) => (ButtonAction::parse(action), release),
        None => (None, ""),
    }
}

/// The buttons the release's status allows, or none (an edit then removes them).
pub fn buttons(message: &Message) -> Vec<CreateActionRow> {
    if message.actions.is_empty() {
        return Vec::new();
    }
    let buttons = message
        .actions
        .iter()
        .map(|action| {
            let style = match action.action {
                ButtonAction::Approve => ButtonStyle::Success,
                ButtonAction::Deploy => ButtonStyle::Primary,
                ButtonAction::Reject => ButtonStyle::Danger,
            };
            CreateButton::new(custom_id(action.action, &action.release.to_string()))
                .label(&action.label)
                .style(style)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// The thread opened on an announcement: at most 100 characters.
pub fn thread_name(message: &Message) -> String {
    text::shorten(
        &format!(
            "{} {} {} → {}",
            message.release, message.service, message.version, message.environment
        ),
        100,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        crate::domain::message::example("discord:80351110224678912")
    }

    fn user(text: &str) -> UserRef {
        UserRef::parse(text).unwrap()
    }

    #[test]
    fn the_embed_has_the_facts_and_a_status_colour() {
        let json = serde_json::to_value(embed(&message(), &names)).unwrap();
        assert_eq!(json["color"], 0xF1C40F);
        assert_eq!(json["fields"][3]["name"], "Requester");
        assert_eq!(json["fields"][3]["value"], "<@80351110224678912>");
        assert_eq!(json["fields"][4]["value"], "0/2");
        let rows = serde_json::to_value(buttons(&message())).unwrap();
        assert_eq!(rows[0]["components"][0]["custom_id"], "release:approve:R-1");
        assert_eq!(rows[0]["components"][0]["style"], 3);
    }

    fn names(user: &UserRef) -> Option<String> {
        match user.as_str() {
            "slack:U024BE7LH" => Some("Alice Ng".to_string()),
            "discord:80351110224678912" => Some("dave".to_string()),
            _ => None,
        }
    }

    #[test]
    fn people_and_roles_are_mentions_and_only_the_pinged_may_be_notified() {
        let text = Text::plain("approved by ")
            .person(&user("discord:80351110224678912"))
            .say(" and ")
            .person(&user("slack:U024BE7LH"))
            .say(" for ")
            .person(&user("discord:role:1300000000000000001"))
            .say(" @everyone, ")
            .ping(&user("discord:80351110224678913"))
            .say(": ")
            .link("https://ci.example/run/1");
        assert_eq!(
            content(&text, &names),
            "approved by <@80351110224678912> and Alice Ng for <@&1300000000000000001> \
             @everyone, <@80351110224678913>: <https://ci.example/run/1>"
        );
        let allowed = serde_json::to_value(allowed_mentions(&text)).unwrap();
        assert_eq!(allowed["parse"], serde_json::json!([]));
        assert_eq!(allowed["users"], serde_json::json!(["80351110224678913"]));
        assert_eq!(allowed["roles"], serde_json::json!([]));
        let title = serde_json::to_value(embed(&message(), &names)).unwrap()["title"].clone();
        assert_eq!(title, "🚦 R-1 api 2.4.0 → production: requested by dave");
    }

    #[test]
    fn notes_go_in_the_description_within_discords_limit() {
        let mut message = message();
        message.notes = Some("n".repeat(5000));
        let json = serde_json::to_value(embed(&message, &names)).unwrap();
        let description = json["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), DESCRIPTION_MAX);
        assert!(description.ends_with('…'));
    }

    #[test]
    fn custom_ids_decode_to_their_action() {
        for action in ButtonAction::ALL {
            assert_eq!(
                decode_custom_id(&custom_id(action, "R-4")),
                (Some(action), "R-4")
            );
        }
        assert_eq!(decode_custom_id("release:launch:R-4").0, None);
        assert_eq!(decode_custom_id("other").0, None);
    }
}
