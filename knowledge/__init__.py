"""Knowledge and support: the knowledge base, member articles and the help desk."""
