//! One integration-test binary: the real `releasebot` binary driven through
//! piped stdin (the store checked through `export` and `audit`), and the real
//! app (engine, workers, HTTP listener, Slack and Discord adapters) against
//! fake CI servers, a fake Slack and a fake Discord on 127.0.0.1.

mod acked;
mod browser;
mod calendar;
mod chat_app;
mod ci;
mod ci_app;
mod cli;
mod crash;
mod cross_platform;
mod dashboard;
mod discord;
mod discord_app;
mod discord_seam;
mod failover;
mod fake_ci;
mod fake_discord;
mod fake_scm;
mod fake_slack;
mod fuzz_corpus;
mod helpers;
mod http_limits;
mod lost_posts;
mod notes;
mod running;
mod shell;
mod shutdown;
mod slack;
mod slack_app;
