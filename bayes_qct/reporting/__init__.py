"""Reports (HTML, Markdown): not built yet."""
