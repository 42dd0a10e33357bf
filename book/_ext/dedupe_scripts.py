"""Sphinx extension: drop repeated <script> entries from every page.

jupyter-book 1.0.4 registers some inline scripts twice (once with filename ``None``, once with
``''``), so each page declares ``const THEBE_JS_URL`` twice and the browser throws
"Identifier 'THEBE_JS_URL' has already been declared". Keeping the first of each script that
would render identically fixes that.
"""


def _rendered_key(script) -> tuple:
    filename = getattr(script, "filename", script) or ""
    attributes = sorted(getattr(script, "attributes", {}).items())
    return str(filename), tuple(attributes)


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _rendered_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
