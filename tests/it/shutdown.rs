//! SIGTERM stops `releasebot run` within 5 s whatever it is doing: a CI
//! request that never answers, a half-sent HTTP request on its listener,
//! a scheduler started inside the repeated hour of a fall-back night.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::{demo_config, Bot};

/// Europe/Berlin, 2027-10-31 02:30 on the second pass (CET): a digest at
/// 02:45 lies later in that repeated hour.
const REPEATED_HOUR: &str = "2027-10-31T01:30:00Z";

/// A CI receiver that accepts connections and never answers; counts them.
fn silent_ci() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, accepted)
}

/// The demo config with staging's CI pointed at `ci_url` and a digest late
/// in the repeated hour.
fn config(bot: &Bot, ci_url: &str) -> std::path::PathBuf {
    let demo = std::fs::read_to_string(demo_config()).unwrap();
    let simulated =
        "[environments.staging.ci]\nkind = \"simulate\"\ndelay_secs = 1\noutcome = \"succeed\"";
    assert!(demo.contains(simulated), "the demo config changed shape");
    let text = demo.replace(
        simulated,
        &format!(
            "[environments.staging.ci]\nkind = \"webhook\"\nurl = \"{ci_url}\"\nsecret_env = \"RB_SIGTERM_SECRET\"\ncallback_secret_env = \"RB_SIGTERM_SECRET\"\nrequest_timeout_secs = 300"
        ),
    ) + "\n[[schedules]]\nname = \"late-in-the-repeated-hour\"\ncron = \"45 2 * * *\"\ntimezone = \"Europe/Berlin\"\ndigest = \"pending\"\nchannel = \"shell:#releases\"\n";
    let path = bot.dir.path().join("sigterm.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn command(bot: &Bot, config: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_releasebot"));
    command
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(bot.data())
        .args(["--clock", REPEATED_HOUR])
        .args(args)
        .env("RB_SIGTERM_SECRET", "sigterm-test-secret")
        .env("RUST_LOG", "warn");
    command
}

/// Waits for the child to exit; how long it took, or `None` after `limit`.
fn exit_within(child: &mut Child, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// CPU time (user + system, in clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line; 12 and 13 here.
    field(11) + field(12)
}

#[test]
fn sigterm_stops_run_within_five_seconds_with_a_hung_ci_request_and_a_half_sent_request() {
    let bot = Bot::new();
    let (ci_url, ci_connections) = silent_ci();
    let config = config(&bot, &ci_url);
    // Queue a deploy to the silent CI; the shell itself must stop although
    // its relay is waiting for an answer.
    let mut shell = command(&bot, &config, &["shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(b"request api 1.0.0 to staging\napprove R-1\ncheck R-1 1\ndeploy R-1\n")
        .unwrap();
    let shell_stopped = exit_within(&mut shell, Duration::from_secs(5));
    let mut printed = String::new();
    shell
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(shell_stopped.is_some(), "the shell hung at end of input");
    assert!(printed.contains("R-1 is deploying"), "{printed}");

    // The shell may or may not have reached the CI before it stopped; `run`
    // sends the deploy again either way (it is pending, perhaps uncertain).
    let sent_by_shell = ci_connections.load(Ordering::SeqCst);
    let mut run = command(&bot, &config, &["run", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(run.stderr.take().unwrap());
    let mut address = None;
    let mut line = String::new();
    while address.is_none() && stderr.read_line(&mut line).unwrap() > 0 {
        address = line
            .split_once("listening on http://")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(str::to_string);
        line.clear();
    }
    let address = address.expect("run prints its listening address");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    // A request that stops half-way through its headers, and one whose body never comes.
    let mut half_headers = TcpStream::connect(&address).unwrap();
    half_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut half_body = TcpStream::connect(&address).unwrap();
    half_body
        .write_all(
            b"POST /ci/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n{\"re",
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ci_connections.load(Ordering::SeqCst) <= sent_by_shell && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        ci_connections.load(Ordering::SeqCst) > sent_by_shell,
        "run never sent the pending deploy"
    );
    // Idle apart from those: no busy loop in the repeated hour.
    let before = cpu_ticks(run.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(run.id()) - before;
    assert!(used < 50, "run used {used} ticks of CPU in one idle second");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let took = exit_within(&mut run, Duration::from_secs(5));
    if took.is_none() {
        let _ = run.kill();
    }
    let took = took.expect("run did not stop within 5 s of SIGTERM");
    println!(
        "figure: SIGTERM stopped run in {} ms (CI request hanging, a half-sent request open, scheduler in the repeated hour)",
        took.as_millis()
    );
    assert!(run.wait().unwrap().success());
    drop((half_headers, half_body));
}
