"""Event data from local files: readers for N-MNIST, SHD and DVS128-Gesture recordings, and the
binning of events into time-major frames. Nothing is downloaded.

Events are a numpy structured array of :data:`EVENT_DTYPE`: ``t`` (microseconds), ``x``, ``y``
(pixel, or the channel of an audio spike with ``y = 0``) and ``p`` (polarity 0 = OFF, 1 = ON; 0 for
audio spikes).

Formats:

* N-MNIST ``.bin`` (Orchard et al., "Converting static image datasets to spiking neuromorphic
  datasets using saccades", Front. Neurosci. 9:437, 2015; the dataset's README): 5 bytes per event,
  bits 39-32 ``x``, 31-24 ``y``, bit 23 polarity, bits 22-0 timestamp (us). An event with
  ``y = 240`` marks a timestamp overflow: every later timestamp gains ``2^13`` us (the authors'
  reader, ``eventvision.py``). The sensor is 34 x 34.
* SHD ``.h5`` (Cramer et al., "The Heidelberg spiking data sets for the systematic evaluation of
  spiking neural networks", IEEE TNNLS 33(7), 2022): ``spikes/times`` (one float array per sample,
  seconds), ``spikes/units`` (the matching channels, 0-699) and ``labels``.
* AEDAT 3.1 (iniVation's format documentation; DVS128 Gesture, Amir et al., CVPR 2017): ``#``
  header lines starting with ``#!AER-DAT3.1``, then packets of a 28-byte little-endian header
  (``int16`` event type, ``int16`` source, ``int32`` event size, ``int32`` timestamp offset,
  ``int32`` timestamp overflow, ``int32`` capacity, ``int32`` event number, ``int32`` valid count)
  and ``capacity`` events of ``event size`` bytes. Polarity events (type 1, 8 bytes) hold a ``uint32``
  (bit 0 valid, bit 1 polarity, bits 2-16 ``y``, bits 17-31 ``x``) and an ``int32`` timestamp whose
  full value is ``overflow << 31 | timestamp``. Packets of other types (special, frame, IMU events)
  are skipped: only polarity events are read, and invalid ones (bit 0 clear) are dropped, as the
  format prescribes. A gesture's label file (``*_labels.csv``: ``class,startTime_usec,endTime_usec``)
  cuts a recording into samples.

Binning (:func:`bin_events`): a sample's events from its first timestamp ``t0`` to its last
``t1`` are split into ``T`` bins of equal length, event ``t`` going to bin
``floor((t - t0) T / (t1 - t0 + 1))``; each bin holds, per pixel and polarity, the event count
(``"count"``) or whether there was one (``"binary"``). Frames are ``[T, H, W, 2]`` (channel-last,
polarity as channel), audio ``[T, channels]``.
"""

from __future__ import annotations

import os

import numpy as np

from hwsnn import checks

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
"""One event: timestamp (us), x, y, polarity."""

NMNIST_SENSOR = (34, 34)
"""N-MNIST's ATIS crop, ``(H, W)`` (Orchard et al. 2015)."""
NMNIST_OVERFLOW_Y = 240
NMNIST_OVERFLOW_US = 2**13
DVS128_SENSOR = (128, 128)
"""The DVS128's array, ``(H, W)`` (Amir et al. 2017)."""
SHD_CHANNELS = 700
"""SHD's cochlea channels (Cramer et al. 2022)."""
SHD_CLASSES = 20
"""SHD's classes: the digits 0-9 spoken in English and in German (Cramer et al. 2022)."""
FRAME_MODES = ("count", "binary")

_AEDAT_PACKET_HEADER = np.dtype(
    [
        ("type", "<i2"),
        ("source", "<i2"),
        ("size", "<i4"),
        ("ts_offset", "<i4"),
        ("ts_overflow", "<i4"),
        ("capacity", "<i4"),
        ("number", "<i4"),
        ("valid", "<i4"),
    ]
)
_AEDAT_POLARITY = 1
_POLARITY_EVENT = np.dtype([("data", "<u4"), ("t", "<i4")])


def _events(t, x, y, p) -> np.ndarray:
    events = np.empty(len(t), EVENT_DTYPE)
    events["t"], events["x"], events["y"], events["p"] = t, x, y, p
    return events


def _existing(path, what: str) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path: no {what} file at {path!r}.")
    if os.path.getsize(path) == 0:
        raise ValueError(f"path: {path!r} is empty; allowed: a {what} file with at least one event.")
    return path


