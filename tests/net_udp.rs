//! `udp serve` and `udp send` against each other and against fault
//! servers: a lost first datagram, a server that never answers, a port
//! nothing listens on, and a message too large for a datagram.

mod support_net;

use std::time::Duration;

use collector::net::bind::{BindError, bind_udp};
use collector::net::log::{ConnectionEnd, Proto};
use collector::net::outcome_for;
use collector::net::udp::{
    MAX_PAYLOAD_V4, UdpSendError, UdpSendOptions, UdpSendOutcome, UdpServeMode, request_udp,
};
use collector::outcome::Outcome;
use support_net::{drops_first_datagram, never_answers, start_udp, within};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn options(timeout_ms: u64, retries: u32) -> UdpSendOptions {
    UdpSendOptions {
        timeout: Duration::from_millis(timeout_ms),
        retries,
    }
}

fn answered(outcome: UdpSendOutcome) -> collector::net::udp::UdpAnswer {
    match outcome {
        UdpSendOutcome::Answered(answer) => answer,
        UdpSendOutcome::Interrupted => panic!("not interrupted"),
    }
}

#[tokio::test]
async fn echo_answers_each_datagram() {
    let server = start_udp(UdpServeMode::Echo).await;
    for message in [&b"first"[..], b"", &[0xff; 1000]] {
        let outcome = within(
            "udp echo",
            request_udp(
                server.addr,
                message,
                options(1000, 0),
                |_, _| {},
                CancellationToken::new(),
            ),
        )
        .await
        .expect("answered");
        let answer = answered(outcome);
        assert_eq!(answer.payload, message);
        assert_eq!((answer.from, answer.attempts), (server.addr, 1));
    }
    let records = server.log.wait_for_connections(3).await;
    assert!(
        records
            .iter()
            .all(|r| r.proto == Proto::Udp && r.end == ConnectionEnd::Answered)
    );
    assert_eq!((records[0].bytes_in, records[0].bytes_out), (5, 5));
    let stats = server.stop().await;
    assert_eq!(stats.datagrams, 3);
}

#[tokio::test]
async fn reply_mode_answers_with_the_text() {
    let server = start_udp(UdpServeMode::Reply(b"fixed".to_vec())).await;
    let outcome = within(
        "udp reply",
        request_udp(
            server.addr,
            b"anything",
            options(1000, 0),
            |_, _| {},
            CancellationToken::new(),
        ),
    )
    .await
    .expect("answered");
    assert_eq!(answered(outcome).payload, b"fixed");
}

#[tokio::test]
async fn resends_when_the_first_datagram_is_lost() {
    let (addr, server) = drops_first_datagram().await;
    let mut retries_seen = Vec::new();
    let outcome = within(
        "udp retry",
        request_udp(
            addr,
            b"are you there",
            options(200, 3),
            |attempt, attempts| retries_seen.push((attempt, attempts)),
            CancellationToken::new(),
        ),
    )
    .await
    .expect("answered on the second try");
    let answer = answered(outcome);
    assert_eq!(answer.payload, b"are you there");
    assert_eq!(answer.attempts, 2);
    assert_eq!(retries_seen, [(2, 4)]);
    assert_eq!(within("fault server", server).await.expect("task"), 2);
}

#[tokio::test]
async fn gives_up_after_the_retries() {
    let silent = never_answers().await;
    let addr = silent.local_addr().expect("bound address");
    let started = Instant::now();
    let err = within(
        "udp no answer",
        request_udp(
            addr,
            b"hello?",
            options(100, 2),
            |_, _| {},
            CancellationToken::new(),
        ),
    )
    .await
    .expect_err("no answer");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        matches!(err, UdpSendError::NoAnswer { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "no answer from udp {addr} after 3 datagram(s), waiting 0.1s for each; \
             the server may be down or the datagrams lost (see --timeout and --retries)"
        )
    );
    assert_eq!(outcome_for(&anyhow::Error::new(err)), Outcome::Failed);
    // Every attempt really went out.
    let mut buf = [0; 16];
    for _ in 0..3 {
        let (read, _) = within("datagram arrived", silent.recv_from(&mut buf))
            .await
            .expect("recv");
        assert_eq!(&buf[..read], b"hello?");
    }
}

#[tokio::test]
async fn refuses_a_message_larger_than_a_datagram() {
    let silent = never_answers().await;
    let addr = silent.local_addr().expect("bound address");
    let message = vec![b'x'; MAX_PAYLOAD_V4 + 1];
    let err = request_udp(
        addr,
        &message,
        options(100, 0),
        |_, _| {},
        CancellationToken::new(),
    )
    .await
    .expect_err("too large");
    assert!(
        matches!(
            err,
            UdpSendError::TooLarge {
                len: 65_508,
                max: 65_507,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("more than one UDP datagram"),
        "{err}"
    );
    assert_eq!(outcome_for(&anyhow::Error::new(err)), Outcome::BadInput);
    // The largest that fits does go out.
    let fits = vec![b'x'; MAX_PAYLOAD_V4];
    let server = start_udp(UdpServeMode::Echo).await;
    let outcome = within(
        "largest datagram",
        request_udp(
            server.addr,
            &fits,
            options(1000, 0),
            |_, _| {},
            CancellationToken::new(),
        ),
    )
    .await
    .expect("answered");
    assert_eq!(answered(outcome).payload.len(), MAX_PAYLOAD_V4);
}

#[tokio::test]
async fn a_port_with_no_server_is_refused() {
    let gone = never_answers().await;
    let addr = gone.local_addr().expect("bound address");
    drop(gone);
    let err = within(
        "udp to a closed port",
        request_udp(
            addr,
            b"hi",
            options(1000, 1),
            |_, _| {},
            CancellationToken::new(),
        ),
    )
    .await
    .expect_err("refused");
    assert!(matches!(err, UdpSendError::Refused { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("udp {addr} refused the datagram: nothing listens on that port")
    );
}

#[tokio::test]
async fn interrupt_stops_the_wait() {
    let silent = never_answers().await;
    let addr = silent.local_addr().expect("bound address");
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let outcome = within(
        "interrupted udp send",
        request_udp(addr, b"hi", options(3000, 3), |_, _| {}, shutdown),
    )
    .await
    .expect("no error");
    assert_eq!(outcome, UdpSendOutcome::Interrupted);
}

#[tokio::test]
async fn port_in_use_is_named_with_a_way_out() {
    let taken = never_answers().await;
    let addr = taken.local_addr().expect("bound address");
    let err = bind_udp(addr).await.expect_err("port is taken");
    assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on udp {addr}")),
        "{err}"
    );
}
