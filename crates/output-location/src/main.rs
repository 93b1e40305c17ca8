fn main() -> std::process::ExitCode {
    portcullis_core::run::<output_location::OutputLocation>()
}
