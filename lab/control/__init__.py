"""Host-side control of a lab: topology model, Docker engine, Compose, images.

Uses third-party libraries (docker SDK, PyYAML); never shipped into the lab hosts.
"""
