//! What chat text means, the same on every platform: a reply in a release's
//! thread (`lgtm`, `reject <reason>`), a mention of the bot, a bare slash
//! command.

use crate::domain::ids::ReleaseId;

/// Words that approve when written alone in a release's thread.
const APPROVALS: &[&str] = &[
    "approve",
    "approved",
    "lgtm",
    "+1",
    ":+1:",
    ":white_check_mark:",
    "✅",
    "👍",
];

/// The command a reply in `release`'s thread stands for, or `None` for
/// chatter. `approve` / `lgtm` / `+1` / `:white_check_mark:` (optionally
/// followed by a comment after `approve`) approve; `reject <reason>` rejects;
/// a full command (`status R-3`, `deploy R-3`) is taken as written, with the
/// thread's release filled in when the id is left out.
pub fn thread_command(text: &str, release: ReleaseId) -> Option<String> {
    let text = text.trim();
    let (first, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(first, rest)| (first, rest.trim()));
    let word = first.to_lowercase();
    let word = word.trim_end_matches(['!', '.']);
    if APPROVALS.contains(&word) && (rest.is_empty() || word == "approve") {
        return Some(if rest.is_empty() {
            format!("approve {release}")
        } else {
            format!("approve {release} {rest}")
        });
    }
    // Commands about one release (`Def::in_thread`) may leave its id out.
    if !crate::commands::find(word).is_some_and(|def| def.in_thread) {
        return None;
    }
    let names_a_release = rest
        .split_whitespace()
        .next()
        .is_some_and(|id| ReleaseId::parse(id).is_ok() && !id.bytes().all(|b| b.is_ascii_digit()));
    if names_a_release {
        Some(text.to_string())
    } else if rest.is_empty() {
        Some(format!("{word} {release}"))
    } else {
        Some(format!("{word} {release} {rest}"))
    }
}

/// A bare `/release` means help.
pub fn slash_text(text: Option<&str>) -> String {
    match text.map(str::trim) {
        Some(text) if !text.is_empty() => text.to_string(),
        _ => "help".to_string(),
    }
}

/// The command in a message that mentions the bot (`<@U0BOT> status R-3`),
/// or `None` when the mention is not at the start.
pub fn after_mention<'a>(text: &'a str, mention: &str) -> Option<&'a str> {
    text.trim_start().strip_prefix(mention).map(str::trim)
}

/// `text` cut to at most `max` characters, ending in `…` when cut: for the
/// platforms' length limits (headers, titles, field values, messages).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A Discord id (a snowflake: 17 to 20 digits).
pub fn is_snowflake(word: &str) -> bool {
    (17..=20).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r3() -> ReleaseId {
        ReleaseId::new(3)
    }

    #[test]
    fn approval_words_approve_the_threads_release() {
        for word in ["approve", "LGTM", "+1", ":white_check_mark:", "lgtm!", "👍"] {
            assert_eq!(
                thread_command(word, r3()).as_deref(),
                Some("approve R-3"),
                "{word}"
            );
        }
        assert_eq!(
            thread_command("approve looks good", r3()).as_deref(),
            Some("approve R-3 looks good")
        );
    }

    #[test]
    fn reject_needs_its_reason_and_keeps_it() {
        assert_eq!(
            thread_command("reject breaks the login page", r3()).as_deref(),
            Some("reject R-3 breaks the login page")
        );
        // The parser then says a reason is missing, in its own words.
        assert_eq!(
            thread_command("reject", r3()).as_deref(),
            Some("reject R-3")
        );
    }

    #[test]
    fn chatter_is_ignored() {
        for text in [
            "lgtm but wait for QA",
            "+1 to what Bob said",
            "what time is the window?",
            "approvers, please look",
            "",
        ] {
            assert_eq!(thread_command(text, r3()), None, "{text}");
        }
    }

    #[test]
    fn a_full_command_in_a_thread_is_taken_as_written() {
        assert_eq!(
            thread_command("status R-7", r3()).as_deref(),
            Some("status R-7")
        );
        assert_eq!(
            thread_command("deploy", r3()).as_deref(),
            Some("deploy R-3")
        );
        assert_eq!(
            thread_command("check 2", r3()).as_deref(),
            Some("check R-3 2")
        );
    }

    #[test]
    fn only_digit_runs_of_a_snowflakes_length_are_discord_ids() {
        assert!(is_snowflake("80351110224678912"));
        assert!(!is_snowflake("1764151200"));
        assert!(!is_snowflake("8035111022467891x"));
    }

    #[test]
    fn long_text_is_shortened_with_an_ellipsis() {
        assert_eq!(shorten("release", 7), "release");
        assert_eq!(shorten("releases", 7), "releas…");
        assert_eq!(shorten("ééééé", 3).chars().count(), 3);
    }

    #[test]
    fn mentions_and_bare_slash_commands() {
        assert_eq!(
            after_mention("<@U0BOT> status R-3", "<@U0BOT>"),
            Some("status R-3")
        );
        assert_eq!(after_mention("hey <@U0BOT> status", "<@U0BOT>"), None);
        assert_eq!(slash_text(Some("  ")), "help");
        assert_eq!(slash_text(None), "help");
        assert_eq!(slash_text(Some("list")), "list");
    }
}