def read_nmnist(path: str | os.PathLike) -> np.ndarray:
    """The events of one N-MNIST ``.bin`` file (module doc), in file order.

    Raises:
      FileNotFoundError: no file at ``path``.
      ValueError: the file is empty, not a whole number of 5-byte events (truncated), or holds an
        address outside the 34 x 34 sensor (not an N-MNIST file).
    """
    path = _existing(path, "N-MNIST .bin")
    raw = np.fromfile(path, np.uint8)
    if raw.size % 5:
        raise ValueError(
            f"path: {path!r} has {raw.size} bytes; allowed: a multiple of 5 (one 40-bit word per event; "
            "truncated file?)."
        )
    words = raw.reshape(-1, 5).astype(np.int64)
    x, y = words[:, 0], words[:, 1]
    p = words[:, 2] >> 7
    t = ((words[:, 2] & 127) << 16) | (words[:, 3] << 8) | words[:, 4]
    overflow = y == NMNIST_OVERFLOW_Y
    t = t + NMNIST_OVERFLOW_US * np.cumsum(overflow)
    keep = ~overflow
    height, width = NMNIST_SENSOR
    if np.any(x[keep] >= width) or np.any(y[keep] >= height):
        raise ValueError(
            f"path: {path!r} has addresses up to x={x[keep].max()}, y={y[keep].max()}; allowed: the "
            f"{width} x {height} N-MNIST sensor (not an N-MNIST file?)."
        )
    return _events(t[keep], x[keep], y[keep], p[keep])


def read_shd(path: str | os.PathLike) -> tuple[list[np.ndarray], np.ndarray]:
    """The samples of an SHD ``.h5`` file: ``(events per sample, labels [N] int32)``; an audio
    spike is an event with ``x`` its channel, ``y = 0``, ``p = 0`` and ``t`` in microseconds
    (``round(time_s * 1e6)``).

    Raises:
      FileNotFoundError: no file at ``path``.
      ValueError: empty, not HDF5, without ``spikes/times``, ``spikes/units`` and ``labels``, with
        sample counts that disagree, with channels outside 0-699, labels outside 0-19 or spike times
        that are not finite and >= 0.
    """
    import h5py

    path = _existing(path, "SHD .h5")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"path: {path!r} is not an HDF5 file ({error}).") from error
    with handle:
        missing = [key for key in ("spikes/times", "spikes/units", "labels") if key not in handle]
        if missing:
            raise ValueError(
                f"path: {path!r} lacks {missing}; allowed: an SHD file (spikes/times, spikes/units, labels)."
            )
        times, units = handle["spikes/times"][:], handle["spikes/units"][:]
        raw_labels = np.asarray(handle["labels"][:])
    labels = raw_labels.astype(np.int32)
    if raw_labels.size and (not np.array_equal(labels, raw_labels) or labels.min() < 0 or labels.max() >= SHD_CLASSES):
        bad = sorted(set(raw_labels[(labels != raw_labels) | (labels < 0) | (labels >= SHD_CLASSES)].tolist()))
        raise ValueError(f"path: {path!r} has labels {bad[:5]}; allowed: integers 0-{SHD_CLASSES - 1}.")
    if not len(times) == len(units) == len(labels):
        raise ValueError(
            f"path: {path!r} has {len(times)} time arrays, {len(units)} unit arrays and {len(labels)} "
            "labels; allowed: one of each per sample."
        )
    samples = []
    for index, (time, unit) in enumerate(zip(times, units)):
        unit = np.asarray(unit, np.int64)
        if len(time) != len(unit) or (unit.size and (unit.min() < 0 or unit.max() >= SHD_CHANNELS)):
            raise ValueError(
                f"path: {path!r} sample {index} has {len(time)} times for {len(unit)} units, channels in "
                f"[{unit.min() if unit.size else 0}, {unit.max() if unit.size else 0}]; allowed: equal "
                f"lengths, channels 0-{SHD_CHANNELS - 1}."
            )
        time = np.asarray(time, np.float64)
        if time.size and (not np.all(np.isfinite(time)) or time.min() < 0):
            raise ValueError(
                f"path: {path!r} sample {index} has spike times that are NaN, infinite or negative; allowed: "
                "finite times >= 0 (seconds)."
            )
        samples.append(_events(np.round(time * 1e6), unit, 0, 0))
    return samples, labels


