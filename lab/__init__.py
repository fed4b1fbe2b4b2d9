"""socklab: a containerized multi-host lab for learning network programming in Python.

Layers (each a folder; lower layers never import higher ones):

- ``lab.proto``   pure protocol code: codecs, framing, state machines. No sockets.
- ``lab.apps``    the programs that run on lab hosts (``lab PROGRAM``). Standard library only.
- ``lab.control`` host-side control: topology model, Docker and Compose, images.
- ``lab.harness`` the pytest harness built on ``lab.control``.

``lab.errors`` holds the one error hierarchy that all layers share.
"""

__version__ = "0.1.0"
