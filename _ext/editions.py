"""The two editions of the book: a switch to the twin page in every page's header, and the glossary's terms as
index entries of the chapters that use them.

tools/build_book.py builds each edition on its own and sets, for this extension:

* ``editions_name``: ``en``, ``zh`` (an edition) or ``landing`` (the page where a reader chooses);
* ``editions_twins``: ``{edition: [folder relative to this edition's, label]}``, e.g. ``{"zh": ["../zh/", "中文"]}``;
* ``editions_folders``: the other editions' folders as this build's sources link them (``../zh/``; the
  landing page's ``en/`` and ``zh/``);
* ``editions_glossary``: the path of ``book/glossary.csv``.

MathJax comes with the book: its files are those of the pinned ``sphinx-mathjax-offline`` package (MathJax
3.2.2), of which each build copies what TeX input and HTML output need, so that formulas typeset offline.

The switch is a link in the article header, beside the theme's buttons, to the same page of the other edition;
every page has a twin (``tests/test_book.py``), and so do the search and index pages. Sphinx's search finds a
page by its index entries as well as its text, so a reader who searches for 残差网络, "residual network" or
another textbook's rendering of a term finds the chapters where the glossary says it is used, in either edition.
"""

import csv
import functools
import importlib.util
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
SWITCH_TEMPLATE = "language-switch.html"
# "残差块 [d2l-zh]; 残差单元 [常见]": renderings, each with its sources in brackets.
_SOURCES = re.compile(r"\s*\[[^\]]*\]\s*$")


MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_ENTRY = "tex-chtml.js"  # TeX in, HTML out: the component Sphinx loads from its CDN by default


def mathjax_files():
    """``{path relative to the MathJax folder: source path}`` of what the book serves: the combined TeX-to-HTML
    component and the extensions and fonts it loads on demand (not the SVG output, speech rules or other
    combined components)."""
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{MATHJAX_PACKAGE} is not installed: it is pinned in requirements.txt (make setup)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        nested = "/" in relative and not relative.startswith(("sre/", "output/svg"))
        if path.is_file() and (relative == MATHJAX_ENTRY or nested):
            files[relative] = path
    return files


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for relative, source in mathjax_files().items():
        destination = target / relative
        if not destination.exists() or destination.stat().st_size != source.stat().st_size:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


def _add_templates(app, config):
    config.mathjax_path = f"mathjax/{MATHJAX_ENTRY}"
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    if config.editions_twins:
        options = dict(config.html_theme_options)
        end = list(options.get("article_header_end", ["article-header-buttons.html"]))
        if SWITCH_TEMPLATE not in end:
            end.insert(0, SWITCH_TEMPLATE)
        options["article_header_end"] = end
        config.html_theme_options = options


@functools.cache  # one read per build: every chapter asks
def glossary_terms(path):
    """``{chapter: [term, ...]}``: every rendering of every glossary row, for the chapters the row names."""
    terms = {}
    with open(path, encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            renderings = [row["english"], row["chinese"]]
            renderings += [_SOURCES.sub("", r).strip() for r in row["other_renderings"].split(";") if r.strip()]
            for chapter in row["chapters"].split():
                terms.setdefault(chapter, []).extend(r for r in renderings if r)
    return terms


def _index_terms(app, doctree):
    if not app.config.editions_glossary:
        return
    app.env.note_dependency(app.config.editions_glossary)  # a changed glossary re-reads the chapters
    terms = glossary_terms(app.config.editions_glossary).get(app.env.docname)
    if not terms:
        return
    # After the title, pointing at the chapter's own section, so that a result leads to the top of the chapter
    # (an index node draws nothing in HTML).
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section["ids"]:
        return
    entries = [("single", term, section["ids"][0], "", None) for term in dict.fromkeys(terms)]
    position = 1 if section.children and isinstance(section[0], nodes.title) else 0
    section.insert(position, addnodes.index(entries=entries))


def _link_twins(app, doctree):
    """A chapter's link to its twin notebook, ``[中文版](../zh/resnet.ipynb)``, leads to the twin's page.

    The sources keep linking notebook to notebook, which works in Jupyter; in an edition's build the twin is
    outside the source folder, so MyST leaves a reference to a document it does not know.
    """
    folders = app.config.editions_folders
    for xref in list(doctree.findall(addnodes.pending_xref)):
        target = xref.get("reftarget", "")
        if xref.get("refdomain") == "doc" and any(target.startswith(folder) for folder in folders):
            depth = "../" * xref["refdoc"].count("/")
            link = nodes.reference("", "", *xref.children, refuri=f"{depth}{target}.html", classes=["edition-twin"])
            xref.replace_self(link)


def _twin_links(app, pagename, templatename, context, doctree):
    up = "../" * pagename.count("/")
    context["edition_twins"] = [
        {"edition": edition, "href": f"{up}{folder}{pagename}.html", "label": label}
        for edition, (folder, label) in app.config.editions_twins.items()
    ]  # fmt: skip
    context["edition_name"] = app.config.editions_name
    context["editions_copyright"] = app.config.editions_copyright


def setup(app):
    app.add_config_value("editions_name", "", "html")
    app.add_config_value("editions_twins", {}, "html")
    app.add_config_value("editions_folders", [], "env")
    app.add_config_value("editions_copyright", "", "html")
    app.add_config_value("editions_glossary", "", "env")
    app.connect("config-inited", _add_templates)
    app.add_css_file("editions.css")
    app.connect("doctree-read", _index_terms)
    app.connect("doctree-read", _link_twins)
    app.connect("html-page-context", _twin_links)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
