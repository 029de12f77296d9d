//! The announcement as a Discord embed (colour by status) with Approve /
//! Reject buttons while approvals are open. Discord user ids are written as
//! mentions, which Discord shows as names without pinging anyone.

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed};

use crate::chat::text;
use crate::domain::message::Message;
use crate::domain::release::ReleaseStatus;

/// Button `custom_id`s are `release:<command>:<id>`.
pub const BUTTON_PREFIX: &str = "release:";

/// Discord's limits: embed title 256, field value 1024 characters.
const TITLE_MAX: usize = 256;
const VALUE_MAX: usize = 1024;

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

/// How a person shows: Discord people as mentions (Discord shows their
/// names without pinging anyone), others by the name `name` knows for
/// their `platform:id`, else by their id.
pub fn person(user: &str, name: &dyn Fn(&str) -> Option<String>) -> String {
    match user.split_once(':') {
        Some(("discord", id)) if text::is_snowflake(id) => format!("<@{id}>"),
        Some((_, local)) => name(user).unwrap_or_else(|| local.to_string()),
        None => user.to_string(),
    }
}

/// Engine text (which names people by id) with Discord ids as mentions and
/// other platforms' ids as the names `name` knows.
pub fn with_mentions(text: &str, name: &dyn Fn(&str) -> Option<String>) -> String {
    text::replace_words(text, &|word| match text::user_in_text(word) {
        Some(user) if user.starts_with("discord:") => Some(format!("<@{word}>")),
        Some(user) => name(&user),
        None => None,
    })
}

pub fn embed(message: &Message, name: &dyn Fn(&str) -> Option<String>) -> CreateEmbed {
    // Titles do not render mentions, so the requester goes in a field.
    let mut embed = CreateEmbed::new()
        .title(text::shorten(
            &without_ids(&message.headline, name),
            TITLE_MAX,
        ))
        .colour(colour(message.status));
    if !message.service.is_empty() {
        embed = embed
            .field("Service", text::shorten(&message.service, VALUE_MAX), true)
            .field("Version", text::shorten(&message.version, VALUE_MAX), true)
            .field(
                "Environment",
                text::shorten(&message.environment, VALUE_MAX),
                true,
            )
            .field("Requester", person(&message.requester, name), true);
    }
    for field in &message.fields {
        embed = embed.field(
            &field.label,
            text::shorten(&with_mentions(&field.value, name), VALUE_MAX),
            true,
        );
    }
    embed
}

/// A title (where mentions do not render) with people's ids as names.
fn without_ids(text: &str, name: &dyn Fn(&str) -> Option<String>) -> String {
    text::replace_words(text, &|word| {
        text::user_in_text(word).and_then(|user| name(&user))
    })
}

/// The buttons, or none once approvals are over (an edit then removes them).
pub fn buttons(message: &Message) -> Vec<CreateActionRow> {
    if message.actions.is_empty() {
        return Vec::new();
    }
    let buttons = message
        .actions
        .iter()
        .map(|action| {
            let style = match action.command.as_str() {
                "approve" => ButtonStyle::Success,
                _ => ButtonStyle::Danger,
            };
            CreateButton::new(format!(
                "{BUTTON_PREFIX}{}:{}",
                action.command, action.release
            ))
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

    fn names(user: &str) -> Option<String> {
        match user {
            "slack:U024BE7LH" => Some("Alice Ng".to_string()),
            "discord:80351110224678912" => Some("dave".to_string()),
            _ => None,
        }
    }

    #[test]
    fn discord_ids_become_mentions_and_other_platforms_ids_names() {
        assert_eq!(
            with_mentions("approved by 80351110224678912 and U024BE7LH (1/2)", &names),
            "approved by <@80351110224678912> and Alice Ng (1/2)"
        );
        assert_eq!(
            with_mentions("api 2.4.0 at 14:00", &names),
            "api 2.4.0 at 14:00"
        );
        assert_eq!(person("shell:alice", &names), "alice");
        assert_eq!(person("slack:U024BE7LH", &names), "Alice Ng");
        let title = serde_json::to_value(embed(&message(), &names)).unwrap()["title"].clone();
        assert_eq!(title, "🚦 R-1 api 2.4.0 → production: requested by dave");
    }
}
