//! The engine's change window (docs/configuration.md, "Change window"): a five-field cron in
//! UTC and a duration. A window opens at every minute the cron matches and stays open for the
//! duration; approved scale-downs, instance type changes and schedules wait for one.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, DurationRound, Timelike, Utc};

/// The longest window, minutes (a day).
pub const MAX_WINDOW_MINUTES: u32 = 1440;
/// How far ahead the next window is looked for: a cron that matches no minute in this long
/// never opens (for example the 31st of February).
const LOOK_AHEAD: Duration = Duration::days(366);

/// One cron field: the values it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    allowed: Vec<bool>,
    /// `*` alone: for day-of-month and day-of-week, cron's "either matches" rule needs it.
    any: bool,
}

impl Field {
    fn matches(&self, value: u32) -> bool {
        usize::try_from(value)
            .ok()
            .and_then(|v| self.allowed.get(v))
            .copied()
            .unwrap_or(false)
    }
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn value(text: &str, names: &[&str], first: u32) -> Option<u32> {
    if let Ok(n) = text.parse::<u32>() {
        return Some(n);
    }
    let upper = text.to_ascii_uppercase();
    names
        .iter()
        .position(|n| *n == upper)
        .and_then(|i| u32::try_from(i).ok())
        .map(|i| i + first)
}

/// Parses one field of `lo..=hi` (`*`, `n`, `a-b`, lists, `/step`); day-of-week 7 is Sunday.
fn field(text: &str, lo: u32, hi: u32, names: &[&str], what: &str) -> Result<Field, String> {
    let mut allowed = vec![false; usize::try_from(hi).unwrap_or(0) + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{what}: step {s:?} is not a whole number from 1"))?,
            ),
            None => (part, 1),
        };
        let (from, to) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = value(a, names, lo).ok_or_else(|| format!("{what}: {a:?} is not a value"))?;
            let b = value(b, names, lo).ok_or_else(|| format!("{what}: {b:?} is not a value"))?;
            (a, b)
        } else {
            let v = value(range, names, lo)
                .ok_or_else(|| format!("{what}: {range:?} is not a value"))?;
            (v, if step > 1 { hi } else { v })
        };
        if from < lo || to > hi || from > to {
            return Err(format!(
                "{what}: {range:?} is outside {lo}-{hi} or runs backwards"
            ));
        }
        let mut v = from;
        while v <= to {
            if let Some(slot) = usize::try_from(v).ok().and_then(|i| allowed.get_mut(i)) {
                *slot = true;
            }
            v += step;
        }
    }
    Ok(Field {
        allowed,
        any: text == "*",
    })
}

/// A change window: it opens at every minute `cron` matches and lasts `minutes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWindow {
    text: String,
    minutes: u32,
    minute: Field,
    hour: Field,
    day_of_month: Field,
    month: Field,
    day_of_week: Field,
}

impl fmt::Display for ChangeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} UTC for {} minutes", self.text, self.minutes)
    }
}

impl ChangeWindow {
    /// A window from a five-field cron (minute hour day-of-month month day-of-week, UTC; names
    /// SUN-SAT and JAN-DEC allowed) and a duration of 1 to [`MAX_WINDOW_MINUTES`] minutes.
    pub fn new(cron: &str, minutes: u32) -> Result<ChangeWindow, String> {
        let fields: Vec<&str> = cron.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return Err(format!(
                "expected five fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ));
        };
        if !(1..=MAX_WINDOW_MINUTES).contains(&minutes) {
            return Err(format!(
                "a window lasts 1 to {MAX_WINDOW_MINUTES} minutes, not {minutes}"
            ));
        }
        let mut day_of_week = field(dow, 0, 7, &DAYS, "day-of-week")?;
        // 7 is Sunday too.
        if day_of_week.allowed[7] {
            day_of_week.allowed[0] = true;
        }
        Ok(ChangeWindow {
            text: fields.join(" "),
            minutes,
            minute: field(minute, 0, 59, &[], "minute")?,
            hour: field(hour, 0, 23, &[], "hour")?,
            day_of_month: field(dom, 1, 31, &[], "day-of-month")?,
            month: field(month, 1, 12, &MONTHS, "month")?,
            day_of_week,
        })
    }

    /// The cron text, normalised to single spaces.
    pub fn cron(&self) -> &str {
        &self.text
    }

    /// The window's length, minutes.
    pub fn minutes(&self) -> u32 {
        self.minutes
    }

    /// Whether a window opens at minute `t` (seconds ignored).
    pub fn opens_at(&self, t: DateTime<Utc>) -> bool {
        self.day_matches(t)
            && self.minute.matches(t.minute())
            && self.hour.matches(t.hour())
            && self.month.matches(t.month())
    }

    /// The window open at `now`, as `(start, end)`, if one is.
    pub fn open_at(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let minute = now.duration_trunc(Duration::minutes(1)).ok()?;
        (0..i64::from(self.minutes))
            .map(|back| minute - Duration::minutes(back))
            .find(|start| self.opens_at(*start))
            .map(|start| (start, start + Duration::minutes(i64::from(self.minutes))))
    }

    /// The next window's start after `now` (within a year), if any.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut t = now.duration_trunc(Duration::minutes(1)).ok()? + Duration::minutes(1);
        let end = now + LOOK_AHEAD;
        while t <= end {
            // Whole hours and days that cannot match are skipped.
            if !self.month.matches(t.month()) || !self.day_matches(t) {
                t = (t + Duration::days(1))
                    .duration_trunc(Duration::days(1))
                    .ok()?;
                continue;
            }
            if !self.hour.matches(t.hour()) {
                t = (t + Duration::hours(1))
                    .duration_trunc(Duration::hours(1))
                    .ok()?;
                continue;
            }
            if self.opens_at(t) {
                return Some(t);
            }
            t += Duration::minutes(1);
        }
        None
    }

