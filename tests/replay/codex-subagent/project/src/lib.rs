pub mod extra;
