//! The model layer: the DocumentDB object as the rules see it (both API shapes
//! merged), versions, image references, quantities, resource envelopes,
//! restore sources and Node facts. Parsed values and the constants that name
//! the resource; no rules, no settings.

pub mod document;
pub mod image;
pub mod nodes;
pub mod quantity;
pub mod resources;
pub mod restore;
pub mod version;

/// What this policy validates. `policy-metadata/metadata.yml` must select
/// exactly this (a test checks it).
pub const GROUP: &str = "documentdb.io";
pub const KIND: &str = "DocumentDB";
pub const RESOURCE: &str = "dbs";
pub const OPERATIONS: [&str; 2] = ["CREATE", "UPDATE"];
