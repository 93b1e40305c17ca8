fn main() -> std::process::ExitCode {
    portcullis_core::run::<handoff_router::HandoffRouter>()
}
