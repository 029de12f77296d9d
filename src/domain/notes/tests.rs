use super::*;

fn commit(sha: &str, message: &str, author: &str) -> Commit {
    Commit {
        sha: sha.into(),
        message: message.into(),
        author: author.into(),
        at: None,
        pulls: Vec::new(),
    }
}

fn pulled(mut c: Commit, number: u64, labels: &[&str]) -> Commit {
    c.pulls.push(PullRequest {
        number,
        title: format!("PR {number}: {}", c.message),
        url: format!("https://github.com/acme/api/pull/{number}"),
        author: c.author.clone(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
    });
    c
}

fn rules() -> Rules {
    Rules {
        exclude_authors: ["dependabot[bot]".to_string()].into(),
        issue_links: [(
            "PAY".to_string(),
            "https://jira.example.com/browse/".to_string(),
        )]
        .into(),
        ..Rules::default()
    }
}

#[test]
fn conventional_commits_group_by_type_with_breaking_first() {
    let commits = [
        commit("a1", "feat(checkout): one-click pay PAY-12", "alice"),
        commit("b2", "fix: rounding in totals", "bob"),
        commit("c3", "feat!: drop the v1 API", "alice"),
        commit(
            "d4",
            "fix(cart): empty cart crash\n\nBREAKING CHANGE: cart ids change",
            "carol",
        ),
        commit("e5", "chore(deps): bump serde", "dependabot[bot]"),
        commit("f6", "Merge pull request #9 from acme/x", "alice"),
        commit("g7", "tidy up", "dave"),
    ];
    let notes = build("v1..v2".into(), None, &commits, 7, &rules());
    let titles: Vec<&str> = notes.groups.iter().map(|g| g.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "⚠️ Breaking changes",
            "Features",
            "Bug fixes",
            "Other changes"
        ]
    );
    assert_eq!(
        notes.summary(),
        "5 changes: 1 features, 1 fixes, 1 other, 2 breaking"
    );
    let markdown = notes.markdown();
    assert!(markdown.contains("- **checkout:** one-click pay [PAY-12](https://jira.example.com/browse/PAY-12) (a1 by @alice)"), "{markdown}");
    assert!(
        markdown.contains("- drop the v1 API (c3 by @alice)"),
        "{markdown}"
    );
    assert!(!markdown.contains("serde"), "bots are left out");
}

#[test]
fn labels_group_by_category_one_entry_per_pull_request() {
    let mut rules = rules();
    rules.categories = vec![
        Category {
            title: "New".into(),
            labels: vec!["feature".into()],
        },
        Category {
            title: "Fixed".into(),
            labels: vec!["bug".into()],
        },
        Category {
            title: "Everything else".into(),
            labels: vec!["*".into()],
        },
    ];
    rules.exclude_labels.insert("skip-notes".into());
    let commits = [
        pulled(commit("a1", "add pay", "alice"), 1, &["feature"]),
        pulled(commit("a2", "add pay, part 2", "alice"), 1, &["feature"]),
        pulled(commit("b1", "fix totals", "bob"), 2, &["bug"]),
        pulled(commit("c1", "internal", "carol"), 3, &["skip-notes"]),
        pulled(commit("d1", "docs", "dave"), 4, &[]),
    ];
    let notes = build("v1..v2".into(), None, &commits, 5, &rules);
    let shape: Vec<(&str, usize)> = notes
        .groups
        .iter()
        .map(|g| (g.title.as_str(), g.entries.len()))
        .collect();
    assert_eq!(shape, [("New", 1), ("Fixed", 1), ("Everything else", 1)]);
    assert!(notes
        .markdown()
        .contains("PR 1: add pay ([#1](https://github.com/acme/api/pull/1) by @alice)"));
}

#[test]
fn a_capped_compare_says_so() {
    let commits = [commit("a1", "feat: x", "alice")];
    let notes = build("v1..v2".into(), None, &commits, 12_000, &rules());
    assert!(notes
        .markdown()
        .contains("Only the first 1 of 12000 commits were read"));
}
