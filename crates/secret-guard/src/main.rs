fn main() -> std::process::ExitCode {
    portcullis_core::run::<secret_guard::SecretGuard>()
}
