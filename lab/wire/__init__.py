"""What crossed the wire, decoded: pcap records into packets, packets into ladder diagrams.

Pure host-side code (dpkt, no Docker): captures are taken by ``lab.control.capture``.
"""
