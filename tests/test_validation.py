"""Input validation helpers: every error names the argument it is about."""

import numpy as np
import pytest

from sip_theory._validation import (
    as_generator,
    check_embeddings,
    check_labels,
    check_one_of,
    check_positive_int,
    check_probability,
)


def test_as_generator_same_seed_same_stream():
    assert as_generator(5).random() == as_generator(5).random()


def test_as_generator_passes_generator_through():
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng


@pytest.mark.parametrize("bad, exc", [(None, ValueError), (-1, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("3", TypeError)])
def test_as_generator_rejects_bad_seed_naming_it(bad, exc):
    with pytest.raises(exc, match="my_seed"):
        as_generator(bad, name="my_seed")


def test_check_one_of_names_argument_and_options():
    with pytest.raises(ValueError, match=r"ties must be one of \('a', 'b'\)"):
        check_one_of("c", ("a", "b"), name="ties")


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_check_positive_int_rejects(bad, exc):
    with pytest.raises(exc, match="k must"):
        check_positive_int(bad, name="k")


@pytest.mark.parametrize("bad", [-0.1, 1.1, float("nan")])
def test_check_probability_rejects_out_of_range_and_nan(bad):
    with pytest.raises(ValueError, match="p must be in"):
        check_probability(bad, name="p")


def test_check_labels_wrong_length_names_argument():
    with pytest.raises(ValueError, match="y has length 2 but .* 3 samples"):
        check_labels([0, 1], 3, name="y")


def test_check_labels_rejects_2d_and_fractional_floats():
    with pytest.raises(ValueError, match="1-dimensional"):
        check_labels([[0, 1]])
    with pytest.raises(ValueError, match="non-integer"):
        check_labels([0.5, 1.0])


def test_check_labels_accepts_strings_and_whole_floats():
    assert check_labels(["a", "b"]).tolist() == ["a", "b"]
    assert check_labels([1.0, 2.0]).dtype == np.int64


def test_check_embeddings_reports_nan_rows():
    x = np.zeros((4, 2))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"Z has 1 row\(s\) with NaN or inf values \(rows 2\)"):
        check_embeddings(x, name="Z")


@pytest.mark.parametrize("shape", [(3,), (0, 2), (2, 0), (2, 2, 2)])
def test_check_embeddings_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="embeddings"):
        check_embeddings(np.zeros(shape))


def test_check_embeddings_keeps_float32():
    assert check_embeddings(np.zeros((2, 2), dtype=np.float32)).dtype == np.float32
