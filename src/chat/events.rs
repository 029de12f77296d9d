//! What every platform's inbound events share once decoded: a message that
//! mentions the bot or replies in a release's thread, buttons under an
//! announcement, the reject modal's submission, and the answer to one that
//! is not ours or names no release. Each bad input gets a reply that says
//! what was wrong, and nothing runs.

use crate::domain::command::Command;
use crate::domain::ids::{ChannelRef, ReleaseId};
use crate::domain::message::ButtonAction;
use crate::domain::text::Text;

use super::{text, Outcome};
use crate::engine::Engine;

/// The command line a chat message stands for, `None` for chatter:
/// `mentioned` is what follows a mention of the bot (if it was mentioned),
/// `body` the whole message, `release` the release whose thread it is in
/// (where a command may leave out the id, and a bare "approve" counts).
pub(crate) fn message_line(
    mentioned: Option<&str>,
    body: &str,
    release: Option<ReleaseId>,
) -> Option<String> {
    match (mentioned, release) {
        (Some(line), release) => {
            let line = text::slash_text(Some(line));
            Some(match release {
                Some(release) => text::thread_command(&line, release).unwrap_or(line),
                None => line,
            })
        }
        (None, Some(release)) => text::thread_command(body, release),
        (None, None) => None,
    }
}

/// The release whose thread `posted` is, in whichever of `channels` it was
/// announced; one trip off the async threads.
pub(crate) async fn thread_release(
    engine: &Engine,
    channels: Vec<ChannelRef>,
    posted: String,
) -> Option<ReleaseId> {
    engine
        .blocking(move |engine| {
            channels
                .iter()
                .find_map(|channel| engine.release_for_thread(channel, &posted))
        })
        .await
        .ok()
        .flatten()
}

/// A decoded announcement button: what it does, to which release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Button {
    pub action: ButtonAction,
    pub release: ReleaseId,
}

impl Button {
    /// The command the button runs at once; `None` for reject, which asks
    /// for a reason first.
    pub fn command(self) -> Option<Command> {
        let id = self.release;
        match self.action {
            ButtonAction::Approve => Some(Command::Approve { id, comment: None }),
            ButtonAction::Deploy => Some(Command::Deploy {
                id,
                override_soak: None,
            }),
            ButtonAction::Reject => None,
        }
    }
}

/// Decodes a button from its platform id (`decode` knows the platform's
/// scheme) and the release it carries.
pub(crate) fn button(
    id: &str,
    release: &str,
    decode: impl Fn(&str) -> Option<ButtonAction>,
) -> Result<Button, Text> {
    let action = decode(id).ok_or_else(|| {
        Text::plain("That button is not one of mine (")
            .code(shorten(id))
            .say("); nothing was changed. Use the buttons on a release's announcement, or `help`.")
    })?;
    let release = release_of(release)?;
    Ok(Button { action, release })
}

/// The reject modal's submission: its release (as the modal carried it)
/// and the reason typed, on one line.
pub(crate) fn reject_reason(release: &str, reason: &str) -> Result<Command, Text> {
    let id = release_of(release)?;
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err(Text::plain(format!(
            "A rejection needs a reason; {id} was not rejected. Say why, so its requester can fix it."
        )));
    }
    Ok(Command::Reject { id, reason })
}

fn release_of(text: &str) -> Result<ReleaseId, Text> {
    ReleaseId::parse(text).map_err(|_| {
        Text::plain("That names no release (")
            .code(shorten(text))
            .say("); nothing was changed. Release ids look like R-42.")
    })
}

/// Ids echoed back stay short: they come from the sender.
fn shorten(text: &str) -> String {
    super::text::shorten(text, 40)
}

impl Outcome {
    /// Whether its author needs an answer: not for a redelivery, nor for a
    /// change made in the release's own thread (`in_release_thread`), whose
    /// thread line tells everybody.
    pub(crate) fn wants_answer(&self, in_release_thread: bool) -> bool {
        !(self.duplicate || (self.ok && self.changed && in_release_thread))
    }

    /// An answer to input that never reached the engine.
    pub(crate) fn refused(text: Text) -> Outcome {
        Outcome {
            view: crate::view::View::Said(text),
            ok: false,
            changed: false,
            duplicate: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(id: &str) -> Option<ButtonAction> {
        id.strip_prefix("release_").and_then(ButtonAction::parse)
    }

    #[test]
    fn a_message_is_a_command_when_it_mentions_the_bot_or_replies_in_a_thread() {
        let r3 = Some(ReleaseId::new(3));
        assert_eq!(
            message_line(Some(" status R-1 "), "", None).as_deref(),
            Some("status R-1")
        );
        // A bare mention asks for help.
        assert_eq!(message_line(Some(""), "", r3).as_deref(), Some("help"));
        assert_eq!(
            message_line(Some("approve"), "", r3).as_deref(),
            Some("approve R-3")
        );
        assert_eq!(
            message_line(None, "approve looks good", r3).as_deref(),
            Some("approve R-3 looks good")
        );
        assert_eq!(message_line(None, "lunch?", r3), None);
        assert_eq!(message_line(None, "approve", None), None);
    }

    #[test]
    fn a_change_in_its_own_thread_is_not_answered_again() {
        let mut outcome = Outcome::refused(Text::plain("R-1 is now approved."));
        (outcome.ok, outcome.changed) = (true, true);
        assert!(!outcome.wants_answer(true));
        assert!(outcome.wants_answer(false));
        outcome.changed = false;
        assert!(outcome.wants_answer(true));
        outcome.duplicate = true;
        assert!(!outcome.wants_answer(false));
    }

    #[test]
    fn buttons_decode_straight_into_commands() {
        let approve = button("release_approve", "R-7", ours).unwrap();
        assert_eq!(
            approve.command(),
            Some(Command::Approve {
                id: ReleaseId::new(7),
                comment: None
            })
        );
        let deploy = button("release_deploy", "R-7", ours).unwrap();
        assert_eq!(
            deploy.command(),
            Some(Command::Deploy {
                id: ReleaseId::new(7),
                override_soak: None,
            })
        );
        assert_eq!(
            button("release_reject", "R-7", ours).unwrap().command(),
            None
        );
    }

    #[test]
    fn unknown_buttons_and_bad_releases_are_refused_with_what_was_wrong() {
        let unknown = button("release_launch", "R-7", ours).unwrap_err();
        assert!(unknown
            .to_string()
            .contains("not one of mine (release_launch)"));
        let bad = button("release_approve", "R-0x", ours).unwrap_err();
        assert!(bad.to_string().contains("names no release (R-0x)"), "{bad}");
        let long = button(&"x".repeat(500), "R-1", ours).unwrap_err();
        assert!(long.to_string().chars().count() < 200);
    }

    #[test]
    fn a_reject_reason_keeps_every_character_on_one_line() {
        assert_eq!(
            reject_reason("R-3", "  \"broken\" <login>\n & more  ").unwrap(),
            Command::Reject {
                id: ReleaseId::new(3),
                reason: "\"broken\" <login> & more".to_string()
            }
        );
        assert!(reject_reason("R-3", " \n ")
            .unwrap_err()
            .to_string()
            .contains("needs a reason"));
        assert!(reject_reason("", "why").is_err());
    }
}
