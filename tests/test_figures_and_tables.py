"""The chapters' helpers: reference and stage tables (the block diagrams are tested in test_diagrams.py)."""

from test_errors import raise_clean

import cnn_notes


def test_reference_table_checks_each_model(capsys):
    cnn_notes.reference_table(["custom_vgg", "vgg11_lrn"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["model", "params", "trainable", "GMACs", "reference", "value", "match"]
    assert lines[2].split() == ["custom_vgg", "307,498", "307,498", "0.039", "the", "post", "307,498", "✓"]
    assert lines[3].split()[-3:] == ["paper", "133M", "✓"]


def test_check_models_reports_a_mismatch_honestly(monkeypatch):
    from cnn_notes import references

    monkeypatch.setitem(references.POST, "custom_vgg", references.PostTotals(307_499, 0))
    [check] = cnn_notes.check_models(["custom_vgg"])
    assert check.total == 307_498 and check.match is False


def test_check_models_refuses_bad_names():
    raise_clean(lambda: cnn_notes.check_models("vgg16"), "Received: names='vgg16'")
    raise_clean(lambda: cnn_notes.check_models(["vgg61"]), "Did you mean")


def test_stage_table(capsys):
    cnn_notes.stage_table(cnn_notes.build("custom_vgg"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["input", "32x32x3"]
    assert lines[-1].split() == ["block3_pool", "4x4x128"]


def test_format_table_aligns_columns():
    text = cnn_notes.format_table(("a", "n"), [("x", "1"), ("long", "100")], right=(1,))
    assert text.splitlines() == ["a       n", "----  ---", "x       1", "long  100"]


def test_the_facts_memo_keeps_exactly_what_a_build_gives(tmp_path, monkeypatch):
    # make test lets nbval's tables read the unit tests' builds: what comes back must be what a build gives.
    from cnn_notes import tables

    monkeypatch.setenv(tables.MEMO_VARIABLE, str(tmp_path))
    model = cnn_notes.build("googlenet")
    computed = tables.facts_of(model)
    tables.remember_facts("googlenet", model)
    [stored] = (tmp_path / tables.fingerprint()).iterdir()
    assert stored.name == "googlenet.json"
    tables.default_facts.cache_clear()
    try:
        assert tables.default_facts("googlenet") == computed
        # Without the memo, default_facts builds the model unallocated (shapes only): the same facts.
        monkeypatch.setenv(tables.MEMO_VARIABLE, str(tmp_path / "elsewhere"))
        tables.default_facts.cache_clear()
        assert tables.default_facts("googlenet") == computed
        monkeypatch.setenv(tables.MEMO_VARIABLE, str(tmp_path))
        assert computed.counts.total == 6_998_552 and computed.trainable_weights[0].shape == (7, 7, 3, 64)
        # Facts kept under another fingerprint (another source or Keras) are not this package's: never read.
        other = tmp_path / "0000000000000000" / "custom_vgg.json"
        other.parent.mkdir()
        other.write_text(stored.read_text())
        assert tables.default_facts("custom_vgg").counts.total == 307_498
        assert (tmp_path / tables.fingerprint() / "custom_vgg.json").exists()
    finally:
        tables.default_facts.cache_clear()


def test_the_fingerprint_changes_with_any_source_file(tmp_path):
    import shutil
    from pathlib import Path

    from cnn_notes import tables

    copy = shutil.copytree(Path(tables.__file__).parent, tmp_path / "cnn_notes", ignore=shutil.ignore_patterns("*.pyc"))
    assert tables.source_digest(copy) == tables.fingerprint()
    resnet = copy / "models" / "resnet.py"
    resnet.write_text(resnet.read_text() + "\n# a changed builder\n")
    assert tables.source_digest(copy) != tables.fingerprint()


def test_a_paper_count_is_an_exact_reference(capsys, monkeypatch):
    # A model no library ships is checked against its paper's exact count (PAPER_COUNTS), of trainable
    # parameters, shown with thousands separators; it comes before the paper's rounded figure (PAPERS).
    from cnn_notes import references

    [check] = cnn_notes.check_models(["vgg11_lrn"])  # built once already, by the first test of this file
    monkeypatch.setitem(references.PAPER_COUNTS, "vgg11_lrn", references.PaperCount(check.trainable, "a test"))
    cnn_notes.reference_table(["vgg11_lrn"])
    assert capsys.readouterr().out.splitlines()[2].split()[-3:] == ["paper", f"{check.trainable:,}", "✓"]
    monkeypatch.setitem(references.PAPER_COUNTS, "vgg11_lrn", references.PaperCount(check.trainable + 1, "a test"))
    assert cnn_notes.check_models(["vgg11_lrn"])[0].match is False


def test_the_macs_column_shows_small_models_in_a_smaller_unit(capsys, monkeypatch):
    from cnn_notes import tables

    # GMACs unless a row would print 0.000; then the whole column takes the largest unit that shows every row.
    assert tables.mac_unit([0.021, 37.746]) == ("GMACs", 1)  # the smallest model of a chapter's table today
    assert tables.mac_unit([0.0005, 1.0]) == ("GMACs", 1)
    assert tables.mac_unit([0.000416, 0.039]) == ("MMACs", 1e3)  # LeNet-5's size: 0.416 MMACs
    assert tables.mac_unit([2e-9]) == ("KMACs", 1e6)
    assert tables.mac_unit([1e-12, 0.0]) == ("MACs", 1e9)
    assert tables.mac_unit([]) == ("GMACs", 1)
    [check] = cnn_notes.check_models(["custom_vgg"])
    tiny = check._replace(model="tiny", gmacs=0.000416)
    monkeypatch.setattr(tables, "check_models", lambda names: [check, tiny])
    cnn_notes.reference_table(["custom_vgg", "tiny"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[3] == "MMACs"
    assert [line.split()[3] for line in lines[2:]] == [f"{check.gmacs * 1e3:.3f}", "0.416"]


def test_every_chapter_table_keeps_its_macs_unit():
    # nbval compares the stored tables: each stored reference_table's unit is the one mac_unit picks for its
    # numbers (all of today's chapters: GMACs), so the rule above changes no stored row.
    import json
    from pathlib import Path

    from cnn_notes import tables

    root = Path(__file__).resolve().parents[1]
    units = dict(tables.MAC_UNITS)
    seen = 0
    for path in sorted(root.glob("book/*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code" and "reference_table(" in "".join(cell["source"]):
                lines = "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])).splitlines()
                if lines and lines[0].split()[0] in ("model", "模型"):
                    unit = lines[0].split()[3]
                    gmacs = [float(line.split()[3]) * units[unit] / 1e9 for line in lines[2:]]
                    assert tables.mac_unit(gmacs)[0] == unit, path.name
                    seen += 1
    assert seen >= 24  # the twelve chapter tables of each language
