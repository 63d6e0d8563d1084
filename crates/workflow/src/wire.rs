//! Wire-level building blocks shared by the modules: the LAAVAT state bit values, the
//! timestamp type, and the macro behind the string enums (whose parse errors read
//! `unknown key type "EC256"`).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum with its wire spellings. Values the hosted service knows but signet
/// does not support give "unsupported …", anything else "unknown …".
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, unsupported: [$($unsupported:literal),* $(,)?],
        { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every supported value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses the wire spelling; the error is a one-line message naming the value.
            pub fn parse(value: &str) -> ::std::result::Result<Self, String> {
                match value {
                    $($wire => Ok($name::$variant),)+
                    other => {
                        let unsupported: &[&str] = &[$($unsupported),*];
                        if unsupported.contains(&other) {
                            let supported: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                            Err(format!(
                                "unsupported {} \"{}\" (supported: {})",
                                $what,
                                other,
                                supported.join(", ")
                            ))
                        } else {
                            Err(format!("unknown {} \"{}\"", $what, other))
                        }
                    }
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let value = String::deserialize(d)?;
                Self::parse(&value).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}
pub(crate) use wire_enum;

/// A request or object state, as the hosted service's integer bit values.
///
/// Serialized as the number (`16`); deserialized from the number or the name (`"Ready"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// 1: initial.
    Created = 1,
    /// 2: waiting for approval.
    ApprovalRequired = 2,
    /// 4: approved, may be processed.
    Approved = 4,
    /// 8: being processed.
    InProcess = 8,
    /// 16: completed.
    Ready = 16,
    /// 32: rejected by an approver.
    Rejected = 32,
    /// 64: failed (invalid input, signing error, expiry).
    Failed = 64,
}

impl State {
    /// Every state, in bit order.
    pub const ALL: [State; 7] = [
        State::Created,
        State::ApprovalRequired,
        State::Approved,
        State::InProcess,
        State::Ready,
        State::Rejected,
        State::Failed,
    ];

    /// The wire value.
    pub fn value(self) -> u32 {
        self as u32
    }

    /// The name as the hosted service spells it.
    pub fn name(self) -> &'static str {
        match self {
            State::Created => "Created",
            State::ApprovalRequired => "ApprovalRequired",
            State::Approved => "Approved",
            State::InProcess => "InProcess",
            State::Ready => "Ready",
            State::Rejected => "Rejected",
            State::Failed => "Failed",
        }
    }

    /// The state with this wire value.
    pub fn from_value(value: u64) -> Option<State> {
        State::ALL
            .into_iter()
            .find(|s| u64::from(s.value()) == value)
    }

    /// The state with this name.
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name() == name)
    }

    /// True for states no transition leaves.
    pub fn is_final(self) -> bool {
        matches!(self, State::Ready | State::Rejected | State::Failed)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.value())
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StateVisitor;
        impl Visitor<'_> for StateVisitor {
            type Value = State;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a state value (1, 2, 4, …, 64) or name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<State, E> {
                State::from_value(v).ok_or_else(|| E::custom(format!("unknown state {v}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<State, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(State::from_value)
                    .ok_or_else(|| E::custom(format!("unknown state {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<State, E> {
                State::from_name(v).ok_or_else(|| E::custom(format!("unknown state \"{v}\"")))
            }
        }
        d.deserialize_any(StateVisitor)
    }
}

/// A point in time as whole seconds since the Unix epoch (UTC). The crate never reads a
/// clock: callers pass `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The timestamp `seconds` after the epoch.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    /// Seconds since the epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This time plus `duration` (whole seconds), saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(secs))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp(i64::try_from(after.as_secs()).unwrap_or(i64::MAX)),
            Err(before) => Timestamp(
                i64::try_from(before.duration().as_secs())
                    .map(|s| -s)
                    .unwrap_or(i64::MIN),
            ),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}
