//! The daytime client against the daytime server over TCP and UDP: the
//! answer parses and is within a few seconds of now; one port serves both.

mod support_net;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use collector::net::bind::BindError;
use collector::net::daytime::{
    DaytimeOutcome, Transports, Zone, bind_daytime, get_daytime_tcp, get_daytime_udp, parse_daytime,
};
use collector::net::log::{ConnectionEnd, Proto};
use collector::net::udp::UdpSendOptions;
use support_net::{localhost, start_daytime, within};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(2);

fn answer_text(outcome: DaytimeOutcome) -> String {
    match outcome {
        DaytimeOutcome::Answered(answer) => answer.text,
        DaytimeOutcome::Interrupted => panic!("not interrupted"),
    }
}

fn assert_close_to_now(text: &str) -> DateTime<FixedOffset> {
    assert!(text.ends_with("\r\n"), "{text:?} should end with CRLF");
    assert!(text.is_ascii(), "{text:?} should be ASCII");
    assert_eq!(text.matches('\n').count(), 1, "{text:?} should be one line");
    let at = parse_daytime(text).expect("the answer parses");
    let off_by = (Utc::now() - at.with_timezone(&Utc)).num_seconds().abs();
    assert!(off_by <= 5, "{text:?} is {off_by}s away from now");
    at
}

#[tokio::test]
async fn tcp_answer_is_now() {
    let server = start_daytime(Zone::Utc).await;
    let outcome = within(
        "daytime over tcp",
        get_daytime_tcp("daytime", &[server.addr], TIMEOUT, CancellationToken::new()),
    )
    .await
    .expect("answered");
    let text = answer_text(outcome);
    assert!(text.ends_with("-UTC\r\n"), "{text:?}");
    assert_eq!(assert_close_to_now(&text).offset().local_minus_utc(), 0);
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(
        (records[0].proto, &records[0].end),
        (Proto::Tcp, &ConnectionEnd::Answered)
    );
    assert_eq!(records[0].bytes_out, text.len() as u64);
}

#[tokio::test]
async fn udp_answer_is_now_on_the_same_port() {
    let server = start_daytime(Zone::Utc).await;
    let options = UdpSendOptions {
        timeout: TIMEOUT,
        retries: 1,
    };
    let outcome = within(
        "daytime over udp",
        get_daytime_udp(server.addr, options, |_, _| {}, CancellationToken::new()),
    )
    .await
    .expect("answered");
    assert_close_to_now(&answer_text(outcome));
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(records[0].proto, Proto::Udp);
    let stats = server.stop().await;
    assert_eq!((stats.tcp.connections, stats.udp.datagrams), (0, 1));
}

#[tokio::test]
async fn local_zone_answer_carries_the_offset() {
    let server = start_daytime(Zone::Local).await;
    let outcome = within(
        "daytime local",
        get_daytime_tcp("daytime", &[server.addr], TIMEOUT, CancellationToken::new()),
    )
    .await
    .expect("answered");
    let at = assert_close_to_now(&answer_text(outcome));
    assert_eq!(*at.offset(), *chrono::Local::now().fixed_offset().offset());
}

#[tokio::test]
async fn tcp_server_answers_without_waiting_for_the_client() {
    let server = start_daytime(Zone::Utc).await;
    let mut client = TcpStream::connect(server.addr).await.expect("connect");
    let mut text = String::new();
    within("answer and close", client.read_to_string(&mut text))
        .await
        .expect("read");
    assert_close_to_now(&text);
}

#[tokio::test]
async fn udp_server_answers_any_datagram() {
    let server = start_daytime(Zone::Utc).await;
    let client = UdpSocket::bind(localhost()).await.expect("bind");
    client.connect(server.addr).await.expect("connect");
    let mut buf = [0; 512];
    for datagram in [&b""[..], b"what time is it?\r\n"] {
        client.send(datagram).await.expect("send");
        let read = within("udp answer", client.recv(&mut buf))
            .await
            .expect("recv");
        assert_close_to_now(std::str::from_utf8(&buf[..read]).expect("ASCII answer"));
    }
}

#[tokio::test]
async fn one_transport_alone() {
    let tcp_only = Transports {
        tcp: true,
        udp: false,
    };
    let sockets = bind_daytime(localhost(), tcp_only).await.expect("bind");
    assert!(sockets.tcp.is_some() && sockets.udp.is_none());
    let udp_only = Transports {
        tcp: false,
        udp: true,
    };
    let sockets = bind_daytime(localhost(), udp_only).await.expect("bind");
    assert!(sockets.tcp.is_none() && sockets.udp.is_some());
}

#[tokio::test]
async fn taken_port_is_reported_for_either_transport() {
    let both = Transports {
        tcp: false,
        udp: false,
    };
    let tcp_taken = TcpListener::bind(localhost()).await.expect("bind");
    let addr = tcp_taken.local_addr().expect("bound address");
    let err = bind_daytime(addr, both).await.expect_err("tcp port taken");
    assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on tcp {addr}")),
        "{err}"
    );

    let udp_taken = UdpSocket::bind(localhost()).await.expect("bind");
    let addr = udp_taken.local_addr().expect("bound address");
    // The TCP port may be free; the UDP twin is not, and an explicit port
    // is never swapped for another.
    if let Err(err) = bind_daytime(addr, both).await {
        assert!(err.to_string().contains("already in use"), "{err}");
    } else {
        panic!("udp port {addr} was taken but binding succeeded");
    }
}

#[tokio::test]
async fn client_reports_a_refused_connection() {
    let listener = TcpListener::bind(localhost()).await.expect("bind");
    let addr = listener.local_addr().expect("bound address");
    drop(listener);
    let err = get_daytime_tcp("nowhere", &[addr], TIMEOUT, CancellationToken::new())
        .await
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "could not connect to nowhere: connection refused"
    );
}
