fn main() -> std::process::ExitCode {
    portcullis_core::run::<loop_detect::LoopDetect>()
}
