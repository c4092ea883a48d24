//! `freshness::parse_feed`: a news feed (RSS, Atom, JSON Feed) fetched from
//! a server nobody here controls.
#![no_main]

use canary_core::freshness::{self, Feed, Freshness, MAX_HEADLINES, MAX_TEXT};
use canary_core::timefmt::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // parse_feed catches feed-rs's own panics (a hostile feed is a failed
    // feed). libFuzzer's panic hook aborts on any panic, caught or not, so
    // the default hook is put back: a panic that escapes parse_feed still
    // aborts (libfuzzer-sys aborts when the target unwinds).
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| drop(std::panic::take_hook()));
    let url = "https://news.example/feed.xml";
    let Ok(headlines) = freshness::parse_feed(data, url, MAX_HEADLINES) else {
        return;
    };
    assert!(headlines.len() <= MAX_HEADLINES);
    for h in &headlines {
        assert!(!h.title.raw().is_empty() && h.title.raw().len() <= MAX_TEXT);
        assert!(h.link.as_ref().is_none_or(|l| l.raw().len() <= MAX_TEXT));
    }
    let _ = freshness::is_frozen(None, url, &headlines);
    // `canary freshness fetch` writes these headlines into the proof file:
    // the file must read back.
    if !headlines.is_empty() {
        let at = Timestamp::from_unix(1_790_000_000);
        let feeds = vec![Feed {
            url: url.into(),
            headlines,
        }];
        let proof = Freshness::new(at, feeds, None, Vec::new());
        let again =
            Freshness::parse(&proof.to_json()).expect("a proof with these headlines reads back");
        assert_eq!(again, proof);
    }
});
