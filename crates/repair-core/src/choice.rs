//! Settings chosen by name — a repair method, a localiser, a search, a sampler, a
//! cross-entropy, a layer layout — read the same way from the command line, experiment
//! files and the Python package: one list of names per type, one parser, one error that
//! lists the choices (the command line hands the same list to clap, which refuses any
//! other value before a command runs).

/// A setting chosen by name from a fixed list.
pub trait Choice: Copy + 'static {
    /// What the setting is called in messages (`method`, `localiser`, …).
    const WHAT: &'static str;
    /// Every value, in the order help texts and errors list them.
    const ALL: &'static [Self];

    /// The value's name in files and on the command line.
    fn name(self) -> &'static str;

    /// The value named `text`, or an error naming it and listing every name.
    fn from_name(text: &str) -> Result<Self, UnknownChoice> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == text)
            .ok_or_else(|| UnknownChoice {
                what: Self::WHAT,
                given: text.to_string(),
                choices: spoken_list(&choice_names::<Self>()),
            })
    }
}

/// A name that is none of a setting's choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` ({choices})")]
pub struct UnknownChoice {
    /// The setting (`method`, …).
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// Every name, as a list to read (`arachne, de, adaptive or history`).
    pub choices: String,
}

/// Every name of `T`, in order: the possible values of a command-line flag.
pub fn choice_names<T: Choice>() -> Vec<&'static str> {
    T::ALL.iter().map(|v| v.name()).collect()
}

/// `a, b or c`.
fn spoken_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `FromStr` and `Display` of a [`Choice`] type through its names (a blanket impl of
/// these foreign traits is not allowed, so each type states it with this macro).
#[macro_export]
macro_rules! choice_text {
    ($type:ty) => {
        impl ::std::str::FromStr for $type {
            type Err = $crate::UnknownChoice;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                <$type as $crate::Choice>::from_name(text)
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::Choice::name(*self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CrossEntropy;

    #[test]
    fn a_name_parses_to_its_value_and_back() {
        for &v in CrossEntropy::ALL {
            assert_eq!(v.name().parse::<CrossEntropy>().unwrap(), v);
            assert_eq!(v.to_string(), v.name());
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_every_choice_listed() {
        let e = "logit".parse::<CrossEntropy>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown cross-entropy `logit` (logits or clipped)"
        );
        assert_eq!(spoken_list(&["a", "b", "c"]), "a, b or c");
    }
}
