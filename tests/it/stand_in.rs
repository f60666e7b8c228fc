//! The local Usage API stand-in, driven over HTTP.
