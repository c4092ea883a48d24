//! The proof of freshness (`Freshness::parse`, then the offline checks) and
//! the block explorers' answers (`parse_height`, `parse_hash`,
//! `parse_block`, then `agree` and `check_online`): every input is tried as
//! each of them.
#![no_main]

use canary_core::freshness::{self, Block, ExplorerAnswer, Freshness, Requirement};
use canary_core::timefmt::Timestamp;
use libfuzzer_sys::fuzz_target;

/// The block of the explorer seed (seeds/freshness/explorer-block.json).
const HEIGHT: u64 = 930_000;
const HASH: &str = "0574c1e4856596ac8bf8873105090434a5630d44edc0d1d05db7a89bdbcb7eeb";

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Freshness::parse(data) {
        // parse(write(x)) == x.
        let again = Freshness::parse(&f.to_json()).expect("a proof's own JSON parses");
        assert_eq!(again, f);
        let issued = f.fetched_at.plus_seconds(3600).unwrap_or(f.fetched_at);
        for req in [Requirement::DEFAULT, Requirement::NONE] {
            let problems = freshness::check(Some(&f), &req, issued);
            let _ = freshness::describe_all(&problems);
        }
        let _ = f.newest_headline();
        if let Some(b) = &f.block {
            let answers = [ExplorerAnswer {
                explorer: "https://explorer.example/api".into(),
                answer: Ok((b.hash.clone(), Some(b.time))),
            }];
            let _ = freshness::check_online(b, &answers);
        }
    }
    let _ = freshness::parse_height(data);
    let _ = freshness::parse_hash(data);
    if let Ok(time) = freshness::parse_block(data, HASH, HEIGHT) {
        let answers = [
            ExplorerAnswer {
                explorer: "https://a.example/api".into(),
                answer: Ok((HASH.into(), Some(time))),
            },
            ExplorerAnswer {
                explorer: "https://b.example/api".into(),
                answer: Ok((HASH.into(), Some(Timestamp::from_unix(time.unix() ^ 1)))),
            },
        ];
        let _ = freshness::agree(HEIGHT, &answers[..1]);
        let _ = freshness::agree(HEIGHT, &answers);
        let block = Block {
            height: HEIGHT,
            hash: HASH.into(),
            time,
            explorers: vec!["https://a.example/api".into()],
        };
        for p in freshness::check_online(&block, &answers) {
            let _ = p.to_string();
        }
        // `canary freshness fetch` writes the block an explorer gave into
        // the proof file: the file must read back.
        let proof = Freshness::new(time, Vec::new(), Some(block), Vec::new());
        let again = Freshness::parse(&proof.to_json()).expect("a proof with this block reads back");
        assert_eq!(again, proof);
    }
});
