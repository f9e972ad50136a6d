"""Server-rendered pages: Jinja2 templates, htmx, one stylesheet, no JS build step."""
