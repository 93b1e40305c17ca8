fn main() -> std::process::ExitCode {
    portcullis_core::run::<escalation_advisor::EscalationAdvisor>()
}
