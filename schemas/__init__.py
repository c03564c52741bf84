"""Marshmallow schemas of request arguments and response bodies; pure, no database."""
