//! What the terminal may show: colors only when standard output is a terminal and `NO_COLOR`
//! is not set (<https://no-color.org>), and progress (indicatif, on standard error) only when
//! standard error is a terminal and the output is not JSON. Piped, redirected or JSON output
//! stays plain and silent.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::time::Duration;

use fleetopt_model::Recommendation;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{Global, Output};

/// `text` as the terminal may show it: stored text (descriptions, reasons, notes, names) comes
/// from a table that other principals can write, so control characters, which could move the
/// cursor, rewrite lines or change the terminal's state, and the invisible bidirectional marks,
/// which could reorder what is read, never reach it. Line and tab breaks become spaces; the
/// rest is dropped.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if unsafe_char(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// A recommendation read from the table, with every string in it [`printable`]: what the
/// table output renders, so that no field is forgotten.
pub fn printable_recommendation(r: &Recommendation) -> Recommendation {
    fn clean(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(clean) = printable(s) {
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(clean),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(clean),
            _ => {}
        }
    }
    let round_trip = serde_json::to_value(r).ok().and_then(|mut value| {
        clean(&mut value);
        serde_json::from_value::<Recommendation>(value).ok()
    });
    // A stored item decoded into the model serializes back into it; should it ever not, the
    // free-text fields are still cleaned one by one.
    round_trip.unwrap_or_else(|| {
        let mut r = r.clone();
        for text in [
            &mut r.id,
            &mut r.description,
            &mut r.auto_scaling_group_name,
        ]
        .into_iter()
        .chain(r.implementation.steps.iter_mut())
        {
            *text = printable(text).into_owned();
        }
        for change in &mut r.status_history {
            change.by = printable(&change.by).into_owned();
            change.reason = change.reason.as_deref().map(|t| printable(t).into_owned());
        }
        if let Some(check) = &mut r.last_check {
            check.by = printable(&check.by).into_owned();
            check.reason = printable(&check.reason).into_owned();
        }
        r
    })
}

/// Whether `NO_COLOR` asks for no color: set to anything but the empty string.
fn no_color_requested(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Whether standard output may carry colors.
pub fn colors() -> bool {
    std::io::stdout().is_terminal() && !no_color_requested(std::env::var_os("NO_COLOR"))
}

/// A color for a word that carries a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Good: OPTIMAL, EXCELLENT, GOOD.
    Good,
    /// Worth a look: LOW, FAIR, MEDIUM.
    Warn,
    /// Bad: HIGH, CRITICAL, POOR.
    Bad,
    /// No verdict.
    Plain,
}

impl Tone {
    /// The tone of a label, a metric status or a priority as the CLI prints them.
    pub fn of(word: &str) -> Tone {
        match word {
            "OPTIMAL" | "EXCELLENT" | "GOOD" | "COMPLETED" => Tone::Good,
            "LOW" | "FAIR" | "MEDIUM" | "AWAITING_APPROVAL" => Tone::Warn,
            "HIGH" | "CRITICAL" | "POOR" | "FAILED" | "ROLLED_BACK" => Tone::Bad,
            _ => Tone::Plain,
        }
    }
}

/// The `error:` that starts every failure message: red on a terminal (standard error), plain
/// otherwise or with `NO_COLOR`.
pub fn error_prefix() -> &'static str {
    if std::io::stderr().is_terminal() && !no_color_requested(std::env::var_os("NO_COLOR")) {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    }
}

/// `text` in bold when `colors` is on.
pub fn bold(text: &str, colors: bool) -> String {
    if colors {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// A progress indicator on standard error for the steps of a command that may take more than a
/// second; hidden (every method a no-op) unless standard error is a terminal and the output is a
/// table. Cleared when dropped, so an error message starts on a clean line.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `steps` steps, starting with `message`.
    pub fn steps(global: &Global, steps: u64, message: &str) -> Progress {
        let shown = global.output == Output::Table && std::io::stderr().is_terminal();
        Progress::new(shown, steps, message)
    }

    fn new(shown: bool, steps: u64, message: &str) -> Progress {
        if !shown {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(steps);
        let template = if steps > 1 {
            "{spinner} [{pos}/{len}] {msg} {elapsed}"
        } else {
            "{spinner} {msg} {elapsed}"
        };
        // The templates are constants known to parse; keep the default style regardless.
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar: Some(bar) }
    }

    /// One step done; the next is `message`.
    pub fn next(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(message.to_owned());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Warns on stderr about the items a listing left out because they are not recommendations
/// (written by another version, or by hand), naming them, so that the rest is still shown.
pub fn warn_skipped(found: &fleetopt_ports::Found) {
    if let Some(message) = skipped_warning(found) {
        eprintln!("{message}");
    }
}

/// The warning [`warn_skipped`] prints, if any.
pub fn skipped_warning(found: &fleetopt_ports::Found) -> Option<String> {
    (!found.skipped.is_empty()).then(|| {
        format!(
            "warning: skipped {} item(s) that are not recommendations (written by another \
             version, or by hand): {}",
            found.skipped.len(),
            printable(&found.skipped_ids())
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn stored_text_reaches_the_terminal_without_control_characters() {
        assert!(matches!(printable("scale up web"), Cow::Borrowed(_)));
        assert_eq!(
            printable("ok\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nAPPROVED\tby\u{9b}31m root\u{202e}"),
            "ok[2J]0;pwned  APPROVED by31m root"
        );
        let mut r = fleetopt_ports::fakes::contract::sample("web", 7);
        r.description = "Scale up\u{1b}[1A\u{1b}[2KAPPROVED".into();
        r.implementation.steps = vec!["step\u{7}".into()];
        r.status_history[0].reason = Some("why\u{1b}c".into());
        let clean = printable_recommendation(&r);
        assert_eq!(clean.description, "Scale up[1A[2KAPPROVED");
        assert_eq!(clean.implementation.steps, ["step"]);
        assert_eq!(clean.status_history[0].reason.as_deref(), Some("whyc"));
        assert_eq!((clean.id, clean.version), (r.id, r.version));
    }

    #[test]
    fn no_color_means_any_value_but_the_empty_string() {
        assert!(!no_color_requested(None));
        assert!(!no_color_requested(Some("".into())));
        assert!(no_color_requested(Some("1".into())));
        assert!(no_color_requested(Some("0".into())));
    }

    #[test]
    fn words_get_the_tone_of_their_verdict_and_bold_needs_colors() {
        assert_eq!(Tone::of("HIGH"), Tone::Bad);
        assert_eq!(Tone::of("OPTIMAL"), Tone::Good);
        assert_eq!(Tone::of("FAIR"), Tone::Warn);
        assert_eq!(Tone::of("web"), Tone::Plain);
        assert_eq!(bold("x", false), "x");
        assert_eq!(bold("x", true), "\x1b[1mx\x1b[0m");
    }

    #[test]
    fn a_hidden_progress_does_nothing() {
        let progress = Progress::new(false, 3, "reading");
        progress.next("drawing");
        assert!(progress.bar.is_none());
    }
}
