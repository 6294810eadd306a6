"""The pytest ``-k`` expression that selects a chapter's unit tests, for ``make check-chapter SLUG=<slug>``.

``-k`` matches substrings, and a slug is a poor one: ``-k senet`` also runs every DenseNet test, and a family
module may register models whose names do not contain its slug (``cnn_notes/models/lenet.py`` registers
``lenet5`` and ``nin``), so ``-k lenet`` would skip the generic tests of ``nin`` without a word, while ``-k nin``
would also run every test whose name contains "learning". So the expression names the family's test file and
each model the family module registers as a test parameter, in brackets (pytest's ids: ``test_x[nin]``,
``test_y[nin-NiN]``): ``test_lenet.py or [lenet5] or [lenet5- or -lenet5] or -lenet5- or [nin] or ...``.

Usage: python tools/chapter_tests.py SLUG
"""

import sys


def family_models(slug):
    """The models that ``cnn_notes/models/<slug>.py`` registers, sorted."""
    import cnn_notes
    from cnn_notes.models.registry import get_builder

    family = f"cnn_notes.models.{slug}"
    return [name for name in cnn_notes.list_models() if get_builder(name).__module__ == family]


def expression(slug):
    terms = [f"test_{slug}.py"]
    for name in family_models(slug):
        terms += [f"[{name}]", f"[{name}-", f"-{name}]", f"-{name}-"]
    return " or ".join(terms)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    print(expression(sys.argv[1]))
