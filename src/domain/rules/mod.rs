//! Recalculation rules: rule sets as versioned data and the calculators that apply them.
//!
//! Every calculator returns the rule set's id and version and explains each line in Ukrainian and
//! English with the numbers it used.

pub mod absence;
pub mod calendar;
pub mod grounds;
pub mod heat;
pub mod hot_water;
pub mod jurisdiction;
pub mod meter_seal;
pub mod numbers;
pub mod requests;
pub mod rule_set;
pub mod services;

pub use requests::{calculate_absence, calculate_heat, calculate_hot_water};
pub use rule_set::{RuleSet, RuleSetError, RuleSetRegistry};

pub use crate::domain::validation::FieldError;
