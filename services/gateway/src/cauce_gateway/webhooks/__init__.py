"""One router per channel; each checks authenticity on the raw bytes, then parses."""
