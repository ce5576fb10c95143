"""Framework-neutral pieces both adapters need, written once.

LangChain and LlamaIndex differ in message and document types, not in what a Grok call means: the
payment metadata block, usage counts, citations, tool-choice normalization, search sources and the
spend tracker are defined here and merely re-shaped by each adapter.
"""
