//! Empty: a build script makes cargo count the `[build-dependencies]` that cargo-hakari writes
//! (the proc-macro stack every member builds with the same features).

fn main() {}
