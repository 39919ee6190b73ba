"""Records -> one table model -> text, Markdown, CSV and JSON."""
