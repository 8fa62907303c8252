"""Benchmarks: batch assignment at a million contacts, and the contact import."""
