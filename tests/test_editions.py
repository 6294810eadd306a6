"""The two editions' builds (tools/build_book.py, _ext/editions.py): derived from _config.yml and _toc.yml alone.

The browser tests (tests/test_site.py) check the built site; these check what each build is given.
"""

import sys
from pathlib import Path

import yaml

from tools import build_book

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import editions as editions_extension  # noqa: E402 (the local Sphinx extension, as the builds load it)

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def test_every_part_of_the_toc_is_an_edition_in_order():
    found = build_book.editions()
    assert list(found) == ["en", "zh"]
    assert [settings["caption"] for settings, _ in found.values()] == [part["caption"] for part in TOC["parts"]]
    for name, (_, files) in found.items():
        assert files == [chapter["file"] for part in TOC["parts"] if part["caption"] == CONFIG["editions"][name]["caption"]
                         for chapter in part["chapters"]]  # fmt: skip


def test_an_edition_is_its_part_of_the_toc_from_its_folder():
    toc = build_book.edition_toc("zh")
    part = next(p for p in TOC["parts"] if p["caption"] == "中文")
    assert toc["root"] == Path(part["chapters"][0]["file"]).name == "intro"
    assert [c["file"] for c in toc["chapters"]] == [Path(c["file"]).name for c in part["chapters"][1:]]


def test_an_edition_config_is_the_books_with_the_editions_settings():
    config, folder = build_book.edition_config("zh")
    assert folder == Path("book/zh")
    assert "editions" not in config and config["title"] == CONFIG["editions"]["zh"]["title"]
    sphinx = config["sphinx"]["config"]
    assert sphinx["language"] == "zh_CN" and sphinx["html_search_language"] == "zh"
    assert sphinx["editions_twins"] == {"en": ["../en/", "English"]}
    assert config["repository"]["path_to_book"] == "book/zh"  # the launch and edit buttons' paths
    # Everything else is the book's own configuration, untouched.
    for key in ("execute", "launch_buttons", "parse", "html"):
        assert config[key] == CONFIG[key]
    assert all(Path(path).is_absolute() and Path(path).exists() for path in config["bibtex_bibfiles"])
    english, _ = build_book.edition_config("en")
    assert english["sphinx"]["config"]["language"] == "en" and english["title"] == "CNN Notes"


def test_the_landing_page_is_the_toc_root_alone():
    config = build_book.landing_config()
    assert config["sphinx"]["config"]["editions_folders"] == ["en/", "zh/"]
    assert TOC["root"] == "book/index"


def test_glossary_terms_become_index_entries_of_the_chapters_that_use_them():
    terms = editions_extension.glossary_terms(ROOT / CONFIG["editions_glossary"])
    # English, the book's Chinese, and other textbooks' renderings without their sources in brackets.
    assert {"shortcut", "捷径", "快捷连接", "跳跃连接", "直连边"} <= set(terms["resnet"])
    assert not any("[" in term for chapter in terms.values() for term in chapter)


def test_mathjax_is_served_from_the_pinned_package():
    files = editions_extension.mathjax_files()
    assert "tex-chtml.js" in files
    assert any(path.startswith("output/chtml/fonts/") for path in files)
    assert not any(path.startswith(("sre/", "output/svg")) or path == "tex-svg.js" for path in files)
    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if "mathjax" in line)
    assert pin == f"{editions_extension.MATHJAX_PACKAGE}==0.0.2"
