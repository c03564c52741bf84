"""Events out: the event log (log), webhook subscriptions and their delivery (webhooks, delivery), and
what the live streams read (stream)."""
