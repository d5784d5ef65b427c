//! `tcp serve`, `tcp send` and `tcp check` against each other and against
//! small fault servers, all in-process on 127.0.0.1.

mod support_net;

use std::time::Duration;

use collector::net::addr::{Endpoint, PortRule};
use collector::net::bind::{BindError, bind_tcp};
use collector::net::log::{ConnectionEnd, ServerEvent};
use collector::net::outcome_for;
use collector::net::tcp::check::{PortStatus, check_port, check_ports};
use collector::net::tcp::send::{
    LineEnding, SendEnd, SendMode, TcpSendError, TcpSendOptions, send_tcp,
};
use collector::net::tcp::serve::TcpServeMode;
use futures::StreamExt;
use support_net::{
    STEP, accepts_and_stalls, closed_port, full_backlog, start_tcp, tcp_options, within,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn send_options(mode: SendMode) -> TcpSendOptions {
    TcpSendOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        mode,
    }
}

/// Connects, sends `payload` while reading, half-closes, returns all read.
async fn raw_exchange(addr: std::net::SocketAddr, payload: Vec<u8>) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        writer.write_all(&payload).await.expect("send payload");
        writer.shutdown().await.expect("half-close");
    });
    let mut received = Vec::new();
    reader.read_to_end(&mut received).await.expect("read reply");
    sending.await.expect("sender finished");
    received
}

#[tokio::test]
async fn echo_returns_every_byte_to_100_simultaneous_clients() {
    const CLIENTS: usize = 100;
    const BYTES: usize = 64 * 1024;
    let server = start_tcp(tcp_options(TcpServeMode::Echo)).await;
    let addr = server.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            // Each client's bytes differ, so a mix-up between connections shows.
            let payload: Vec<u8> = (0..BYTES).map(|i| ((i * 7 + client) % 251) as u8).collect();
            tokio::spawn(async move {
                let echoed = raw_exchange(addr, payload.clone()).await;
                assert!(echoed == payload, "client {client}: echo differs");
            })
        })
        .collect();
    within("100 clients echoed", async {
        for client in clients {
            client.await.expect("client task");
        }
    })
    .await;
    let records = server.log.wait_for_connections(CLIENTS).await;
    assert!(
        records.iter().all(|r| r.end == ConnectionEnd::ClientClosed),
        "{records:?}"
    );
    let stats = server.stop().await;
    assert_eq!(stats.connections, CLIENTS as u64);
    assert_eq!(stats.bytes_in, (CLIENTS * BYTES) as u64);
    assert_eq!(stats.bytes_out, (CLIENTS * BYTES) as u64);
}

#[tokio::test]
async fn send_prints_the_echo_and_reports_the_close() {
    let server = start_tcp(tcp_options(TcpServeMode::Echo)).await;
    // A name that resolves, not only a literal address.
    let target = Endpoint::parse(
        &format!("localhost:{}", server.addr.port()),
        PortRule::Required,
    )
    .expect("valid target");
    let addrs = target.resolve(STEP).await.expect("localhost resolves");
    let mut output = Vec::new();
    let report = within(
        "send",
        send_tcp(
            &target.to_string(),
            &addrs,
            &b"hello, server"[..],
            &mut output,
            send_options(SendMode::Stream),
            CancellationToken::new(),
        ),
    )
    .await
    .expect("send succeeds");
    assert_eq!(output, b"hello, server");
    assert_eq!(report.end, SendEnd::ServerClosed);
    assert_eq!((report.bytes_sent, report.bytes_received), (13, 13));

    let records = server.log.wait_for_connections(1).await;
    assert_eq!((records[0].bytes_in, records[0].bytes_out), (13, 13));
    assert!(
        records[0].to_string().contains("in=13 out=13"),
        "{}",
        records[0]
    );
}

#[tokio::test]
async fn lines_mode_sends_whole_lines_with_the_chosen_ending() {
    let server = start_tcp(tcp_options(TcpServeMode::Echo)).await;
    let mut output = Vec::new();
    let report = within(
        "send lines",
        send_tcp(
            "echo",
            &[server.addr],
            &b"first\nsecond\r\nlast without newline"[..],
            &mut output,
            send_options(SendMode::Lines {
                ending: LineEnding::CrLf,
            }),
            CancellationToken::new(),
        ),
    )
    .await
    .expect("send succeeds");
    assert_eq!(output, b"first\r\nsecond\r\nlast without newline\r\n");
    assert_eq!(report.end, SendEnd::ServerClosed);
}

