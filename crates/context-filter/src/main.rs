fn main() -> std::process::ExitCode {
    portcullis_core::run::<context_filter::ContextFilter>()
}
