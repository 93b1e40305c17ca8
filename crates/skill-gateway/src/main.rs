fn main() -> std::process::ExitCode {
    portcullis_core::run::<skill_gateway::SkillGateway>()
}
