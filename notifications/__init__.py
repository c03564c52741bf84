"""Telling people: message templates, push senders and the outbox worker (the FCM emulator is in standins/)."""
