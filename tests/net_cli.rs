//! The subcommands as the top-level CLI embeds them: bad addresses are
//! rejected while parsing (exit 2, with the expected form), and the
//! `run_*` entry points map failures to the documented exit codes.

mod support_net;

use clap::{Parser, Subcommand};
use collector::net::{
    DaytimeCommand, TcpCommand, UdpCommand, outcome_for, run_daytime, run_tcp, run_udp,
};
use collector::outcome::Outcome;
use support_net::{closed_port, localhost, never_answers, within};
use tokio_util::sync::CancellationToken;

/// Embeds the three enums the way the top-level CLI does.
#[derive(Debug, Parser)]
#[command(name = "collector")]
struct Cli {
    #[command(subcommand)]
    command: Tools,
}

#[derive(Debug, Subcommand)]
enum Tools {
    #[command(subcommand)]
    Tcp(TcpCommand),
    #[command(subcommand)]
    Udp(UdpCommand),
    #[command(subcommand)]
    Daytime(DaytimeCommand),
}

fn parse(args: &[&str]) -> Result<Tools, clap::Error> {
    Cli::try_parse_from(std::iter::once("collector").chain(args.iter().copied()))
        .map(|cli| cli.command)
}

fn rejected(args: &[&str]) -> String {
    let err = parse(args).expect_err("should be rejected");
    assert_eq!(err.exit_code(), 2, "{args:?}");
    err.to_string()
}

#[test]
fn invalid_addresses_show_the_expected_form() {
    let message = rejected(&["tcp", "send", "127.0.0.1", "hi"]);
    assert!(
        message.contains("invalid address \"127.0.0.1\": the port is missing"),
        "{message}"
    );
    assert!(
        message.contains("expected HOST:PORT, [IPv6]:PORT or NAME:PORT"),
        "{message}"
    );

    let message = rejected(&["tcp", "check", "127.0.0.1:80", "::1:80"]);
    assert!(
        message.contains("an IPv6 address needs brackets"),
        "{message}"
    );

    let message = rejected(&["udp", "send", "host:99999", "hi"]);
    assert!(
        message.contains("port \"99999\" is not a number from 1 to 65535"),
        "{message}"
    );

    let message = rejected(&["tcp", "serve", "--bind", "8080"]);
    assert!(message.contains("looks like a port alone"), "{message}");
    assert!(message.contains("0 for any free port"), "{message}");

    let message = rejected(&["daytime", "get", "time server"]);
    assert!(message.contains("it contains whitespace"), "{message}");
    assert!(message.contains("HOST[:PORT]"), "{message}");

    let message = rejected(&["tcp", "serve", "--idle-timeout=-3"]);
    assert!(
        message.contains("expected a number of seconds above 0"),
        "{message}"
    );
}

#[test]
fn valid_forms_parse() {
    for args in [
        &["tcp", "send", "[::1]:7000", "hi"][..],
        &["tcp", "send", "localhost:7000", "--lines", "--crlf"],
        &[
            "tcp",
            "check",
            "127.0.0.1:22",
            "example.org:443",
            "--timeout",
            "0.5",
        ],
        &[
            "tcp",
            "serve",
            "--bind",
            "0.0.0.0:7000",
            "--reply",
            "ok",
            "--max-conns",
            "10",
        ],
        &["udp", "serve", "--bind", "[::1]:0", "--echo"],
        &["udp", "send", "127.0.0.1:7000", "hi", "--retries", "0"],
        &[
            "daytime",
            "serve",
            "--bind",
            "127.0.0.1:8013",
            "--udp",
            "--local",
        ],
        &["daytime", "get", "localhost", "--udp"],
    ] {
        if let Err(err) = parse(args) {
            panic!("{args:?} should parse: {err}");
        }
    }
}

async fn run(args: &[&str], shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let work = async {
        match parse(args).expect("valid arguments") {
            Tools::Tcp(command) => run_tcp(command, shutdown).await,
            Tools::Udp(command) => run_udp(command, shutdown).await,
            Tools::Daytime(command) => run_daytime(command, shutdown).await,
        }
    };
    within("command", work).await
}

fn stopped() -> CancellationToken {
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    shutdown
}

#[tokio::test]
async fn servers_stop_cleanly_with_exit_0() {
    for args in [
        &["tcp", "serve"][..],
        &["udp", "serve", "--reply", "hi"],
        &["daytime", "serve", "--bind", "127.0.0.1:0"],
    ] {
        let code = run(args, stopped()).await.expect("starts and stops");
        assert_eq!(code, Outcome::Done, "{args:?}");
    }
}

#[tokio::test]
async fn a_taken_port_exits_2() {
    let taken = tokio::net::TcpListener::bind(localhost())
        .await
        .expect("bind");
    let addr = taken.local_addr().expect("bound address").to_string();
    for args in [
        ["tcp", "serve", "--bind", &addr],
        ["daytime", "serve", "--bind", &addr],
    ] {
        let err = run(&args, stopped()).await.expect_err("port taken");
        assert_eq!(outcome_for(&err), Outcome::BadInput, "{args:?}: {err:#}");
        assert!(format!("{err:#}").contains("already in use"), "{err:#}");
    }
}

#[tokio::test]
async fn an_oversized_datagram_exits_2() {
    let message = "x".repeat(70_000);
    let err = run(
        &["udp", "send", "127.0.0.1:9", &message],
        CancellationToken::new(),
    )
    .await
    .expect_err("too large");
    assert_eq!(outcome_for(&err), Outcome::BadInput, "{err:#}");
}

#[tokio::test]
async fn a_refused_connection_exits_1() {
    let addr = closed_port().await.to_string();
    for args in [
        &["tcp", "send", &addr, "hi"][..],
        &["daytime", "get", &addr],
    ] {
        let err = run(args, CancellationToken::new())
            .await
            .expect_err("refused");
        assert_eq!(outcome_for(&err), Outcome::Failed, "{args:?}: {err:#}");
        assert!(format!("{err:#}").contains("connection refused"), "{err:#}");
    }
}

#[tokio::test]
async fn an_interrupted_client_exits_130() {
    let silent = never_answers().await;
    let addr = silent.local_addr().expect("bound address").to_string();
    let code = run(&["udp", "send", &addr, "hi"], stopped())
        .await
        .expect("interrupted");
    assert_eq!(code, Outcome::Interrupted);
}
