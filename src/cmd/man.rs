//! `canary man`: man pages generated from the clap definition, so they
//! never drift from `--help` (the Debian package ships them).

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use canary::error::{Error, Result};
use canary::store;
use canary_core::exit::Exit;

pub fn run(out_dir: Option<&Path>) -> Result<Exit> {
    let cmd = Cli::command();
    let Some(dir) = out_dir else {
        super::out(&String::from_utf8_lossy(&render(&cmd)?));
        return Ok(Exit::Ok);
    };
    store::ensure_dir(dir)?;
    let mut pages = vec![("canary.1".to_string(), render(&cmd)?)];
    for sub in cmd.get_subcommands() {
        // Each page is named and titled canary-COMMAND, as git's are.
        let name = format!("canary-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("canary {}", sub.get_name()));
        pages.push((format!("{name}.1"), render(&page)?));
    }
    for (file, bytes) in &pages {
        store::write_atomic(&dir.join(file), bytes)?;
    }
    super::out(&format!(
        "Wrote {} man pages to {}\n",
        pages.len(),
        canary::error::show_path(dir)
    ));
    Ok(Exit::Ok)
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| Error::usage(format!("cannot render the man page: {e}")))?;
    Ok(buf)
}
