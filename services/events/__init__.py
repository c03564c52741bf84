"""Events out: the event log (log), webhook subscriptions (webhooks) and their delivery (delivery: the
dispatcher; sending: one checked POST; outcomes: recording its answer), and what the live streams read
(stream)."""
