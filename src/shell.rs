//! `collector completions SHELL` and `collector man`: the command line
//! described for shells (clap_complete) and for `man` (clap_mangen), both
//! generated from the same clap definitions as `--help`.

use std::io::Write;

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

use crate::cli::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; the script goes to standard output, e.g.
    /// `collector completions bash > ~/.local/share/bash-completion/completions/collector`
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `shell`.
pub fn write_completions(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    // clap_complete panics when a write fails (`collector completions bash
    // | head`): generate in memory, then write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `crawl` or `tcp serve` [default: collector(1),
    /// which lists the commands]
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The man page of `collector` or of one of its commands (`["tcp",
/// "serve"]` gives collector-tcp-serve(1)), with its options and, as EXIT
/// STATUS, the exit codes that close its `--help`. An unknown command is an
/// error naming the known ones.
pub fn man_page(path: &[String]) -> Result<ManPage, String> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Building names the subcommands `collector-crawl` and so on, the names
    // their pages get and the top page refers to.
    command.build();
    for name in path {
        let known: Vec<String> = command
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        command = command.find_subcommand(name).cloned().ok_or_else(|| {
            format!(
                "no command {name:?}; the commands are: {}",
                known.join(", ")
            )
        })?;
    }
    Ok(ManPage { command })
}

/// One command's page, ready to render.
pub struct ManPage {
    command: clap::Command,
}

impl ManPage {
    /// clap_mangen's sections, except that the exit codes (which it would
    /// print as lines of an "EXTRA" section) become an EXIT STATUS list.
    pub fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let cmd = &self.command;
        let man = clap_mangen::Man::new(cmd.clone())
            .source(format!("collector {}", env!("COLLECTOR_LONG_VERSION")));
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(out)?;
        }
        if cmd.get_subcommands().any(|c| !c.is_hide_set()) {
            man.render_subcommands_section(out)?;
        }
        if let Some(codes) = cmd.get_after_help() {
            exit_status(&codes.to_string()).to_writer(out)?;
        }
        if cmd.get_version().is_some() {
            man.render_version_section(out)?;
        }
        out.flush()
    }
}

/// `Exit codes:` then `  CODE  text` entries (continued on lines indented
/// further) as a roff `.TP` list.
fn exit_status(help: &str) -> roff::Roff {
    let mut page = roff::Roff::new();
    page.control("SH", ["EXIT STATUS"]);
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in help
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
    {
        let text = line.trim();
        match text.split_once(char::is_whitespace) {
            Some((code, rest)) if code.bytes().all(|b| b.is_ascii_digit()) => {
                entries.push((code.to_owned(), rest.trim().to_owned()));
            }
            _ => {
                if let Some((_, meaning)) = entries.last_mut() {
                    meaning.push(' ');
                    meaning.push_str(text);
                }
            }
        }
    }
    for (code, meaning) in entries {
        page.control("TP", []);
        page.text([roff::bold(code)]);
        page.text([roff::roman(meaning)]);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_become_one_list_item_each_with_continued_lines_joined() {
        let page = exit_status("Exit codes:\n  0    done\n  2    bad input,\n       nothing run\n");
        let roff = page.to_roff();
        assert!(roff.contains(".SH \"EXIT STATUS\""), "{roff}");
        assert_eq!(roff.matches(".TP").count(), 2, "{roff}");
        assert!(roff.contains("bad input, nothing run"), "{roff}");
    }

    #[test]
    fn man_names_the_unknown_command_and_the_known_ones() {
        let err = man_page(&["tcp".into(), "nope".into()])
            .err()
            .expect("unknown");
        assert!(err.contains("\"nope\""), "{err}");
        assert!(err.contains("serve, send, check"), "{err}");
    }
}