    /// Whether the day of `t` is one the cron names. Day-of-month and day-of-week follow cron:
    /// when both are restricted, either may match.
    fn day_matches(&self, t: DateTime<Utc>) -> bool {
        let dom = self.day_of_month.matches(t.day());
        let dow = self.day_of_week.matches(t.weekday().num_days_from_sunday());
        match (self.day_of_month.any, self.day_of_week.any) {
            (false, false) => dom || dow,
            _ => dom && dow,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        // December 2026: the 6th is a Sunday.
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    #[test]
    fn a_sunday_night_window_is_open_for_its_duration_only() {
        let w = ChangeWindow::new("0 2 * * SUN", 120).unwrap();
        assert_eq!(w.open_at(at(6, 2, 0)), Some((at(6, 2, 0), at(6, 4, 0))));
        assert_eq!(w.open_at(at(6, 3, 59)), Some((at(6, 2, 0), at(6, 4, 0))));
        assert_eq!(w.open_at(at(6, 4, 0)), None);
        assert_eq!(w.open_at(at(6, 1, 59)), None);
        assert_eq!(w.open_at(at(7, 2, 30)), None, "Monday");
        assert_eq!(w.next_after(at(3, 10, 0)), Some(at(6, 2, 0)));
        assert_eq!(w.next_after(at(6, 2, 0)), Some(at(13, 2, 0)));
        assert_eq!(w.to_string(), "0 2 * * SUN UTC for 120 minutes");
    }

    #[test]
    fn lists_ranges_steps_and_sunday_as_7() {
        let w = ChangeWindow::new("*/30 22-23 * * 1-5", 30).unwrap();
        assert!(w.opens_at(at(7, 22, 30)) && w.opens_at(at(11, 23, 0)));
        assert!(!w.opens_at(at(12, 22, 0)), "Saturday");
        assert!(!w.opens_at(at(7, 22, 15)));
        let sunday = ChangeWindow::new("0 0 * * 7", 60).unwrap();
        assert!(sunday.opens_at(at(6, 0, 0)));
        let both = ChangeWindow::new("0 0 1 * MON", 60).unwrap();
        assert!(
            both.opens_at(at(1, 0, 0)) && both.opens_at(at(7, 0, 0)),
            "either day"
        );
        // A window that wraps past midnight.
        let late = ChangeWindow::new("0 23 * * *", 180).unwrap();
        assert_eq!(late.open_at(at(8, 1, 0)), Some((at(7, 23, 0), at(8, 2, 0))));
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (cron, minutes, problem) in [
            ("0 2 * *", 60, "five fields"),
            ("0 24 * * *", 60, "hour"),
            ("0 2 * * FUNDAY", 60, "day-of-week"),
            ("*/0 2 * * *", 60, "step"),
            ("0 2 * * *", 0, "1 to 1440"),
            ("0 2 * * *", 1441, "1 to 1440"),
        ] {
            let e = ChangeWindow::new(cron, minutes).unwrap_err();
            assert!(e.contains(problem), "{cron} {minutes}: {e}");
        }
        let never = ChangeWindow::new("0 0 31 2 *", 60).unwrap();
        assert_eq!(never.next_after(at(3, 0, 0)), None, "February has no 31st");
    }
}
