"""Pictures and HTML reports of labs, exchanges and checks (host side, above the harness)."""
