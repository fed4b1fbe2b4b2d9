pytest_plugins = ["lab.harness.plugin", "pytester"]
