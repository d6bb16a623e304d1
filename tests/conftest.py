# Shared pytest plugins (fixtures live in the plugin modules); more are added here as they appear.
pytest_plugins = [
    "tests.fakes.openai_server",
    "tests.fakes.slack_api",
    "tests.plugins.databases",
    "tests.plugins.advisor_app",
    "tests.plugins.containers",
]