#[tokio::test]
async fn reply_mode_sends_the_text_then_closes() {
    let server = start_tcp(tcp_options(TcpServeMode::Reply(b"pong\n".to_vec()))).await;
    // Without sending anything ...
    assert_eq!(
        within("reply", raw_exchange(server.addr, Vec::new())).await,
        b"pong\n"
    );
    // ... and after sending a request, which is read and thrown away.
    let request = vec![b'x'; 100_000];
    assert_eq!(
        within("reply", raw_exchange(server.addr, request)).await,
        b"pong\n"
    );
    let records = server.log.wait_for_connections(2).await;
    let bytes_in: Vec<u64> = records.iter().map(|r| r.bytes_in).collect();
    assert!(bytes_in.contains(&100_000), "{records:?}");
}

#[tokio::test]
async fn discard_mode_reads_everything_and_sends_nothing() {
    let server = start_tcp(tcp_options(TcpServeMode::Discard)).await;
    let reply = within("discard", raw_exchange(server.addr, vec![0; 10_000])).await;
    assert!(reply.is_empty());
    let records = server.log.wait_for_connections(1).await;
    assert_eq!((records[0].bytes_in, records[0].bytes_out), (10_000, 0));
}

#[tokio::test]
async fn connection_cap_holds_extra_clients_until_one_closes() {
    let mut options = tcp_options(TcpServeMode::Echo);
    options.limits.max_conns = 2;
    let server = start_tcp(options).await;
    let mut first = TcpStream::connect(server.addr)
        .await
        .expect("connect first");
    let mut second = TcpStream::connect(server.addr)
        .await
        .expect("connect second");
    for client in [&mut first, &mut second] {
        client.write_all(b"a").await.expect("send");
        let mut byte = [0; 1];
        within("echo below the cap", client.read_exact(&mut byte))
            .await
            .expect("echo");
    }
    // The third connects (the system's backlog takes it) but is not served.
    let mut third = TcpStream::connect(server.addr)
        .await
        .expect("connect third");
    third.write_all(b"c").await.expect("send");
    let mut byte = [0; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read_exact(&mut byte)).await;
    assert!(
        early.is_err(),
        "third client was served while two were open"
    );
    assert!(
        server
            .log
            .events()
            .iter()
            .any(|e| matches!(e, ServerEvent::AtCapacity { max_conns: 2 })),
        "{:?}",
        server.log.events()
    );

    drop(first);
    within("echo once a slot frees", third.read_exact(&mut byte))
        .await
        .expect("echo");
    assert_eq!(&byte, b"c");
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let mut options = tcp_options(TcpServeMode::Echo);
    options.idle_timeout = Duration::from_millis(300);
    let server = start_tcp(options).await;
    let started = Instant::now();
    let mut client = TcpStream::connect(server.addr).await.expect("connect");
    let mut rest = Vec::new();
    within("idle close", client.read_to_end(&mut rest))
        .await
        .expect("clean close");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let records = server.log.wait_for_connections(1).await;
    assert_eq!(records[0].end, ConnectionEnd::IdleTimeout);
}

