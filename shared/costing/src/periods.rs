//! The calendar of a cost run: which days and months Cost Explorer is asked about, all UTC days
//! with exclusive ends, as Cost Explorer's are. One type for the cost optimizer and `fleetopt
//! cost`, so their months agree.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// Days of the application's daily costs shown.
pub const DAILY_DAYS: i64 = 30;

/// The dates one run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// Today.
    pub today: NaiveDate,
    /// The first day of this month: where the month to date starts.
    pub month_start: NaiveDate,
    /// Tomorrow: where the month to date ends and the forecast starts.
    pub tomorrow: NaiveDate,
    /// The first day of next month: where the forecast ends.
    pub next_month: NaiveDate,
    /// The first day of last month.
    pub last_month_start: NaiveDate,
    /// The first day of the oldest full month read.
    pub history_start: NaiveDate,
}

impl Periods {
    /// The periods for `today` and `months` full months before this one (at least one); `None`
    /// only at the edges of the calendar chrono can represent.
    pub fn new(today: NaiveDate, months: u32) -> Option<Periods> {
        let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
        Some(Periods {
            today,
            month_start,
            tomorrow: today.succ_opt()?,
            next_month: month_start.checked_add_months(Months::new(1))?,
            last_month_start: month_start.checked_sub_months(Months::new(1))?,
            history_start: month_start.checked_sub_months(Months::new(months.max(1)))?,
        })
    }

    /// What GetCostForecast is asked for: tomorrow to the end of the month, or nothing on the
    /// month's last day (the month to date is then the month, and there is no call to pay for).
    pub fn forecast(&self) -> Option<(NaiveDate, NaiveDate)> {
        (self.tomorrow < self.next_month).then_some((self.tomorrow, self.next_month))
    }

    /// The first day of each full month read, oldest first.
    pub fn full_months(&self) -> Vec<NaiveDate> {
        std::iter::successors(Some(self.history_start), |m| {
            m.checked_add_months(Months::new(1))
        })
        .take_while(|m| *m < self.month_start)
        .collect()
    }

    /// Hours in this month (672 to 744): the budget is maxHourlyCost for each of them.
    pub fn hours_in_month(&self) -> u32 {
        u32::try_from((self.next_month - self.month_start).num_hours()).unwrap_or(720)
    }

    /// The application's daily costs read: from last month's first day (so that last month is
    /// whole) or [`DAILY_DAYS`] ago, whichever is earlier, to tomorrow (today so far included).
    pub fn application_days(&self) -> (NaiveDate, NaiveDate) {
        let shown = self.today - Duration::days(DAILY_DAYS);
        (self.last_month_start.min(shown), self.tomorrow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        let p = Periods::new(day("2026-01-14"), 3).unwrap();
        assert_eq!(p.month_start, day("2026-01-01"));
        assert_eq!(p.last_month_start, day("2025-12-01"));
        assert_eq!(p.history_start, day("2025-10-01"));
        assert_eq!(
            p.full_months(),
            [day("2025-10-01"), day("2025-11-01"), day("2025-12-01")]
        );
        let december = Periods::new(day("2026-12-31"), 3).unwrap();
        assert_eq!(december.next_month, day("2027-01-01"));
        assert_eq!(december.forecast(), None);
        assert_eq!(
            Periods::new(day("2026-03-31"), 1).unwrap().history_start,
            day("2026-02-01")
        );
    }

    #[test]
    fn the_month_has_its_own_hours() {
        assert_eq!(
            Periods::new(day("2026-02-10"), 3).unwrap().hours_in_month(),
            672
        );
        assert_eq!(
            Periods::new(day("2026-11-23"), 3).unwrap().hours_in_month(),
            720
        );
        assert_eq!(
            Periods::new(day("2026-12-02"), 3).unwrap().hours_in_month(),
            744
        );
    }

    #[test]
    fn application_days_cover_last_month_and_today() {
        let p = Periods::new(day("2026-11-23"), 3).unwrap();
        assert_eq!(p.application_days(), (day("2026-10-01"), day("2026-11-24")));
        // Early in a month, 30 days back is later than last month's first day.
        let p = Periods::new(day("2026-03-02"), 3).unwrap();
        assert_eq!(p.application_days(), (day("2026-01-31"), day("2026-03-03")));
        assert_eq!(p.forecast(), Some((day("2026-03-03"), day("2026-04-01"))));
    }
}
