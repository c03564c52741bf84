"""Telling people: message templates, push senders, the outbox worker and the local FCM emulator."""
