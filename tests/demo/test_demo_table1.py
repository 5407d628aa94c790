"""The Table 1 demo: the paper's columns reproduced on Friedland's files and Moon."""
import pytest

from tb_nndebug.demo import table1

SMALL = ["spiral", "xor", "circle", "gauss", "moon"]


@pytest.fixture(scope="module")
def rows():
    return {r["dataset"]: r for r in table1.run(None, progress=False, datasets=SMALL)}


@pytest.mark.parametrize("key", SMALL)
def test_expected_complexity_column_equals_the_papers(rows, key):
    r = rows[key]
    assert r["expected_bits"] == r["paper_expected_bits"] == table1.PAPER[r["paper_row"]][2]


@pytest.mark.parametrize("key", SMALL)
def test_csg_column_equals_the_papers_to_its_printed_digits(rows, key):
    r = rows[key]
    paper = table1.PAPER[r["paper_row"]][1]
    # the paper prints 3 significant digits (0.431, 0.00609) or 0
    assert r["csg"] == pytest.approx(paper, rel=2e-3, abs=1e-9)


def test_subsets_of_1000_images_give_the_papers_expected_bits():
    rows = table1.run(None, progress=False, datasets=["mnist_1k", "cifar10_1k"])
    assert [r["expected_bits"] for r in rows] == [30720, 7840]


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="datasets"):
        table1.run(None, progress=False, datasets=["seefood"])


def test_logdir_gets_one_run_per_dataset_with_records(tmp_path):
    from tb_nndebug.records.reading import read_records

    table1.run(tmp_path, progress=False, datasets=["gauss", "moon"])
    for key in ("gauss", "moon"):
        recs = read_records(tmp_path / "table1" / key)
        doc = recs["dataset"][0]["value"]
        assert doc["complexity"]["expected_bits"] == table1.PAPER[key.capitalize()][2]
        assert doc["csg"]["k"] == table1.CSG_K and doc["csg"]["embedding"] == "raw"
        assert recs["run_info"][0]["value"]["paper_dataset"] == key.capitalize()
