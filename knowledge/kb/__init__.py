"""The knowledge base: categories, bilingual articles with revisions, helpful votes and view counts."""
