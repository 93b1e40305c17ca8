fn main() -> std::process::ExitCode {
    portcullis_core::run::<workspace_guard::WorkspaceGuard>()
}
