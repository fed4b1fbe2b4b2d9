"""Pure protocol code: codecs, framing and state machines. No sockets, no clocks, no I/O.

Every function here takes what arrived (and the time, when it matters) and returns what to
send, so it can be tested packet by packet without a network.
"""
