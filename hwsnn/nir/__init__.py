"""NIR, the neuromorphic intermediate representation: bring a network in from snnTorch, Norse,
Sinabs, SpikingJelly or Spyx, or take one out to them and to neuromorphic chips.

* :func:`export` turns an :class:`~hwsnn.layers.SNN` into a ``nir.NIRGraph`` (and a file);
* :func:`load` turns a graph or a NIR file into an :class:`~hwsnn.layers.SNN` you can train (also on
  crossbars), cost and export again.

The mapping (continuous NIR time constants <-> hwsnn decays per step ``dt``, resets, layouts) is
written out in :mod:`hwsnn.nir.neurons` and :func:`export`; in short: ``beta = 1 - dt / tau``, only
zero resets exist in NIR 1.0 (a subtract reset is refused), data is channel-first in NIR and
channel-last in hwsnn, NIR 1.0 has no max pooling (refused). snnTorch uses ``dt = 1e-4``, the default.
"""

from hwsnn.nir.graph import DT, export, load

__all__ = ["DT", "export", "load"]
