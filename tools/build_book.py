"""``make book``: the book's two editions and its landing page, all derived from ``_config.yml`` and ``_toc.yml``.

Each part of ``_toc.yml`` is an edition (its caption names it in ``_config.yml``'s ``editions``). An edition is
built by Jupyter Book 1 on its own, from its folder (``book/en``, ``book/zh``) into ``_build/html/<edition>/``:
its own sidebar (that part's chapters only), its own search index, and Sphinx's language, so that the theme's
interface text is in the page's language. ``book/index.md``, where a reader chooses, becomes
``_build/html/index.html``. The three builds run side by side, one process each.

What this writes for each build, under ``_build/editions/<name>/``: the ``_config.yml`` (``_config.yml`` with the
edition's settings merged in and paths made absolute) and the ``_toc.yml`` (the part's files, relative to the
edition's folder). Everything else about the book is configured in the two files at the top of the repository.

Usage: python tools/build_book.py            # all three builds, each with -W -n --keep-going
       python tools/build_book.py en         # one of them (en, zh, landing)
"""

import copy
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"
LANDING = "landing"


def load(name):
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def editions(config=None, toc=None):
    """``{edition: (settings, files)}`` in the order of ``_toc.yml``'s parts; files relative to the repository."""
    config, toc = config or load("_config.yml"), toc or load("_toc.yml")
    by_caption = {settings["caption"]: (name, settings) for name, settings in config["editions"].items()}
    found = {}
    for part in toc["parts"]:
        if part["caption"] not in by_caption:
            raise SystemExit(f"_toc.yml's part {part['caption']!r} is no edition of _config.yml's `editions`")
        name, settings = by_caption[part["caption"]]
        found[name] = (settings, [chapter["file"] for chapter in part["chapters"]])
    return found


def _base_config(config):
    """``_config.yml`` without ``editions``, its paths made absolute (the builds' folders are elsewhere)."""
    base = copy.deepcopy(config)
    base.pop("editions")
    base["bibtex_bibfiles"] = [str(ROOT / path) for path in base.get("bibtex_bibfiles", [])]
    sphinx = base.setdefault("sphinx", {})
    sphinx["local_extensions"] = {name: str(ROOT / path) for name, path in sphinx.get("local_extensions", {}).items()}
    sphinx["local_extensions"].setdefault("editions", str(ROOT / "_ext"))
    sphinx.setdefault("config", {})
    return base


def edition_config(name, config=None, toc=None):
    """The ``_config.yml`` of edition ``name``: the book's, with the edition's settings merged in."""
    config, toc = config or load("_config.yml"), toc or load("_toc.yml")
    found = editions(config, toc)
    settings, files = found[name]
    folder = Path(files[0]).parent
    base = _base_config(config)
    base["title"] = settings["title"]
    base["author"] = settings.get("author", base.get("author"))
    base.setdefault("repository", {})["path_to_book"] = folder.as_posix()
    base["exclude_patterns"] = ["**/.ipynb_checkpoints"]
    sphinx_config = base["sphinx"]["config"]
    sphinx_config.update(settings.get("sphinx", {}))
    # For _ext/editions.py: this edition, its twins' folders (relative to this one's) and the glossary.
    sphinx_config["editions_name"] = name
    sphinx_config["editions_twins"] = {
        other: [f"../{Path(other_files[0]).parent.name}/", other_settings["switch"]]
        for other, (other_settings, other_files) in found.items() if other != name
    }  # fmt: skip
    sphinx_config["editions_folders"] = [folder for folder, _ in sphinx_config["editions_twins"].values()]
    sphinx_config["editions_glossary"] = str(ROOT / config["editions_glossary"])
    return base, folder


def edition_toc(name, config=None, toc=None):
    """The ``_toc.yml`` of edition ``name``: its part's files, the first as the root."""
    _, files = editions(config, toc)[name]
    folder = Path(files[0]).parent
    relative = [Path(f).relative_to(folder).as_posix() for f in files]
    return {"format": "jb-book", "root": relative[0], "chapters": [{"file": f} for f in relative[1:]]}


def landing_config(config=None):
    """The landing page's ``_config.yml``: ``_toc.yml``'s root alone, from the book's folder."""
    config = config or load("_config.yml")
    base = _base_config(config)
    base["exclude_patterns"] = ["en/**", "zh/**", "experiments/**", "**/.ipynb_checkpoints"]
    base["sphinx"]["config"]["editions_name"] = LANDING
    base["sphinx"]["config"]["editions_folders"] = [f"{name}/" for name in config["editions"]]
    base["sphinx"]["config"]["editions_glossary"] = str(ROOT / config["editions_glossary"])
    return base


def write_inputs(name):
    """Writes the build's _config.yml and _toc.yml; returns (source folder, config, toc, output folder)."""
    config, toc = load("_config.yml"), load("_toc.yml")
    where = BUILD / "editions" / name
    where.mkdir(parents=True, exist_ok=True)
    if name == LANDING:
        root = Path(toc["root"])
        derived, folder, derived_toc = landing_config(config), root.parent, {"format": "jb-book", "root": root.name}
        out = HTML
    else:
        (derived, folder), derived_toc = edition_config(name, config, toc), edition_toc(name, config, toc)
        out = HTML / name
    for file, content in (("_config.yml", derived), ("_toc.yml", derived_toc)):
        text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
        target = where / file
        if not target.exists() or target.read_text(encoding="utf-8") != text:  # keep Sphinx's cache valid
            target.write_text(text, encoding="utf-8")
    return ROOT / folder, where / "_config.yml", where / "_toc.yml", out


def build_one(name):
    """Builds one edition (or the landing page) with Sphinx's -W -n --keep-going; returns the exit status."""
    from jupyter_book.sphinx import build_sphinx

    source, config, toc, out = write_inputs(name)
    result = build_sphinx(
        source, out, noconfig=True, path_config=str(config),
        confoverrides={"external_toc_path": str(toc), "nitpicky": True, "latex_individualpages": False},
        doctreedir=BUILD / "doctrees" / name, warningiserror=True, keep_going=True, quiet=True,
    )  # fmt: skip
    return 1 if isinstance(result, Exception) else result


def build_all(names):
    """Starts every build in a process of its own, then reports each, in order, with its log."""
    logs = BUILD / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = {}
    for name in names:
        log = (logs / f"book-{name}.log").open("w", encoding="utf-8")
        started[name] = (subprocess.Popen([sys.executable, __file__, name], stdout=log, stderr=subprocess.STDOUT),
                         log, time.perf_counter())  # fmt: skip
    status = 0
    for name, (process, log, start) in started.items():
        code = process.wait()
        log.close()
        seconds = time.perf_counter() - start
        text = (logs / f"book-{name}.log").read_text(encoding="utf-8")
        if code:  # a clean build prints nothing but its line below (jieba logs its start-up)
            print(text, end="" if text.endswith("\n") else "\n")
        where = HTML / ("" if name == LANDING else name)
        print(f"book {name:8} {'FAILED' if code else 'built'} in {seconds:4.0f} s: {where.relative_to(ROOT)}/")
        status = status or code
    return status


def names():
    return [*editions(), LANDING]


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) == 1 and arguments[0] in names():
        sys.exit(build_one(arguments[0]))
    unknown = [a for a in arguments if a not in names()]
    if unknown:
        sys.exit(f"unknown build {unknown[0]!r}; there are {', '.join(names())}")
    sys.exit(build_all(arguments or names()))
