"""socklab's pytest plugin: lab fixtures for tests on real containers, and what a failed lab
test leaves behind (artifacts). Apart from the lesson engine (lab.harness), which it may use."""
