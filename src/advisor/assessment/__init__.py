"""The readiness assessment: an initiative scored against the reasons AI initiatives stall, with a
cited plan. Rules live in ``knowledge/rules/assessment.toml``."""
