"""Real parts the tests run against: a Sentry-protocol server, subprocess helpers."""
