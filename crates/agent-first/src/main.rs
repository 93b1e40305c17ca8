fn main() -> std::process::ExitCode {
    portcullis_core::run::<agent_first::AgentFirst>()
}
