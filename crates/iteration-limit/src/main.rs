fn main() -> std::process::ExitCode {
    portcullis_core::run::<iteration_limit::IterationLimit>()
}
