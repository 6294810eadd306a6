"""The language of what cnn_notes prints and draws: the headers of its tables, the titles, axes and legends of
its plots.

Each chapter of the book exists twice, in ``book/en`` and ``book/zh``, with the same code cells but for one
argument: the chapter's first code cell calls ``cnn_notes.set_language("en")`` or ``("zh")``. An explicit call,
rather than a guess from the notebook's folder, because a kernel does not know its notebook (Colab runs it in
``/content``, nbval's shared kernels move from chapter to chapter) and because a learner should see where the
Chinese headers come from. ``tests/test_book.py`` allows exactly that difference between twins.

Text in cnn_notes is written as ``say("params", "参数")``: both languages side by side, where the text is used.
Chinese figures draw with Noto Sans CJK SC, shipped by the pinned ``mplfonts`` package and registered with
matplotlib here, so that no plot depends on the fonts of the machine it is drawn on.
"""

LANGUAGES = ("en", "zh")
# The CJK font inside the mplfonts wheel; matplotlib knows it as "Noto Sans CJK SC".
CJK_FONT_FILE = "fonts/NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"

_language = "en"


def set_language(language):
    """Makes cnn_notes print and draw in ``language``: ``"en"`` (English, the default) or ``"zh"`` (Chinese)."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"`language` must be one of {LANGUAGES}. Received: language={language!r}")
    _language = language
    use_cjk_font(language == "zh")


def get_language():
    """The language set by :func:`set_language`: ``"en"`` or ``"zh"``."""
    return _language


def say(english, chinese):
    """``english`` or ``chinese``, whichever the current language is."""
    return chinese if _language == "zh" else english


def cjk_font_path():
    """The path of the Noto Sans CJK SC font file that the pinned ``mplfonts`` package ships."""
    from importlib.util import find_spec
    from pathlib import Path

    # The font is a data file: find the package without importing it (its __init__ pulls in a command line).
    spec = find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("Chinese figures need the `mplfonts` package (pinned in requirements.txt): pip install mplfonts")
    path = Path(next(iter(spec.submodule_search_locations))) / CJK_FONT_FILE
    if not path.is_file():
        raise ValueError(f"`mplfonts` is installed but has no {CJK_FONT_FILE}: reinstall the pinned version")
    return path


_registered = False


def use_cjk_font(on):
    """Puts Noto Sans CJK SC first in matplotlib's sans-serif list (``on``), or takes it out again."""
    global _registered
    from matplotlib import font_manager, rcParams

    families = [name for name in rcParams["font.sans-serif"] if name != CJK_FONT_NAME]
    if on:
        if not _registered:
            font_manager.fontManager.addfont(str(cjk_font_path()))
            _registered = True
        families.insert(0, CJK_FONT_NAME)
    rcParams["font.sans-serif"] = families


__all__ = ["LANGUAGES", "get_language", "say", "set_language"]
