fn main() -> std::process::ExitCode {
    portcullis_core::run::<compaction_gate::CompactionGate>()
}
