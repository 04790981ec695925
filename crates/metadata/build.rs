//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the directories at
//! compile time, and Cargo does not watch them by itself.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
