"""Advisor: grounded advice for AI initiatives."""
