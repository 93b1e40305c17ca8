//! The whole-process benchmark's yardsticks, as two binaries: `empty_stdin` (a Rust program that only
//! reads stdin to the end: the floor every hook's ratio is reported against) and `noop_hook` (a hook on
//! the portcullis-core chassis that allows everything: the chassis's own cost). Nothing to import.
