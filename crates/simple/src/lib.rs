//! signet-simple (being written).
