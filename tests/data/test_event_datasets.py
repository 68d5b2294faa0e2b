"""Event datasets from local folders: frames equal the binning of each file, and an event dataset
trains and is costed through ``hwsnn train`` / ``hwsnn cost`` unchanged."""

import json

import h5py
import numpy as np
import pytest

from hwsnn.cli import main
from hwsnn.data import bin_events, load_dataset, read_aedat31, read_nmnist
from tests.data.test_events import HEADER, _aedat_packet, _polarity_events, _write_nmnist

RNG = np.random.default_rng(9)


def _nmnist_folder(root, per_digit: dict[str, int]):
    """N-MNIST-layout files whose events sit in a digit-specific 3-pixel-wide column band."""
    for split, count in per_digit.items():
        for digit in range(10):
            folder = root / split / str(digit)
            folder.mkdir(parents=True)
            for index in range(count):
                n = int(RNG.integers(40, 80))
                x = RNG.integers(3 * digit, 3 * digit + 3, n)
                _write_nmnist(
                    folder / f"{index:05d}.bin",
                    x,
                    RNG.integers(0, 34, n),
                    RNG.integers(0, 2, n),
                    np.sort(RNG.integers(0, 300_000, n)),
                )
    return root


def test_nmnist_trains_and_is_costed_from_a_local_folder(tmp_path, capsys):
    root = _nmnist_folder(tmp_path / "nmnist", {"Train": 6, "Test": 2})
    data = load_dataset("nmnist", root, timesteps=5)
    assert data.input_shape == (34, 34, 2) and data.x_train.shape == (60, 5, 34, 34, 2) and data.num_classes == 10
    first = bin_events(read_nmnist(root / "Train" / "0" / "00000.bin"), 5, (34, 34))
    np.testing.assert_array_equal(data.x_train[0], first)
    assert data.x_train[0].sum() == len(read_nmnist(root / "Train" / "0" / "00000.bin"))  # no event lost
    np.testing.assert_array_equal(np.bincount(data.y_test), np.full(10, 2))
    binary = load_dataset("nmnist", root, timesteps=5, frames="binary")
    assert binary.x_train.max() == 1 and data.x_train.max() > 1
    workdir = tmp_path / "run"
    flags = [
        "--data.dataset",
        "nmnist",
        "--data.data-dir",
        str(root),
        "--data.encoding",
        "events",
        "--model.kind",
        "mlp",
        "--model.hidden",
        "32",
        "--model.timesteps",
        "5",
        "--training.batch-size",
        "10",
        "--training.epochs",
        "8",
        "--training.learning-rate",
        "0.005",
        "--no-progress",
    ]
    assert main(["train", "--workdir", str(workdir), *flags]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--workdir", str(workdir)]) == 0
    assert json.loads(capsys.readouterr().out.split("\nwrote ")[0])["accuracy"] >= 0.5  # chance: 0.1
    assert main(["cost", "--workdir", str(workdir), "--samples", "20", "--presets", "naive-fp32,rram-sa"]) == 0
    rows = {row["preset"]: row for row in json.loads((workdir / "cost" / "cost.json").read_text())}
    # the ANN baseline counts the MLP's MACs: 4.6 pJ x (34 x 34 x 2 x 32 + 32 x 10)
    assert rows["naive-fp32"]["ann_energy_pj"] == pytest.approx(4.6 * (34 * 34 * 2 * 32 + 32 * 10), rel=1e-6)
    assert (
        main(
            [
                "train",
                "--workdir",
                str(tmp_path / "bad"),
                "--data.dataset",
                "nmnist",
                "--data.data-dir",
                str(root),
                "--data.encoding",
                "rate",
            ]
        )
        == 2
    )
    assert "allowed: 'events' for the event datasets" in capsys.readouterr().err


def test_shd_and_gesture_datasets_bin_every_sample(tmp_path):
    for split, count in (("train", 4), ("test", 2)):
        with h5py.File(tmp_path / f"shd_{split}.h5", "w") as handle:
            times = handle.create_dataset("spikes/times", (count,), dtype=h5py.vlen_dtype(np.float32))
            units = handle.create_dataset("spikes/units", (count,), dtype=h5py.vlen_dtype(np.uint16))
            for index in range(count):
                times[index] = np.sort(RNG.random(30)).astype(np.float32)
                units[index] = RNG.integers(0, 700, 30).astype(np.uint16)
            handle["labels"] = np.arange(count, dtype=np.uint16)
    shd = load_dataset("shd", tmp_path, timesteps=6)
    assert shd.input_shape == (700,) and shd.x_train.shape == (4, 6, 700) and shd.x_train[2].sum() == 30
    gesture_dir = tmp_path / "gesture"
    gesture_dir.mkdir()
    t = np.arange(0, 400, 4, dtype=np.int32)  # 100 events, 4 us apart
    x, y, p = RNG.integers(0, 128, 100), RNG.integers(0, 128, 100), RNG.integers(0, 2, 100)
    (gesture_dir / "user01_led.aedat").write_bytes(HEADER + _aedat_packet(1, _polarity_events(x, y, p, t)))
    (gesture_dir / "user01_led_labels.csv").write_text("class,startTime_usec,endTime_usec\n3,0,200\n11,200,400\n")
    (gesture_dir / "trials_to_train.txt").write_text("user01_led.aedat\n")
    (gesture_dir / "trials_to_test.txt").write_text("user01_led.aedat\n")
    gesture = load_dataset("dvsgesture", gesture_dir, timesteps=4)
    np.testing.assert_array_equal(gesture.y_train, [2, 10])
    events = read_aedat31(gesture_dir / "user01_led.aedat")
    np.testing.assert_array_equal(gesture.x_train[1], bin_events(events[50:], 4, (128, 128)))
    assert gesture.x_train.shape == (2, 4, 128, 128, 2) and gesture.x_train[0].sum() == 50
    with pytest.raises(ValueError, match="timesteps: got None for event dataset 'shd'"):
        load_dataset("shd", tmp_path)
    with pytest.raises(FileNotFoundError, match="no Train folder"):
        load_dataset("nmnist", tmp_path, timesteps=4)
