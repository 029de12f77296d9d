//! Templates: known placeholders filled, unknown and unclosed ones refused.

use super::*;

#[test]
fn placeholders_are_filled_and_braces_escaped() {
    let template = Template::parse("{service} {version} is live {{not a placeholder}}").unwrap();
    let value = |name: &str| match name {
        "service" => Some("api".to_string()),
        "version" => Some("2.4.0".to_string()),
        _ => None,
    };
    assert_eq!(
        template.render(&value),
        "api 2.4.0 is live {not a placeholder}"
    );
    assert_eq!(Template::parse("{impact}").unwrap().render(&value), "");
}

#[test]
fn an_unknown_or_unclosed_placeholder_is_refused_by_name() {
    let unknown = Template::parse("{service} by {author}").unwrap_err();
    assert!(
        unknown.starts_with("unknown placeholder `{author}`; templates may use {release}"),
        "{unknown}"
    );
    assert_eq!(
        Template::parse("{service").unwrap_err(),
        "`{service` is not closed with `}`"
    );
    assert!(Template::parse("a } b")
        .unwrap_err()
        .contains("without its `{`"));
}
