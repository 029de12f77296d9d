//! One integration-test binary driving the real `releasebot` binary: the
//! shell through piped stdin, the store checked through `export` and `audit`.

mod calendar;
mod ci;
mod ci_app;
mod cli;
mod crash;
mod discord;
mod discord_app;
mod fake_ci;
mod fake_discord;
mod fake_slack;
mod helpers;
mod shell;
mod slack;
mod slack_app;
