"""Shared package of the admissions assistant: knowledge base, search, NLU components, CLI."""
