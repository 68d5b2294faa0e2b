"""Event readers on tiny files written here in each format, cross-checked event by event against
tonic's readers where tonic has one; binning by hand; errors on missing, empty, truncated and
wrong-format files."""

import h5py
import numpy as np
import pytest

from hwsnn.data.events import bin_events, read_aedat31, read_gesture_labels, read_nmnist, read_shd

RNG = np.random.default_rng(4)


def _write_nmnist(path, x, y, p, t):
    """N-MNIST words ``(x, y, p << 7 | t >> 16, t >> 8 & 255, t & 255)`` for 23-bit times ``t``."""
    words = [[xi, yi, (pi << 7) | (ti >> 16), (ti >> 8) & 255, ti & 255] for xi, yi, pi, ti in zip(x, y, p, t)]
    np.asarray(words, np.uint8).tofile(path)


def test_nmnist_reader_matches_tonic_event_by_event(tmp_path):
    n = 300
    x, y = RNG.integers(0, 34, n), RNG.integers(0, 34, n)
    p, t = RNG.integers(0, 2, n), np.sort(RNG.integers(0, 2**23, n))
    path = tmp_path / "00002.bin"
    _write_nmnist(path, x, y, p, t)
    with open(path, "ab") as handle:  # a timestamp-overflow marker, then one more event 5 us after the wrap
        handle.write(bytes([0, 240, 0, 0, 0, 3, 4, 128, 0, 5]))
    events = read_nmnist(path)
    tonic_io = pytest.importorskip("tonic.io")
    theirs = tonic_io.read_mnist_file(str(path), dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    assert len(events) == len(theirs) == n + 1
    for field in "xytp":
        np.testing.assert_array_equal(events[field], theirs[field])
    np.testing.assert_array_equal(events["t"][:n], t)
    assert tuple(events[-1]) == (2**13 + 5, 3, 4, 1)


def test_shd_reader_matches_tonic_and_the_written_spikes(tmp_path):
    path = tmp_path / "shd_test.h5"
    samples = [(np.sort(RNG.integers(0, 10**6, 50)) * 1e-6, RNG.integers(0, 700, 50)) for _ in range(3)]
    with h5py.File(path, "w") as handle:
        times = handle.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(np.float32))
        units = handle.create_dataset("spikes/units", (3,), dtype=h5py.vlen_dtype(np.uint16))
        for index, (time, unit) in enumerate(samples):
            times[index], units[index] = time.astype(np.float32), unit.astype(np.uint16)
        handle["labels"] = np.array([4, 0, 19], np.uint16)
    events, labels = read_shd(path)
    np.testing.assert_array_equal(labels, [4, 0, 19])
    SHD = pytest.importorskip("tonic.datasets").SHD

    reader = SHD.__new__(SHD)  # tonic's own __getitem__ on this file (its constructor would download)
    reader.location_on_system, reader.data_filename = str(tmp_path), path.name
    reader.transform = reader.target_transform = None
    for index, (time, unit) in enumerate(samples):
        theirs, target = reader[index]
        assert int(target) == labels[index]
        np.testing.assert_array_equal(events[index]["x"], theirs["x"])
        np.testing.assert_array_equal(events[index]["x"], unit)
        # tonic truncates seconds x 1e6 to whole microseconds; hwsnn rounds
        assert np.max(np.abs(events[index]["t"] - theirs["t"])) <= 1
        np.testing.assert_array_equal(events[index]["t"], np.round(time.astype(np.float32).astype(np.float64) * 1e6))


def _aedat_packet(kind: int, events: np.ndarray, overflow: int = 0, size: int = 8) -> bytes:
    header = np.array(
        [(kind, 1, size, 4, overflow, len(events), len(events), len(events))],
        dtype=[
            ("type", "<i2"),
            ("source", "<i2"),
            ("size", "<i4"),
            ("ts_offset", "<i4"),
            ("ts_overflow", "<i4"),
            ("capacity", "<i4"),
            ("number", "<i4"),
            ("valid", "<i4"),
        ],
    )
    return header.tobytes() + events.tobytes()


def _polarity_events(x, y, p, t, valid=None) -> np.ndarray:
    valid = np.ones(len(x), np.uint32) if valid is None else valid
    data = (np.asarray(x, np.uint32) << 17) | (np.asarray(y, np.uint32) << 2) | (np.asarray(p, np.uint32) << 1) | valid
    return np.array(list(zip(data, t)), dtype=[("data", "<u4"), ("t", "<i4")])


HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"


def test_aedat31_reader_matches_tonic_event_by_event(tmp_path):
    n = 200
    x, y, p = RNG.integers(0, 128, n), RNG.integers(0, 128, n), RNG.integers(0, 2, n)
    t = np.sort(RNG.integers(0, 10**7, n)).astype(np.int32)
    path = tmp_path / "user01_fluorescent.aedat"
    path.write_bytes(
        HEADER
        + _aedat_packet(1, _polarity_events(x[:120], y[:120], p[:120], t[:120]))
        + _aedat_packet(1, _polarity_events(x[120:], y[120:], p[120:], t[120:]))
    )
    events = read_aedat31(path)
    tonic_io = pytest.importorskip("tonic.io")
    version, start, _ = tonic_io.read_aedat_header_from_file(str(path))
    raw = tonic_io.get_aer_events_from_file(str(path), version, start)
    # the bit layout of tonic's read_dvs_ibm (which itself fails on tonic 1.7.0's three-value header reader)
    address = raw["address"].astype(np.int64)
    np.testing.assert_array_equal(events["x"], (address >> 17) & 0x1FFF)
    np.testing.assert_array_equal(events["y"], (address >> 2) & 0x1FFF)
    np.testing.assert_array_equal(events["p"], (address >> 1) & 1)
    np.testing.assert_array_equal(events["t"], raw["timeStamp"])
    np.testing.assert_array_equal(events["x"], x)


