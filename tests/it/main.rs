//! One integration-test binary driving the real `releasebot` binary: the
//! shell through piped stdin, the store checked through `export` and `audit`.

mod cli;
mod crash;
mod helpers;
mod shell;
