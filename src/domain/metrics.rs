//! Value measurement (design §6): the baseline agreed at acceptance, the figures
//! realised at completion, and what they are worth.

use serde::{Deserialize, Serialize};

use super::validation::{ValidationErrors, field_error, non_negative};

/// Agreed before credentialing (lifecycle step 6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Hours per month the client spends on the process today.
    pub hours_before: f64,
    /// Hours per month expected once the expert's work is done.
    pub hours_after: f64,
    /// What one of the client's hours is worth.
    pub hourly_value: f64,
    /// Months over which the saving is counted.
    pub horizon_months: u32,
    /// The price agreed with the client.
    pub price: f64,
}

pub const MAX_HORIZON_MONTHS: u32 = 120;

/// When the baseline is recorded: step 6 follows acceptance (step 5) and
/// gates credentialing (step 7).
pub const BASELINE_STATES: &[super::lifecycle::ProjectState] =
    &[super::lifecycle::ProjectState::Accepted];
/// When the realised figures are recorded: while the work runs, before completion.
pub const OUTCOME_STATES: &[super::lifecycle::ProjectState] = &[
    super::lifecycle::ProjectState::Active,
    super::lifecycle::ProjectState::Blocked,
];
/// More than every hour of a month is a typo, not a process.
const HOURS_PER_MONTH: f64 = 744.0;

impl Baseline {
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        for (field, v) in [
            ("hours_before", self.hours_before),
            ("hours_after", self.hours_after),
        ] {
            if e.check(non_negative(field, v)).is_some() && v > HOURS_PER_MONTH {
                e.add(field, "cannot exceed the hours in a month (744)");
            }
        }
        e.check(non_negative("hourly_value", self.hourly_value));
        if e.check(non_negative("price", self.price)).is_some() && self.price == 0.0 {
            e.add("price", "must be more than zero");
        }
        if self.hours_after > self.hours_before {
            e.add(
                "hours_after",
                "must not exceed hours_before: the project must save time",
            );
        }
        if self.horizon_months == 0 || self.horizon_months > MAX_HORIZON_MONTHS {
            e.0.push(field_error(
                "horizon_months",
                format!("must be between 1 and {MAX_HORIZON_MONTHS}"),
            ));
        }
        e.finish(|| self)
    }

    pub fn hours_saved_per_month(&self) -> f64 {
        self.hours_before - self.hours_after
    }

    /// Value = hours saved x hourly value x horizon.
    pub fn expected_value(&self) -> f64 {
        self.hours_saved_per_month() * self.hourly_value * f64::from(self.horizon_months)
    }

    /// TS-ROI = (value - price) / price.
    pub fn expected_roi(&self) -> f64 {
        roi(self.expected_value(), self.price)
    }

    /// A value-based price: the share of the expected value the agency asks for.
    pub fn suggested_price(&self, share: f64) -> f64 {
        self.expected_value() * share
    }
}

/// Recorded at completion (lifecycle step 11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Hours per month actually saved.
    pub hours_saved: f64,
    /// What the project actually cost the client.
    pub cost: f64,
}

impl Outcome {
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if e.check(non_negative("hours_saved", self.hours_saved))
            .is_some()
            && self.hours_saved > HOURS_PER_MONTH
        {
            e.add("hours_saved", "cannot exceed the hours in a month (744)");
        }
        if e.check(non_negative("cost", self.cost)).is_some() && self.cost == 0.0 {
            e.add("cost", "must be more than zero");
        }
        e.finish(|| self)
    }
}

/// Expected against realised value, as shown on a project.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ValueSummary {
    pub expected_value: f64,
    pub expected_roi: f64,
    pub realised_value: Option<f64>,
    pub realised_roi: Option<f64>,
}

impl ValueSummary {
    pub fn of(baseline: &Baseline, outcome: Option<&Outcome>) -> Self {
        let realised_value = outcome
            .map(|o| o.hours_saved * baseline.hourly_value * f64::from(baseline.horizon_months));
        Self {
            expected_value: baseline.expected_value(),
            expected_roi: baseline.expected_roi(),
            realised_value,
            realised_roi: outcome.zip(realised_value).map(|(o, v)| roi(v, o.cost)),
        }
    }
}

fn roi(value: f64, price: f64) -> f64 {
    (value - price) / price
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> Baseline {
        Baseline {
            hours_before: 40.0,
            hours_after: 10.0,
            hourly_value: 100.0,
            horizon_months: 12,
            price: 12_000.0,
        }
    }

    #[test]
    fn value_and_roi_follow_the_design_formulas() {
        let b = baseline().validate().unwrap();
        assert_eq!(b.expected_value(), 30.0 * 100.0 * 12.0);
        assert_eq!(b.expected_roi(), (36_000.0 - 12_000.0) / 12_000.0);
        assert_eq!(b.suggested_price(0.25), 9_000.0);
    }

    #[test]
    fn a_baseline_that_saves_nothing_or_costs_nothing_is_refused() {
        let mut b = baseline();
        b.hours_after = 50.0;
        b.price = 0.0;
        b.horizon_months = 0;
        let fields: Vec<String> = b
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["price", "hours_after", "horizon_months"]);
    }

    #[test]
    fn realised_value_uses_the_baseline_rate_and_horizon() {
        let b = baseline();
        let o = Outcome {
            hours_saved: 20.0,
            cost: 12_000.0,
        }
        .validate()
        .unwrap();
        let s = ValueSummary::of(&b, Some(&o));
        assert_eq!(s.realised_value, Some(24_000.0));
        assert_eq!(s.realised_roi, Some(1.0));
    }
}