def read_aedat31(path: str | os.PathLike) -> np.ndarray:
    """The valid polarity events of an AEDAT 3.1 file (module doc), in file order.

    Raises:
      FileNotFoundError: no file at ``path``.
      ValueError: empty, no ``#!AER-DAT3.1`` header (another format or version), or a packet cut
        short (truncated file).
    """
    path = _existing(path, "AEDAT 3.1")
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.startswith(b"#!AER-DAT3.1"):
        raise ValueError(f"path: {path!r} starts with {data[:12]!r}; allowed: an AEDAT 3.1 file ('#!AER-DAT3.1').")
    start = 0
    while data.startswith(b"#", start):
        end = data.find(b"\n", start)
        if end < 0:
            raise ValueError(f"path: {path!r} ends inside its header; allowed: header lines, then event packets.")
        start = end + 1
    parts, offset = [], start
    while offset < len(data):
        if offset + _AEDAT_PACKET_HEADER.itemsize > len(data):
            raise ValueError(f"path: {path!r} ends {len(data) - offset} bytes into a packet header (truncated file).")
        header = np.frombuffer(data, _AEDAT_PACKET_HEADER, 1, offset)[0]
        offset += _AEDAT_PACKET_HEADER.itemsize
        length = int(header["size"]) * int(header["capacity"])
        if header["size"] <= 0 or header["capacity"] < 0 or offset + length > len(data):
            raise ValueError(
                f"path: {path!r} has a packet of {header['capacity']} events of {header['size']} bytes "
                f"with {len(data) - offset} bytes left (truncated or corrupt file)."
            )
        if header["type"] == _AEDAT_POLARITY:
            if header["size"] != _POLARITY_EVENT.itemsize:
                raise ValueError(f"path: {path!r} has polarity events of {header['size']} bytes; allowed: 8.")
            events = np.frombuffer(data, _POLARITY_EVENT, int(header["capacity"]), offset)
            valid = events[(events["data"] & 1) == 1]
            word = valid["data"].astype(np.int64)
            t = (int(header["ts_overflow"]) << 31) | valid["t"].astype(np.int64)
            parts.append(_events(t, (word >> 17) & 0x7FFF, (word >> 2) & 0x7FFF, (word >> 1) & 1))
        offset += length
    if not parts:
        raise ValueError(f"path: {path!r} has no polarity-event packet; allowed: a DVS recording.")
    return np.concatenate(parts)


def read_gesture_labels(path: str | os.PathLike) -> np.ndarray:
    """A DVS128-Gesture label file: ``[N, 3]`` int64 rows ``(class 1-11, start_us, end_us)``."""
    path = _existing(path, "gesture label (.csv)")
    try:
        rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise ValueError(
            f"path: {path!r} is not 'class,startTime_usec,endTime_usec' rows of integers ({error})."
        ) from error
    if rows.shape[1] != 3 or rows.shape[0] == 0 or np.any(rows[:, 2] <= rows[:, 1]):
        raise ValueError(
            f"path: {path!r} has rows of shape {rows.shape}; allowed: one or more rows (class, start, end) "
            "with end > start."
        )
    return rows


def bin_events(events: np.ndarray, timesteps: int, shape: tuple[int, ...], mode: str = "count") -> np.ndarray:
    """Time-major frames of one sample's events (module doc): ``[T, H, W, 2]`` for ``shape = (H, W)``
    or ``[T, channels]`` for ``shape = (channels,)`` (events' ``x``; polarity ignored), float32.

    Raises:
      ValueError: ``timesteps`` not an int >= 1, ``mode`` not in :data:`FRAME_MODES`, no events, or
        an event outside ``shape``.
    """
    checks.int_at_least(timesteps, "timesteps", 1)
    if mode not in FRAME_MODES:
        raise ValueError(f"mode: got {mode!r}; allowed: {list(FRAME_MODES)}.")
    if len(events) == 0:
        raise ValueError("events: got none; allowed: a sample with at least one event (its time span sets the bins).")
    t = events["t"].astype(np.int64)
    t0, span = t.min(), t.max() - t.min() + 1
    step = (t - t0) * timesteps // span
    x = events["x"].astype(np.int64)
    if len(shape) == 1:
        if x.min() < 0 or x.max() >= shape[0]:
            raise ValueError(f"events: channels in [{x.min()}, {x.max()}]; allowed: 0-{shape[0] - 1}.")
        frames = np.zeros((timesteps, shape[0]), np.float32)
        np.add.at(frames, (step, x), 1.0)
    else:
        height, width = shape
        y = events["y"].astype(np.int64)
        if x.min() < 0 or x.max() >= width or y.min() < 0 or y.max() >= height:
            raise ValueError(
                f"events: x in [{x.min()}, {x.max()}], y in [{y.min()}, {y.max()}]; allowed: a "
                f"{height} x {width} sensor."
            )
        frames = np.zeros((timesteps, height, width, 2), np.float32)
        np.add.at(frames, (step, y, x, events["p"].astype(np.int64)), 1.0)
    return np.minimum(frames, 1.0) if mode == "binary" else frames