def test_aedat31_skips_other_packets_drops_invalid_events_and_adds_the_overflow(tmp_path):
    special = np.zeros(3, dtype=[("data", "<u4"), ("t", "<i4")])
    path = tmp_path / "rec.aedat"
    path.write_bytes(
        HEADER
        + _aedat_packet(0, special)
        + _aedat_packet(
            1,
            _polarity_events([5, 6, 7], [1, 2, 3], [1, 0, 1], [10, 20, 30], valid=np.array([1, 0, 1], np.uint32)),
            overflow=2,
        )
    )
    events = read_aedat31(path)
    assert [tuple(e) for e in events] == [((2 << 31) | 10, 5, 1, 1), ((2 << 31) | 30, 7, 3, 1)]


def test_binning_by_hand():
    events = np.array(
        [(100, 0, 0, 1), (101, 1, 0, 0), (150, 1, 0, 0), (150, 1, 0, 0), (199, 2, 1, 1)],
        dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")],
    )
    frames = bin_events(events, 4, (2, 3))  # span 100 us: bins of 25 us from t0 = 100
    assert frames.shape == (4, 2, 3, 2) and frames.sum() == 5
    assert frames[0, 0, 0, 1] == 1 and frames[0, 0, 1, 0] == 1 and frames[2, 0, 1, 0] == 2 and frames[3, 1, 2, 1] == 1
    assert bin_events(events, 4, (2, 3), "binary")[2, 0, 1, 0] == 1
    audio = bin_events(events, 2, (3,))
    np.testing.assert_array_equal(audio, [[1, 1, 0], [0, 2, 1]])
    with pytest.raises(ValueError, match="mode: got 'sum'; allowed: \\['count', 'binary'\\]"):
        bin_events(events, 4, (2, 3), "sum")
    with pytest.raises(ValueError, match="allowed: a 1 x 3 sensor"):
        bin_events(events, 4, (1, 3))
    with pytest.raises(ValueError, match="timesteps: got 0"):
        bin_events(events, 0, (2, 3))
    with pytest.raises(ValueError, match="events: got none"):
        bin_events(events[:0], 4, (2, 3))


def test_reader_errors_name_the_file_and_the_problem(tmp_path):
    for reader in (read_nmnist, read_shd, read_aedat31, read_gesture_labels):
        with pytest.raises(FileNotFoundError, match="path: no .* file at"):
            reader(tmp_path / "missing")
        (tmp_path / "empty").write_bytes(b"")
        with pytest.raises(ValueError, match="is empty"):
            reader(tmp_path / "empty")
    (tmp_path / "cut.bin").write_bytes(bytes(12))
    with pytest.raises(ValueError, match="has 12 bytes; allowed: a multiple of 5"):
        read_nmnist(tmp_path / "cut.bin")
    (tmp_path / "big.bin").write_bytes(bytes([200, 3, 0, 0, 1]))
    with pytest.raises(ValueError, match="not an N-MNIST file"):
        read_nmnist(tmp_path / "big.bin")
    (tmp_path / "text.h5").write_text("spikes")
    with pytest.raises(ValueError, match="is not an HDF5 file"):
        read_shd(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle["labels"] = np.zeros(2)
    with pytest.raises(ValueError, match="lacks \\['spikes/times', 'spikes/units'\\]"):
        read_shd(tmp_path / "other.h5")
    for name, labels, time, message in (
        ("label20.h5", [3, 20], [0.1], r"has labels \[20\]; allowed: integers 0-19"),
        ("label_neg.h5", [-1, 2], [0.1], r"has labels \[-1\]; allowed: integers 0-19"),
        ("label_frac.h5", [1.5, 2.0], [0.1], r"has labels \[1.5\]; allowed: integers 0-19"),
        ("nan_time.h5", [1, 2], [np.nan], r"sample 0 has spike times that are NaN, infinite or negative"),
    ):
        with h5py.File(tmp_path / name, "w") as handle:
            times = handle.create_dataset("spikes/times", (2,), dtype=h5py.vlen_dtype(np.float32))
            units = handle.create_dataset("spikes/units", (2,), dtype=h5py.vlen_dtype(np.uint16))
            for index in range(2):
                times[index], units[index] = np.asarray(time, np.float32), np.array([5], np.uint16)
            handle["labels"] = np.asarray(labels)
        with pytest.raises(ValueError, match=message):
            read_shd(tmp_path / name)
    (tmp_path / "v2.aedat").write_bytes(b"#!AER-DAT2.0\r\n" + bytes(16))
    with pytest.raises(ValueError, match="allowed: an AEDAT 3.1 file"):
        read_aedat31(tmp_path / "v2.aedat")
    whole = HEADER + _aedat_packet(1, _polarity_events([1, 2], [1, 2], [0, 1], [5, 6]))
    (tmp_path / "cut.aedat").write_bytes(whole[:-3])
    with pytest.raises(ValueError, match="truncated or corrupt file"):
        read_aedat31(tmp_path / "cut.aedat")
    (tmp_path / "cut2.aedat").write_bytes(whole + bytes(10))
    with pytest.raises(ValueError, match="bytes into a packet header \\(truncated file\\)"):
        read_aedat31(tmp_path / "cut2.aedat")
    (tmp_path / "labels.csv").write_text("class,startTime_usec,endTime_usec\n1,100,50\n")
    with pytest.raises(ValueError, match="with end > start"):
        read_gesture_labels(tmp_path / "labels.csv")
