fn main() -> std::process::ExitCode {
    portcullis_core::run::<definition_audit::DefinitionAudit>()
}
