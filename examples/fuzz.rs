//! A mutation fuzzer over `releasebot::fuzz`'s targets: the command parser,
//! the date and time parser, the config loader, and the Slack, Discord and
//! CI payload decoders. Counts are printed, not asserted.
//!
//! ```text
//! cargo run --release --example fuzz [-- TARGET|all [INPUTS]]
//! ```
//!
//! Each target starts from valid inputs (seeds) and mutates them: bytes
//! flipped, inserted or deleted, tokens from its dictionary spliced in
//! (extreme numbers and dates, quotes, separators), pieces of two inputs
//! crossed, inputs cut short. Inputs are deterministic for a given target
//! and count. A panic is written to `tests/fuzz/<target>/crash-<hash>`,
//! which `tests/it/fuzz_corpus.rs` replays in `cargo test`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use releasebot::fuzz::{run, Target};

/// xorshift64*: fast, and the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "65535",
    "2147483647",
    "-2147483648",
    "4294967295",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1e308",
    "NaN",
    "+262142-12-31",
    "-262143-01-01",
    "9999-12-31",
    "0000-00-00",
    "2027-10-31",
    "2027-03-28",
    "02:30",
    "24:00",
    "23:59",
    "99:99",
];

const PUNCTUATION: &[&str] = &[
    " ", "\"", "'", "\\", "\n", "\t", "\0", "<", ">", "&", "|", "=", ":", "-", "#", "@", "*", "/",
    "{", "}", "[", "]", ",", "é", "🚀", "\u{202e}", "T",
];

fn seeds(target: Target) -> Vec<Vec<u8>> {
    let text: Vec<String> = match target {
        Target::Command => vec![
            r#"request api 2.4.0 to production at 2026-12-01 14:00 notes "New checkout flow" priority high"#.into(),
            "approve R-1 looks good".into(),
            "reject #2 not tested on staging".into(),
            "schedule r-3 tomorrow 9:30".into(),
            "change R-1 version 2.4.1 to staging".into(),
            r#"freeze production 2026-12-20 18:00 to 2027-01-04 "year-end freeze""#.into(),
            "lock api production db migration".into(),
            "grant slack:U024BE7LH qa".into(),
            "calendar 2026-12-01".into(),
            "list mine".into(),
            "help deploy".into(),
            "stats quarter".into(),
            "lgtm".into(),
            "+1".into(),
            "<@U0BOT> status R-1".into(),
            "request service=api version=2.4.0 environment=production at=2026-12-01T14:00 notes=hi".into(),
            "approve id=R-1 comment=ok".into(),
        ],
        Target::When => vec![
            "2026-12-01 14:00".into(),
            "today 09:30".into(),
            "tomorrow 23:59".into(),
            "2027-10-31 02:30".into(),
            "2027-03-28 02:30".into(),
            "2026-12-01T14:00".into(),
            "9999-12-31 23:59".into(),
            "2026-12-20 to 2027-01-04 year end".into(),
        ],
        Target::Config => vec![
            include_str!("../config/releasebot.toml").into(),
            "[roles]\ndeveloper = [\"shell:alice\"]\nrelease-manager = [\"shell:bob\"]\n[services.api]\n\
             [environments.production]\napprove = [\"release-manager\"]\napprovals = 1\n\
             windows = [\"MON-FRI 08:00-20:00\"]\nci = { kind = \"github\", repo = \"a/b\", workflow = \"d.yml\", token_env = \"T\" }\n\
             [delivery]\ntimeout_secs = 10\nin_flight = 8\n[http]\nlisten = \"127.0.0.1:0\"\nmax_connections = 64\n\
             [[schedules]]\nname = \"p\"\ncron = \"*/30 9-17 * * MON-FRI\"\ndigest = \"pending\"\nchannel = \"shell:#r\"\n"
                .into(),
        ],
        Target::Slack => vec![
            "token=x&team_id=T1&channel_id=C1&channel_name=releases&user_id=U1&user_name=alice&command=%2Frelease&text=status+R-1&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1&trigger_id=1.2.3&api_app_id=A1".into(),
            r#"payload=%7B%22type%22%3A%22block_actions%22%2C%22trigger_id%22%3A%221.2%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22approve%22%2C%22block_id%22%3A%22b%22%2C%22value%22%3A%22R-1%22%2C%22type%22%3A%22button%22%7D%5D%7D"#.into(),
            r#"{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev1","event_time":1800000000,"event":{"type":"message","channel":"C1","user":"U1","text":"approve","ts":"1.2","thread_ts":"1.1"}}"#.into(),
            r#"{"type":"events_api","envelope_id":"e1","accepts_response_payload":false,"payload":{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev2","event_time":1800000000,"event":{"type":"app_mention","channel":"C1","user":"U1","text":"<@U0BOT> status R-1","ts":"1.3"}}}"#.into(),
            r#"{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},"view":{"id":"V1","type":"modal","private_metadata":"R-1|C1","callback_id":"reject","state":{"values":{"reason":{"reason":{"type":"plain_text_input","value":"no"}}}}}}"#.into(),
        ],
        Target::Discord => vec![
            r#"{"id":"1800000000000000031","application_id":"1100000000000000001","type":2,"data":{"id":"1700000000000000001","name":"release","type":1,"guild_id":"1200000000000000001","options":[{"type":1,"name":"request","options":[{"type":3,"name":"service","value":"api"},{"type":3,"name":"version","value":"2.4.0"},{"type":3,"name":"notes","value":"say \"hi\""}]}]},"guild_id":"1200000000000000001","channel_id":"1300000000000000001","member":{"user":{"id":"1400000000000000001","username":"alice","discriminator":"0","global_name":null,"avatar":null,"bot":false},"nick":null,"avatar":null,"roles":[],"joined_at":"2025-01-01T00:00:00.000000+00:00","deaf":false,"mute":false,"flags":0,"pending":false,"permissions":"2248473465835073"},"token":"t","version":1,"app_permissions":"2248473465835073","locale":"en-US","guild_locale":"en-US","entitlements":[],"authorizing_integration_owners":{"0":"1200000000000000001"},"context":0}"#.into(),
            r#"{"id":"1800000000000000032","application_id":"1100000000000000001","type":4,"data":{"id":"1700000000000000001","name":"release","type":1,"options":[{"type":1,"name":"approve","options":[{"type":3,"name":"id","value":"R-","focused":true},{"type":4,"name":"count","value":18446744073709551615}]}]},"channel_id":"1300000000000000001","user":{"id":"1400000000000000002","username":"bob","discriminator":"0","avatar":null},"token":"t","version":1,"locale":"en-US","entitlements":[]}"#.into(),
            r#"{"id":"1900000000000000001","channel_id":"1300000000000000001","author":{"id":"1400000000000000001","username":"alice","discriminator":"0","avatar":null},"content":"approve <@1400000000000000002>","timestamp":"2026-11-26T10:00:00.000000+00:00","edited_timestamp":null,"tts":false,"mention_everyone":false,"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"type":0}"#.into(),
        ],
        Target::Ci => vec![
            "sha256=00ff\n{\"release\":\"R-1\",\"job\":\"R-1-deploy-1\",\"status\":\"succeeded\",\"url\":\"https://ci/runs/1\",\"timestamp\":1800000000}".into(),
            "sha256=\n{\"release\":\"#7\",\"job\":\"R-7-rollback-2\",\"status\":\"failed\",\"message\":\"red\",\"timestamp\":-9223372036854775808}".into(),
            "1800000000 -9223372036854775808 9223372036854775807\n{\"release\":\"R-18446744073709551615\",\"job\":\"\",\"status\":\"started\",\"timestamp\":1799999700}".into(),
        ],
    };
    text.into_iter().map(String::into_bytes).collect()
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut input = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(8) {
            0 if !input.is_empty() => {
                let at = at.min(input.len() - 1);
                input[at] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, rng.next() as u8),
            2 if !input.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(input.len());
                input.drain(at.min(end)..end);
            }
            3 | 4 => {
                let token = NUMBERS[rng.below(NUMBERS.len())];
                splice_token(&mut input, at, token, rng);
            }
            5 => {
                let token = PUNCTUATION[rng.below(PUNCTUATION.len())];
                splice_token(&mut input, at, token, rng);
            }
            6 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                let to = (from + rng.below(64)).min(other.len());
                let piece = other[from..to].to_vec();
                input.splice(at..at, piece);
            }
            _ => input.truncate(at),
        }
    }
    input
}

