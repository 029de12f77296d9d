//! Grouping commits into notes: by Conventional Commit type and scope
//! (`git-conventional` reads the messages), or by pull-request labels.

use std::collections::BTreeSet;

use super::{Commit, Entry, Group, ReleaseNotes, Rules};

/// Conventional Commit types, in the order the notes show them, with
/// their heading and the summary's noun.
const TYPES: &[(&str, &str, &str)] = &[
    ("feat", "Features", "features"),
    ("fix", "Bug fixes", "fixes"),
    ("perf", "Performance", "performance"),
    ("refactor", "Refactoring", "refactors"),
    ("revert", "Reverts", "reverts"),
    ("docs", "Documentation", "docs"),
    ("test", "Tests", "tests"),
    ("build", "Build and CI", "build"),
    ("ci", "Build and CI", "build"),
    ("chore", "Chores", "chores"),
];

const OTHER: (&str, &str) = ("Other changes", "other");
const BREAKING: (&str, &str) = ("⚠️ Breaking changes", "breaking");

/// The notes of `commits` (oldest first) under `rules`; `total` is how
/// many commits the range has.
pub fn build(
    range: String,
    compare_url: Option<String>,
    commits: &[Commit],
    total: usize,
    rules: &Rules,
) -> ReleaseNotes {
    let kept: Vec<&Commit> = commits
        .iter()
        .filter(|c| !is_merge(&c.message))
        .filter(|c| !rules.exclude_authors.contains(&c.author))
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut add = |(title, noun): (&str, &str), entry: Entry| match groups
        .iter_mut()
        .find(|g| g.title == title)
    {
        Some(group) => group.entries.push(entry),
        None => groups.push(Group {
            title: title.to_string(),
            noun: noun.to_string(),
            entries: vec![entry],
        }),
    };
    if rules.categories.is_empty() {
        for commit in kept {
            let (heading, entry) = conventional(commit, rules);
            add(heading, entry);
        }
    } else {
        let mut seen = BTreeSet::new();
        for commit in kept {
            let Some((heading, entry)) = labelled(commit, rules, &mut seen) else {
                continue;
            };
            add(heading, entry);
        }
    }
    groups.sort_by_key(|g| order(&g.title, rules));
    ReleaseNotes {
        range,
        compare_url,
        total,
        read: commits.len(),
        first_commit_at: commits.iter().filter_map(|c| c.at).min(),
        groups,
    }
}

fn is_merge(message: &str) -> bool {
    message.starts_with("Merge pull request") || message.starts_with("Merge branch")
}

/// Breaking first, then types (or categories) in their order, other last.
fn order(title: &str, rules: &Rules) -> usize {
    if title == BREAKING.0 {
        return 0;
    }
    let known = match rules.categories.is_empty() {
        true => TYPES.iter().position(|(_, t, _)| *t == title),
        false => rules.categories.iter().position(|c| c.title == title),
    };
    known.map_or(usize::MAX, |at| at + 1)
}

fn conventional(commit: &Commit, rules: &Rules) -> ((&'static str, &'static str), Entry) {
    let mut entry = entry(commit, first_line(&commit.message), rules);
    let Ok(parsed) = git_conventional::Commit::parse(commit.message.trim()) else {
        return (OTHER, entry);
    };
    entry.text = parsed.description().to_string();
    entry.scope = parsed.scope().map(|s| s.as_str().to_string());
    entry.breaking = parsed.breaking();
    entry.issues = issues(&entry.text, rules);
    if entry.breaking {
        return (BREAKING, entry);
    }
    let kind = parsed.type_().as_str().to_ascii_lowercase();
    let heading = TYPES
        .iter()
        .find(|(t, _, _)| *t == kind)
        .map_or(OTHER, |(_, title, noun)| (*title, *noun));
    (heading, entry)
}

/// A commit by its pull request's labels; one entry per pull request.
fn labelled<'r>(
    commit: &Commit,
    rules: &'r Rules,
    seen: &mut BTreeSet<u64>,
) -> Option<((&'r str, &'r str), Entry)> {
    let pull = commit.pulls.first();
    if let Some(pull) = pull {
        if !seen.insert(pull.number)
            || rules.exclude_authors.contains(&pull.author)
            || pull.labels.iter().any(|l| rules.exclude_labels.contains(l))
        {
            return None;
        }
    }
    let text = pull.map_or_else(|| first_line(&commit.message), |p| p.title.clone());
    let mut entry = entry(commit, text, rules);
    if let Some(pull) = pull {
        entry.author = pull.author.clone();
    }
    let labels: &[String] = pull.map_or(&[], |p| &p.labels);
    let category = rules
        .categories
        .iter()
        .find(|c| c.labels.iter().any(|l| labels.contains(l)))
        .or_else(|| {
            rules
                .categories
                .iter()
                .find(|c| c.labels.iter().any(|l| l == "*"))
        });
    let heading = category.map_or(OTHER, |c| (c.title.as_str(), c.title.as_str()));
    entry.breaking = labels.iter().any(|l| l.contains("breaking"));
    Some((heading, entry))
}

fn entry(commit: &Commit, text: String, rules: &Rules) -> Entry {
    Entry {
        issues: issues(&text, rules),
        text,
        scope: None,
        breaking: false,
        sha: commit.sha.clone(),
        author: commit.author.clone(),
        pull: commit.pulls.first().map(|p| (p.number, p.url.clone())),
    }
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Issue keys (`PAY-123`) whose prefix has a link.
fn issues(text: &str, rules: &Rules) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        let Some((prefix, number)) = word.split_once('-') else {
            continue;
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Some(base) = rules.issue_links.get(prefix) {
            let key = word.to_string();
            if !found.iter().any(|(k, _)| *k == key) {
                found.push((key.clone(), format!("{base}{key}")));
            }
        }
    }
    found
}
