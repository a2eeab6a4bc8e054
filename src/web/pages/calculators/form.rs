//! From a form to a request and back to what the page shows: the faults of both the form and the
//! calculator, named for a resident.

use super::rows::LineError;
use super::{ErrorView, Faults};
use crate::domain::rules::FieldError;
use crate::web::i18n::Tr;

/// A request built from a form, with the faults found before the calculator saw it.
pub(crate) struct Built<Q> {
    pub(super) request: Q,
    pub(super) field_errors: Vec<FieldError>,
    pub(super) line_errors: Vec<LineError>,
    /// For each textarea: the textarea line of each request item.
    pub(super) lines: Vec<(&'static str, Vec<usize>)>,
}

/// The readable name of an input, from `calc.field.<name>`; the name itself when there is none.
fn field_label(t: Tr, name: &str) -> String {
    let key = format!("calc.field.{name}");
    let label = t.get(&key);
    if label == key {
        name.to_string()
    } else {
        label
    }
}

/// Names a calculator's field path for a resident: `readings[3].hour` → "Readings, line 5: hour".
fn describe_field(
    t: Tr,
    field: &str,
    lines: &[(&'static str, Vec<usize>)],
) -> (String, String, usize) {
    let field = field.strip_prefix("absence.").unwrap_or(field);
    let Some((list, rest)) = field.split_once('[') else {
        return (field.to_string(), field_label(t, field), 0);
    };
    let (index, sub) = rest.split_once(']').unwrap_or((rest, ""));
    let sub = sub.trim_start_matches('.');
    let line = index.parse::<usize>().ok().map(|i| {
        lines
            .iter()
            .find(|(name, _)| *name == list)
            .and_then(|(_, ls)| ls.get(i).copied())
            .unwrap_or(i + 1)
    });
    let mut label = field_label(t, list);
    if let Some(n) = line {
        label = format!("{label}, {} {n}", t.get("calc.line"));
    }
    if !sub.is_empty() {
        label = format!("{label}: {}", field_label(t, sub));
    }
    (list.to_string(), label, line.unwrap_or(0))
}

/// Runs the calculator unless the form itself was faulty, and names every fault for the page.
pub(super) fn outcome<Q, R>(
    t: Tr,
    built: &Built<Q>,
    calculate: impl FnOnce(&Q) -> Result<R, Vec<FieldError>>,
) -> Result<R, Faults> {
    let computed = calculate(&built.request);
    let domain = match computed {
        Ok(r) if built.field_errors.is_empty() && built.line_errors.is_empty() => return Ok(r),
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    // why: a number the form could not read reaches the calculator as missing; its "required"
    // would only repeat the form's own, clearer, message.
    let own: Vec<&str> = built
        .field_errors
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    let mut list: Vec<ErrorView> = built
        .field_errors
        .iter()
        .chain(domain.iter().filter(|e| !own.contains(&e.field.as_str())))
        .map(|e| {
            let (target, label, line) = describe_field(t, &e.field, &built.lines);
            ErrorView {
                target,
                label,
                message: t.pick(&e.message).to_string(),
                line,
            }
        })
        .collect();
    list.extend(built.line_errors.iter().map(|e| ErrorView {
        target: e.list.to_string(),
        label: format!(
            "{}, {} {}",
            field_label(t, e.list),
            t.get("calc.line"),
            e.line
        ),
        message: t.pick(&e.message).to_string(),
        line: e.line,
    }));
    // why: the calculator lists faults in form order and the line faults come last; grouping them
    // by input and then by line reads like the form, top to bottom.
    let order: Vec<String> = list.iter().map(|e| e.target.clone()).collect();
    list.sort_by_key(|e| (order.iter().position(|o| *o == e.target), e.line));
    Err(Faults { list })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lang::Lang;

    #[test]
    fn field_paths_become_line_labels() {
        let lines = vec![("readings", vec![2, 4, 7])];
        let (target, label, line) = describe_field(Tr(Lang::En), "readings[2].hour", &lines);
        assert_eq!(line, 7);
        assert_eq!(target, "readings");
        assert!(label.contains("row 7"), "{label}");
        let (target, label, _) = describe_field(Tr(Lang::Uk), "absence.from", &lines);
        assert_eq!(target, "from");
        assert_ne!(label, "from");
        // A list the page did not number falls back to the position.
        let (_, label, _) = describe_field(Tr(Lang::En), "premises[0].id", &lines);
        assert!(label.contains("row 1"), "{label}");
    }
}
