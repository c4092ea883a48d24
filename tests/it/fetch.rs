//! The network edge against a hostile loopback server: every request ends,
//! and each failure says what happened.

use std::time::{Duration, Instant};

use crate::support::fetch::{Client, Deadline, FetchError, RequestLimits};
use crate::support::http::{Route, Server};

fn client(total_secs: u64) -> Client {
    Client::new(RequestLimits {
        max_bytes: 1 << 20,
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(total_secs),
        max_redirects: 3,
    })
    .unwrap()
}

#[test]
fn fetches_a_body() {
    let s = Server::start();
    s.body("/x", "hello");
    assert_eq!(client(5).get(&s.url("/x")).unwrap(), b"hello");
}

#[test]
fn caps_a_50_mib_body() {
    let s = Server::start();
    s.set("/big", Route::Huge(50 << 20));
    let e = client(10).get(&s.url("/big")).unwrap_err();
    assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("larger than"));
}

/// The incident log's own cap replaces the client's for that one request,
/// and is enforced the same way.
#[test]
fn a_larger_cap_for_one_request_holds_too() {
    let s = Server::start();
    s.body("/log", vec![b'x'; (1 << 20) + 1]);
    s.set("/big", Route::Huge(50 << 20));
    let c = client(10);
    let deadline = Deadline::after(Duration::from_secs(10));
    assert!(matches!(
        c.get(&s.url("/log")).unwrap_err(),
        FetchError::TooLarge {
            limit: 1_048_576,
            ..
        }
    ));
    let body = c.get_up_to(&s.url("/log"), deadline, 2 << 20).unwrap();
    assert_eq!(body.len(), (1 << 20) + 1);
    let e = c.get_up_to(&s.url("/big"), deadline, 2 << 20).unwrap_err();
    assert!(
        matches!(
            e,
            FetchError::TooLarge {
                limit: 2_097_152,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let s = Server::start();
    s.set("/hang", Route::Hang);
    let start = Instant::now();
    let e = client(2).get(&s.url("/hang")).unwrap_err();
    assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_dripping_server_hits_the_total_deadline() {
    let s = Server::start();
    s.set(
        "/drip",
        Route::Drip {
            body: vec![b'x'; 1000],
            every: Duration::from_millis(100),
        },
    );
    let e = client(2).get(&s.url("/drip")).unwrap_err();
    assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
}

#[test]
fn redirect_loops_and_errors_are_named() {
    let s = Server::start();
    s.set("/a", Route::Redirect("/b".into()));
    s.set("/b", Route::Redirect("/a".into()));
    let e = client(5).get(&s.url("/a")).unwrap_err();
    assert!(matches!(e, FetchError::Redirect { .. }), "{e}");
    let e = client(5).get(&s.url("/missing")).unwrap_err();
    assert_eq!(
        e,
        FetchError::Status {
            url: s.url("/missing"),
            status: 404
        }
    );
}

/// At most `max_redirects` redirects are followed (FORMAT.md: "at most 5
/// redirects per request"): a chain of exactly that many ends in the body,
/// one more is refused.
#[test]
fn exactly_max_redirects_are_followed() {
    let s = Server::start();
    for i in 0..4 {
        s.set(&format!("/r{i}"), Route::Redirect(format!("/r{}", i + 1)));
    }
    s.body("/r4", "end");
    let five = |total| {
        Client::new(RequestLimits {
            max_redirects: 5,
            ..RequestLimits::default()
        })
        .unwrap()
        .get(&s.url(total))
    };
    // /r0 -> /r1 -> /r2 -> /r3 -> /r4: four redirects.
    assert_eq!(five("/r0").unwrap(), b"end");
    s.set("/start", Route::Redirect("/r0".into()));
    // Five redirects: followed.
    assert_eq!(five("/start").unwrap(), b"end");
    s.set("/six", Route::Redirect("/start".into()));
    // Six: refused.
    let e = five("/six").unwrap_err();
    assert!(matches!(e, FetchError::Redirect { .. }), "{e}");
}

#[test]
fn redirect_to_plain_http_off_loopback_is_refused() {
    let s = Server::start();
    s.set("/out", Route::Redirect("http://example.org/".into()));
    let e = client(5).get(&s.url("/out")).unwrap_err();
    assert!(matches!(e, FetchError::Redirect { .. }), "{e}");
}

#[test]
fn put_uploads_the_body() {
    let s = Server::start();
    client(5)
        .put(&s.url("/site/a.txt"), b"data".to_vec(), "text/plain")
        .unwrap();
    assert_eq!(
        s.puts(),
        vec![("/site/a.txt".to_string(), b"data".to_vec())]
    );
}
