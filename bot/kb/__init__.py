"""Knowledge base: curated, sourced entries built from the five documents.

`KnowledgeBase` is the small interface the actions use; `load_knowledge_base` builds and
validates one from a folder; tests build tiny ones from Python objects.
"""
from bot.kb.loader import KnowledgeError, load_knowledge_base
from bot.kb.model import Entry, Formation, KnowledgeBase, Parcours, SourceDoc, SourceRef, Topic

__all__ = ["Entry", "Formation", "KnowledgeBase", "KnowledgeError", "Parcours", "SourceDoc",
           "SourceRef", "Topic", "load_knowledge_base"]
