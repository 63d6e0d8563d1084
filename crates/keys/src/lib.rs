//! signet-keys (being written).
