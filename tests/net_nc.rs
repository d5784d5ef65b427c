//! Interoperability with a real third-party program: netcat (Debian's
//! netcat-openbsd) as the client of `tcp serve`, `udp serve` and the
//! daytime server, and as the server for `tcp send`.

mod support_net;

use std::time::Duration;

use collector::net::daytime::{Zone, parse_daytime};
use collector::net::log::ConnectionEnd;
use collector::net::tcp::send::{SendEnd, SendMode, TcpSendOptions, send_tcp};
use collector::net::tcp::serve::TcpServeMode;
use collector::net::udp::UdpServeMode;
use support_net::{nc, nc_listen, start_daytime, start_tcp, start_udp, tcp_options, within};
use tokio_util::sync::CancellationToken;

fn port(addr: std::net::SocketAddr) -> String {
    addr.port().to_string()
}

fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "nc failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn nc_gets_its_bytes_echoed() {
    let server = start_tcp(tcp_options(TcpServeMode::Echo)).await;
    let input = b"hello from netcat\nsecond line\n";
    // -N: half-close after the input, as our server waits for that.
    let output = nc(&["-N", "127.0.0.1", &port(server.addr)], input).await;
    assert_success(&output);
    assert_eq!(output.stdout, input);
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(records[0].end, ConnectionEnd::ClientClosed);
    assert_eq!(records[0].bytes_in, input.len() as u64);
}

#[tokio::test]
async fn nc_gets_the_fixed_reply() {
    let server = start_tcp(tcp_options(TcpServeMode::Reply(b"pong\r\n".to_vec()))).await;
    let output = nc(&["-N", "127.0.0.1", &port(server.addr)], b"ping\n").await;
    assert_success(&output);
    assert_eq!(output.stdout, b"pong\r\n");
}

#[tokio::test]
async fn nc_sends_into_discard() {
    let server = start_tcp(tcp_options(TcpServeMode::Discard)).await;
    let input = vec![b'z'; 50_000];
    let output = nc(&["-N", "127.0.0.1", &port(server.addr)], &input).await;
    assert_success(&output);
    assert!(output.stdout.is_empty());
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(records[0].bytes_in, 50_000);
}

#[tokio::test]
async fn nc_gets_its_datagram_echoed() {
    let server = start_udp(UdpServeMode::Echo).await;
    // -w 1: nc waits a second for more after its input ends, then exits.
    let output = nc(
        &["-u", "-w", "1", "127.0.0.1", &port(server.addr)],
        b"datagram\n",
    )
    .await;
    assert_success(&output);
    assert_eq!(output.stdout, b"datagram\n");
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(records[0].bytes_in, 9);
}

#[tokio::test]
async fn tcp_send_talks_to_an_nc_server() {
    let (addr, listener) = nc_listen(b"reply from netcat\n").await;
    let options = TcpSendOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        mode: SendMode::Stream,
    };
    let mut output = Vec::new();
    let report = within(
        "send to nc",
        send_tcp(
            "nc",
            &[addr],
            &b"hello netcat\n"[..],
            &mut output,
            options,
            CancellationToken::new(),
        ),
    )
    .await
    .expect("exchange with nc");
    assert_eq!(output, b"reply from netcat\n");
    assert_eq!(report.end, SendEnd::ServerClosed);
    let heard = within("nc exiting", listener.wait_with_output())
        .await
        .expect("nc ran");
    assert_success(&heard);
    assert_eq!(heard.stdout, b"hello netcat\n");
}

#[tokio::test]
async fn nc_reads_the_daytime_over_tcp_and_udp() {
    let server = start_daytime(Zone::Utc).await;
    // -d: send nothing; the server answers and closes.
    let output = nc(&["-d", "127.0.0.1", &port(server.addr)], b"").await;
    assert_success(&output);
    let text = String::from_utf8(output.stdout).expect("ASCII");
    parse_daytime(&text).unwrap_or_else(|err| panic!("tcp: {err}"));

    let output = nc(&["-u", "-w", "1", "127.0.0.1", &port(server.addr)], b"\n").await;
    assert_success(&output);
    let text = String::from_utf8(output.stdout).expect("ASCII");
    parse_daytime(&text).unwrap_or_else(|err| panic!("udp: {err}"));
}
