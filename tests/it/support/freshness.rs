//! The proof-of-freshness world on 127.0.0.1, for the suites that fetch a
//! proof (freshness.rs, site.rs): real mainnet blocks read from
//! `../shared`, an Esplora explorer serving them, news feeds of the day of
//! block 890442, and the `[freshness]` section of canary.toml pointing at
//! the loopback server.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::http::Server;
use super::needs;

/// When the proof is fetched, when the canary is issued, and "now".
pub const FETCH_AT: &str = "2025-04-01T22:00:00Z";
pub const ISSUED_AT: &str = "2025-04-01T23:00:00Z";
pub const NOW: &str = "2025-04-02T00:00:00Z";
/// Block 890448 is the tip served; 6 confirmations below it is 890442.
pub const TIP: u64 = 890448;
pub const BLOCK_890442: &str = "000000000000000000014845978a876b3d8bf5d489b9d87e88873952b06ddfce";
pub const BLOCK_890443: &str = "000000000000000000026e08b270834273511b353bed30d54706211adc96f5f6";

/// Real mainnet block objects (Esplora `/block/:hash` fields) from
/// ../shared/vectors (AGPL, read at run time). None (skip) when the folder
/// is absent outside CI.
pub fn real_blocks() -> Option<Vec<Value>> {
    let base = needs::shared_dir("vectors/bitcoin/mempool/frontend/cypress/fixtures/details_rbf")?;
    let read =
        |f: &str| -> Value { serde_json::from_slice(&fs::read(base.join(f)).unwrap()).unwrap() };
    let mut blocks: Vec<Value> = read("tx01_ws_blocks_01.json")["blocks"]
        .as_array()
        .unwrap()
        .clone();
    blocks.push(read("tx02_ws_block.json")["block"].clone());
    eprintln!(
        "serving {} real mainnet blocks from ../shared/vectors/bitcoin",
        blocks.len()
    );
    Some(blocks)
}

/// Serves an Esplora API under `prefix` (e.g. `/m/api`) with these blocks.
pub fn serve_explorer(server: &Server, prefix: &str, blocks: &[Value]) {
    server.body(&format!("{prefix}/blocks/tip/height"), TIP.to_string());
    for b in blocks {
        let id = b["id"].as_str().unwrap();
        server.body(&format!("{prefix}/block-height/{}", b["height"]), id);
        server.body(
            &format!("{prefix}/block/{id}"),
            serde_json::to_vec(b).unwrap(),
        );
    }
}

/// A news feed (RSS 2.0) of five stories for the day of block 890442
/// (2025-04-01), so that headline times, block time and issue time tell
/// one story. `first`, when given, is the first story's title and link
/// instead (as written into the XML).
pub fn news_rss(tag: &str, first: Option<(&str, &str)>) -> Vec<u8> {
    let items: String = (0..5)
        .map(|i| {
            let (title, link) = match first {
                Some((title, link)) if i == 0 => (title.to_string(), link.to_string()),
                _ => (
                    format!("{tag} story {i}: talks resume &amp; markets react"),
                    format!("https://{tag}.example/{i}"),
                ),
            };
            format!(
                "<item><title>{title}</title><link>{link}</link>\
                 <pubDate>Tue, 01 Apr 2025 21:{:02}:00 +0000</pubDate></item>",
                50 - i
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{tag}</title>{items}</channel></rss>")
        .into_bytes()
}

/// Replaces the `[freshness]` section of `dir`'s canary.toml (written by
/// `canary init`, last in the file) with one naming `feeds` and
/// `explorers`, paths on `server`.
pub fn configure(
    dir: &Path,
    server: &Server,
    feeds: &[&str],
    explorers: &[&str],
    headlines: usize,
    timeout: u64,
) {
    let path = dir.join("canary.toml");
    let text = fs::read_to_string(&path).unwrap();
    let head = &text[..text.find("[freshness]").expect("init writes [freshness]")];
    let list = |xs: &[&str]| {
        xs.iter()
            .map(|x| format!("\"{}\"", server.url(x)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let section = format!(
        "[freshness]\nfeeds = [{}]\nheadlines_per_feed = {headlines}\nexplorers = [{}]\nconfirmations = 6\nwindow_hours = 72\ntimeout_seconds = {timeout}\n",
        list(feeds),
        list(explorers)
    );
    fs::write(&path, format!("{head}{section}")).unwrap();
}
