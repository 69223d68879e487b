//! Placeholder: this layer has not landed yet.
