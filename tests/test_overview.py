"""The overview chapter's frame, table and charts: the numbers come from the models, the charts from the frame."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import cnn_notes
import cnn_notes.overview
from cnn_notes.references import KERAS_APPLICATIONS, OVERVIEW, PAPERS, POST, TORCHVISION, Architecture

SMALL = (
    Architecture("VGG-ish", "custom_vgg", 2019, None, "-"),
    Architecture("Inception-ish", "custom_inception", 2019, 50.0, "made up for the test"),
    Architecture("AlexNet", "alexnet", 2012, 56.522, "torchvision"),
)


@pytest.fixture(scope="module")
def small_frame():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cnn_notes.overview, "OVERVIEW", SMALL)
        yield cnn_notes.overview_frame()


def test_frame_counts_each_model(small_frame):
    assert list(small_frame.columns) == list(cnn_notes.overview.COLUMNS)
    assert list(small_frame["model"]) == ["custom_vgg", "custom_inception", "alexnet"]
    # The post's printed totals at their default classes; torchvision's AlexNet.
    assert list(small_frame["params"]) == [POST["custom_vgg"].total, POST["custom_inception"].total, 61_100_840]
    assert small_frame["gmacs"].iloc[2] == pytest.approx(TORCHVISION["alexnet"].gmacs, rel=0.01)
    assert math.isnan(small_frame["top1"].iloc[0]) and small_frame["top1"].iloc[2] == 56.522


def test_table_prints_every_row(small_frame, capsys):
    cnn_notes.overview_table(small_frame)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["architecture", "year", "params", "GMACs", "top-1", "top-1", "source"]
    assert lines[-1].split()[:5] == ["AlexNet", "2012", "61.1M", "0.71", "56.5%"]
    assert lines[-3].split()[:5] == ["VGG-ish", "2019", "0.3M", "0.04", "-"]


def test_accuracy_chart_plots_the_cited_rows(small_frame):
    figure = cnn_notes.plot_accuracy_vs_cost(small_frame)
    (points,) = figure.axes[0].collections
    cited = small_frame[small_frame["top1"].notna()]
    np.testing.assert_allclose(points.get_offsets(), cited[["gmacs", "top1"]].to_numpy())
    # Bubble area grows with the parameters: AlexNet's is the largest.
    assert np.argmax(points.get_sizes()) == 1
    assert [t.get_text() for t in figure.axes[0].texts] == ["Inception-ish", "AlexNet"]
    assert figure.axes[0].get_ylabel() == "ImageNet top-1 accuracy (%)"


def test_timeline_plots_params_and_macs_by_year(small_frame):
    figure = cnn_notes.plot_timeline(small_frame)
    params, macs = (ax.collections[0].get_offsets() for ax in figure.axes)
    np.testing.assert_allclose(params[:, 0], small_frame["year"])
    np.testing.assert_allclose(params[:, 1], small_frame["params"] / 1e6)
    np.testing.assert_allclose(macs[:, 1], small_frame["gmacs"])
    assert [ax.get_yscale() for ax in figure.axes] == ["log", "log"]
    assert [t.get_text() for t in figure.axes[0].texts] == list(small_frame["name"])


def test_labels_do_not_overlap_and_stay_inside():
    # Five points of the same year close together, as in the real timeline: every label finds a free place.
    frame = pd.DataFrame({"name": [f"architecture {i}" for i in range(5)], "year": [2016] * 5,
                          "params": [20e6, 22e6, 25e6, 28e6, 31e6], "gmacs": [1.0, 1.1, 1.2, 1.3, 1.4]})  # fmt: skip
    figure = cnn_notes.plot_timeline(frame)
    renderer = FigureCanvasAgg(figure).get_renderer()
    for ax in figure.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        inside = ax.get_window_extent(renderer)
        assert all(inside.contains(b.x0, b.y0) and inside.contains(b.x1, b.y1) for b in boxes)
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_every_overview_model_is_checked_against_a_reference():
    # The real frame's counts are those of models test_models checks against keras.applications or
    # torchvision, so a wrong row would fail there.
    for arch in OVERVIEW:
        checked = set(KERAS_APPLICATIONS) | set(TORCHVISION) | set(PAPERS) | {"inception_v2", "inception_v4"}
        assert arch.model in checked, arch.model
        assert arch.top1_source, arch


def test_overview_years_and_sources():
    years = [arch.year for arch in OVERVIEW]
    assert years == sorted(years) and years[0] == 2012 and years[-1] == 2022
    for arch in OVERVIEW:
        assert (arch.top1 is None) == (arch.top1_source.startswith(("paper gives", "-"))), arch
    # Every architecture of the overview has a published single-crop top-1 (the GoogLeNet, BN-Inception and
    # Inception v4 rows from Rethinking the Inception Architecture's Table 3 and TF-Slim's checkpoint).
    assert all(arch.top1 is not None for arch in OVERVIEW)


@pytest.mark.parametrize(
    ("function", "frame", "message"),
    [
        (cnn_notes.overview_table, pd.DataFrame({"name": ["x"]}), "must be a pandas.DataFrame with the columns"),
        (cnn_notes.plot_timeline, [1, 2], "Received: frame=[1, 2] of type list"),
        (cnn_notes.plot_accuracy_vs_cost, pd.DataFrame(columns=["name", "params", "gmacs", "top1"]), "no rows"),
        (
            cnn_notes.plot_accuracy_vs_cost,
            pd.DataFrame({"name": ["a"], "params": [1], "gmacs": [1.0], "top1": [np.nan]}),
            "no row with a top-1",
        ),
    ],
)
def test_bad_frames_are_refused(function, frame, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        function(frame)
    assert "Received: frame=" in str(info.value)
