"""Triage many traces at once: replay each, group the findings by signature."""
