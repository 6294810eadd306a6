"""The language of cnn_notes' tables and plots (cnn_notes/language.py), and the CJK font of its Chinese figures."""

import ast
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.ft2font import FT2Font
from test_errors import raise_clean

import cnn_notes
from cnn_notes import experiments, language
from cnn_notes.tables import display_width, format_table

PACKAGE = Path(cnn_notes.__file__).resolve().parent
HAN = re.compile(r"[\u4e00-\u9fff]")



def chinese_strings():
    """Every string literal with a Han character in cnn_notes' sources: what its Chinese tables and plots say."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and HAN.search(node.value):
                found.append((path.relative_to(PACKAGE).as_posix(), node.value))
    return found


def test_the_language_is_english_unless_set():
    assert cnn_notes.get_language() == "en"
    assert language.say("params", "参数") == "params"


def test_set_language_switches_what_cnn_notes_says(chinese):
    assert cnn_notes.get_language() == "zh"
    assert language.say("params", "参数") == "参数"


def test_set_language_refuses_other_languages():
    raise_clean(lambda: cnn_notes.set_language("fr"), "Received: language='fr'")
    raise_clean(lambda: cnn_notes.set_language(None), "Received: language=None")
    assert cnn_notes.get_language() == "en"


def test_every_chinese_string_of_the_package_has_glyphs_in_the_cjk_font():
    # A character the font lacks is drawn as a box (and matplotlib warns): every character of every Chinese
    # string must be in the font's character map. The test finds the strings itself, so a new label is checked.
    strings = chinese_strings()
    assert len(strings) > 40, strings  # the tables', plots' and runs' Chinese words
    charmap = FT2Font(str(language.cjk_font_path())).get_charmap()
    missing = {(where, c) for where, text in strings for c in text if not c.isascii() and ord(c) not in charmap}
    assert not missing, f"characters the CJK font cannot draw: {sorted(missing)}"


def test_chinese_figures_draw_every_glyph(chinese):
    import matplotlib.pyplot as plt

    result = experiments.load("batch_norm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for a box
        figure = experiments.plot_experiment(result, "error")
        figure.canvas.draw()
    texts = [figure.axes[0].get_title(), figure.axes[0].get_ylabel()]
    texts += [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert all(HAN.search(text) for text in texts), texts
    assert language.CJK_FONT_NAME == plt.rcParams["font.sans-serif"][0]


def test_english_figures_do_not_use_the_cjk_font(chinese):
    cnn_notes.set_language("en")
    import matplotlib.pyplot as plt

    assert language.CJK_FONT_NAME not in plt.rcParams["font.sans-serif"]
    figure = experiments.plot_experiment(experiments.load("batch_norm"), "error")
    assert not HAN.search(figure.axes[0].get_title() + figure.axes[0].get_ylabel())


def test_tables_line_up_with_chinese_headers():
    assert display_width("参数") == 4 and display_width("params") == 6 and display_width("（高x宽）") == 9
    table = format_table(("模型", "参数"), [("alexnet", "61,100,840")], right=(1,)).splitlines()
    assert [display_width(line) for line in table] == [len(table[2])] * 3
    assert table[0] == "模型           参数"


def test_tables_speak_the_language_set(chinese, capsys):
    experiments.results_table(experiments.load("batch_norm"))
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["运行", "参数", "训练准确率", "最佳验证准确率", "测试准确率", "秒/epoch"]
    assert "不带 BN，学习率 0.1" in out and "共 7 分钟" in out
