//! The network tools through the real `collector` binary: printed output
//! and exit codes.

mod support_net;

use std::time::Duration;

use chrono::Utc;
use collector::net::daytime::{Zone, parse_daytime};
use support_net::{closed_port, nc_listen, run_collector, start_daytime};

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn daytime_get_prints_the_servers_time_over_tcp_and_udp() {
    let server = start_daytime(Zone::Utc).await;
    let addr = server.addr.to_string();
    for args in [
        vec!["daytime", "get", &addr],
        vec!["daytime", "get", &addr, "--udp"],
    ] {
        let out = run_collector(&args, b"", LIMIT).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let when = parse_daytime(text.trim()).expect("an RFC 867 line we can read");
        let skew = (Utc::now() - when.with_timezone(&Utc)).num_seconds().abs();
        assert!(skew <= 5, "{args:?}: {text:?} is {skew}s off");
    }
}

#[tokio::test]
async fn tcp_send_prints_what_nc_answers() {
    let (addr, mut nc) = nc_listen(b"pong\n").await;
    let out = run_collector(&["tcp", "send", &addr.to_string(), "ping"], b"", LIMIT).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pong\n");
    let _ = nc.kill().await;
}

#[tokio::test]
async fn tcp_check_exit_codes() {
    let closed = closed_port().await.to_string();
    let out = run_collector(&["tcp", "check", &closed], b"", LIMIT).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("closed"));

    let out = run_collector(&["tcp", "check", "no-port-here"], b"", LIMIT).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HOST:PORT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
