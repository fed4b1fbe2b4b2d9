"""Pictures and HTML pages of labs, exchanges, checks and grades (host side, below the lesson engine)."""
