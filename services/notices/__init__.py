"""Telling people: the inbox, devices and their topics, who hears what and when."""
