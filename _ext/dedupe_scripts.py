"""Writes each <script> once.

Sphinx 7.4 writes an inline script twice when an extension adds it while the sources are read, as sphinx-thebe
does (`app.add_js_file(None, body=...)`: the builder gets it with filename None, then again with filename ''
before writing). The copy re-declares `const THEBE_JS_URL`, a SyntaxError on every page.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
