fn main() -> std::process::ExitCode {
    portcullis_core::run::<feedback_loop::FeedbackLoop>()
}
