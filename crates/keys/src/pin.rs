//! The PKCS#11 user PIN: zeroized on drop, redacted in `Debug` and `Display`.

use std::fmt;

use zeroize::Zeroizing;

/// A token PIN. It is never printed: `Debug` and `Display` show `Pin(<redacted>)`.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    pub fn new(pin: impl Into<String>) -> Self {
        Pin(Zeroizing::new(pin.into()))
    }

    /// The PIN's text (for comparisons inside the crate; never printed).
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The PIN for the login call.
    pub(crate) fn auth_pin(&self) -> cryptoki::types::AuthPin {
        cryptoki::types::AuthPin::from(self.0.as_str())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Pin {
    fn from(s: String) -> Self {
        Pin::new(s)
    }
}

impl From<&str> for Pin {
    fn from(s: &str) -> Self {
        Pin::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_is_redacted() {
        let pin = Pin::new("8472-secret");
        assert!(!format!("{pin:?}").contains("8472"));
        assert!(!format!("{pin}").contains("8472"));
        assert!(!format!("{pin:#?}").contains("secret"));
    }
}
