fn main() -> std::process::ExitCode {
    portcullis_core::run::<feature_progress::FeatureProgress>()
}