/// Inserts `token` at `at`, or puts it over the word or number found there.
fn splice_token(input: &mut Vec<u8>, at: usize, token: &str, rng: &mut Rng) {
    let at = at.min(input.len());
    if rng.below(2) == 0 {
        let end = input[at..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-' && *b != b':')
            .map_or(input.len(), |n| at + n);
        input.splice(at..end, token.bytes());
    } else {
        input.splice(at..at, token.bytes());
    }
}

fn hash(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

static QUIET: AtomicBool = AtomicBool::new(false);

fn fuzz(target: Target, inputs: u64) -> (u64, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ hash(target.name().as_bytes()));
    let seeds = seeds(target);
    let mut crashes = 0;
    let started = Instant::now();
    for n in 0..inputs {
        let input = match seeds.get(n as usize) {
            Some(seed) => seed.clone(),
            None => mutate(&mut rng, &seeds),
        };
        if catch_unwind(AssertUnwindSafe(|| run(target, &input))).is_err() {
            crashes += 1;
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fuzz")
                .join(target.name());
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("crash-{:016x}", hash(&input)));
            let _ = std::fs::write(&file, &input);
            println!(
                "{}: panic on input {n}, kept in {}",
                target.name(),
                file.display()
            );
        }
        if n > 0 && n % 2_000_000 == 0 {
            println!(
                "{}: {n} inputs, {:.0}/s",
                target.name(),
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "{}: {inputs} inputs in {took:.1} s ({:.0}/s), {crashes} panics",
        target.name(),
        inputs as f64 / took
    );
    (inputs, crashes)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".into());
    let inputs: u64 = args
        .next()
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let targets: Vec<Target> = if which == "all" {
        Target::ALL.to_vec()
    } else {
        match Target::from_name(&which) {
            Some(target) => vec![target],
            None => {
                eprintln!("unknown target `{which}`; give one of command, when, config, slack, discord, ci or all");
                std::process::exit(2);
            }
        }
    };
    // Panics are counted and kept, not printed one by one.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET.load(Ordering::Relaxed) {
            default(info);
        }
    }));
    QUIET.store(true, Ordering::Relaxed);
    let threads: Vec<_> = targets
        .into_iter()
        .map(|target| std::thread::spawn(move || fuzz(target, inputs)))
        .collect();
    let (mut total, mut crashes) = (0, 0);
    for thread in threads {
        let (n, c) = thread.join().expect("a fuzz thread");
        total += n;
        crashes += c;
    }
    println!("all: {total} inputs, {crashes} panics");
}