#[tokio::test]
async fn shutdown_stops_accepting_and_cuts_what_outlives_the_deadline() {
    let mut options = tcp_options(TcpServeMode::Echo);
    options.limits.shutdown_timeout = Duration::from_millis(500);
    let server = start_tcp(options).await;
    let mut finishing = TcpStream::connect(server.addr).await.expect("connect");
    let mut lingering = TcpStream::connect(server.addr).await.expect("connect");
    for client in [&mut finishing, &mut lingering] {
        client.write_all(b"x").await.expect("send");
        let mut byte = [0; 1];
        within("echo", client.read_exact(&mut byte))
            .await
            .expect("echo");
    }

    server.shutdown.cancel();
    // New clients are refused once the listener is closed ...
    within("listener closed", async {
        while TcpStream::connect(server.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // ... while open connections are still served during the drain.
    finishing.write_all(b"y").await.expect("send during drain");
    let mut byte = [0; 1];
    within("echo during drain", finishing.read_exact(&mut byte))
        .await
        .expect("echo");
    finishing.shutdown().await.expect("half-close");
    let mut rest = Vec::new();
    within("close during drain", finishing.read_to_end(&mut rest))
        .await
        .expect("closed");

    let log = server.log.clone();
    let stats = server.stop().await;
    assert_eq!(stats.connections, 2);
    assert_eq!(stats.cut_at_shutdown, 1);
    let ends: Vec<ConnectionEnd> = log.connections().into_iter().map(|r| r.end).collect();
    assert!(ends.contains(&ConnectionEnd::ClientClosed), "{ends:?}");
    assert!(ends.contains(&ConnectionEnd::Shutdown), "{ends:?}");
    assert!(
        log.events()
            .iter()
            .any(|e| matches!(e, ServerEvent::Draining { open: 2, .. })),
        "{:?}",
        log.events()
    );
    // The cut connection is closed for the client too: the read ends (with
    // end of stream or a reset) instead of waiting.
    let _end_or_reset = within("cut connection closes", lingering.read_to_end(&mut rest)).await;
}

#[tokio::test]
async fn port_in_use_is_named_with_a_way_out() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = taken.local_addr().expect("bound address");
    let err = bind_tcp(addr).await.expect_err("port is taken");
    assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&format!("tcp {addr}")), "{message}");
    assert!(message.contains("already in use"), "{message}");
    assert!(message.contains("--bind 127.0.0.1:0"), "{message}");
    assert_eq!(
        outcome_for(&anyhow::Error::new(err)),
        collector::outcome::Outcome::BadInput
    );
}

#[tokio::test]
async fn send_to_a_closed_port_says_refused() {
    let addr = closed_port().await;
    let mut output = Vec::new();
    let err = send_tcp(
        &addr.to_string(),
        &[addr],
        &b"x"[..],
        &mut output,
        send_options(SendMode::Stream),
        CancellationToken::new(),
    )
    .await
    .expect_err("nothing listens");
    assert!(matches!(err, TcpSendError::Connect(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("could not connect to {addr}: connection refused")
    );
    assert_eq!(
        outcome_for(&anyhow::Error::new(err)),
        collector::outcome::Outcome::Failed
    );
}

#[tokio::test]
async fn send_gives_up_on_a_silent_server() {
    let (addr, _server) = accepts_and_stalls().await;
    let mut options = send_options(SendMode::Stream);
    options.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let mut output = Vec::new();
    let report = within(
        "send to a stalled server",
        send_tcp(
            "stall",
            &[addr],
            &b"hello"[..],
            &mut output,
            options,
            CancellationToken::new(),
        ),
    )
    .await
    .expect("connected and sent");
    assert_eq!(report.end, SendEnd::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(output.is_empty());
}

#[tokio::test]
async fn send_stops_when_interrupted() {
    let (addr, _server) = accepts_and_stalls().await;
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let mut output = Vec::new();
    let report = within(
        "interrupted send",
        send_tcp(
            "stall",
            &[addr],
            &b"x"[..],
            &mut output,
            send_options(SendMode::Stream),
            shutdown,
        ),
    )
    .await
    .expect("connected");
    assert_eq!(report.end, SendEnd::Interrupted);
}

#[tokio::test]
async fn check_reports_open_closed_and_timeout_in_order() {
    let server = start_tcp(tcp_options(TcpServeMode::Echo)).await;
    let closed = closed_port().await;
    let (silent, _listener, _held) = full_backlog().await;
    let targets: Vec<Endpoint> = [server.addr, closed, silent]
        .iter()
        .map(|addr| Endpoint::from_socket_addr(*addr))
        .collect();
    let timeout = Duration::from_millis(500);
    let results: Vec<_> = within("checks", check_ports(targets, timeout).collect()).await;
    let statuses: Vec<&PortStatus> = results.iter().map(|r| &r.status).collect();
    assert_eq!(
        statuses,
        [&PortStatus::Open, &PortStatus::Closed, &PortStatus::Timeout]
    );
    assert!(results[2].elapsed >= timeout);
    assert_eq!(results[0].to_string().split(' ').nth(1), Some("open"));

    let named = Endpoint::parse(
        &format!("localhost:{}", server.addr.port()),
        PortRule::Required,
    )
    .expect("valid");
    let result = within("check by name", check_port(&named, timeout)).await;
    assert_eq!(result.status, PortStatus::Open, "{result}");
    assert!(
        result.to_string().ends_with(&server.addr.to_string()),
        "{result}"
    );
}
