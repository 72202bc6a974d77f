"""Collector: accept reports (files, zips, HTTP), verify, store with history (SQLite or PostgreSQL)."""
