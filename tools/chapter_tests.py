"""The pytest ``-k`` expression that selects a chapter's unit tests, for ``make check-chapter SLUG=<slug>``.

A family module may register models whose names do not contain its slug (``cnn_notes/models/lenet.py``
registers ``lenet5`` and ``nin``): ``-k lenet`` alone would skip the generic tests of ``nin`` without a word.
This prints the slug and every model the family module registers: ``lenet or lenet5 or nin``.

Usage: python tools/chapter_tests.py SLUG
"""

import sys


def expression(slug):
    import cnn_notes
    from cnn_notes.models.registry import get_builder

    family = f"cnn_notes.models.{slug}"
    names = [name for name in cnn_notes.list_models() if get_builder(name).__module__ == family]
    return " or ".join(dict.fromkeys([slug, *names]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    print(expression(sys.argv[1]))
