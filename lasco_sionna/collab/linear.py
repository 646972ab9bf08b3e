#
# SPDX-License-Identifier: Apache-2.0
#
"""E-LASCO with linear SAMs: LMMSE reference/proxy decoders and least-squares collaboration coefficients"""

import time
from dataclasses import dataclass

import numpy as np

from lasco_sionna.collab.adapt import cached_outputs
from lasco_sionna.collab.combiner import (CollaborationCombiner,
                                          CollaborativeDecoder)
from lasco_sionna.csi.image_stats import image_mse
from lasco_sionna.models.encoder import LinearProjectionEncoder
from lasco_sionna.models.lmmse import LMMSEDecoder, lmmse_gain
from lasco_sionna.models.pretrained import load_source_covariance
from lasco_sionna.utils.validation import check_choice, check_instance

#: Default candidate weights of the source covariance in the proxy's covariance
SHRINKAGE_GRID = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


@dataclass
class LinearAdaptationResult:
    """Outcome of :func:`adapt_linear`

    Parameters
    ----------
    proxy : :class:`~lasco_sionna.models.LMMSEDecoder`
        Linear proxy SAM: LMMSE decoder of the target covariance shrunk
        towards the source covariance

    reference : :class:`~lasco_sionna.models.LMMSEDecoder`
        Linear reference SAM: LMMSE decoder of the source covariance

    combiner : :class:`~lasco_sionna.collab.CollaborationCombiner`
        Collaboration coefficients, ``coefficients`` of shape [3, 1, 1, 1]
        (``"lasco"``: ones; ``"scalar"``), [3, 1, 1, num_taps] (``"tap"``)
        or [3, 1, num_ant, 1] (``"antenna"``), `tf.float32`; least squares
        except for ``"lasco"``

    shrinkage : `float`
        Selected weight of the source covariance (1 = the unadapted LAM)

    val_nmse_db : `float`
        Validation NMSE of the combination [dB] (the split it was fitted
        and selected on: optimistic)

    zero_shot_val_nmse_db : `float`
        Validation NMSE of the LAM alone [dB]

    num_trainable : `int`
        Fitted coefficients

    wall_time_s : `float`
        Adaptation time (LAM inference on the validation data included) [s]
    """

    proxy: object
    reference: object
    combiner: object
    shrinkage: float
    val_nmse_db: float
    zero_shot_val_nmse_db: float
    num_trainable: int
    wall_time_s: float

    @property
    def num_adapted(self):
        """`int` : Adapted state: the fitted coefficients plus, when the
        proxy was estimated from target data (``shrinkage < 1``), the
        entries of its LMMSE gain ``G`` ([D, num_measurements]). A linear
        proxy has no trainable parameters, but its gain is target state
        all the same"""
        gain = 0 if self.proxy is self.reference else \
            int(np.prod(self.proxy.gain.shape))
        return self.num_trainable + gain

    def decoder(self, lam):
        """The adapted decoder :class:`~lasco_sionna.collab.CollaborativeDecoder`
        around ``lam`` (the same LAM that was adapted to)"""
        return CollaborativeDecoder(lam, self.proxy, self.reference,
                                    self.combiner)


def _least_squares(parts, x, mode):
    """Coefficients ``(a, b, c)`` per group minimising ``||a y_lam + b y_proxy - c y_ref - x||^2``

    ``parts`` is [n, 3, 2, num_ant, num_taps] holding ``(y_lam, y_proxy,
    -y_ref)``; returns [3, groups]."""
    if mode == "scalar":
        # [1, n, 3, 2, num_ant, num_taps], [1, n, 2, num_ant, num_taps]
        p_g, x_g = parts[np.newaxis], x[np.newaxis]
    else:
        axis = {"tap": -1, "antenna": -2}[mode]
        # [groups, n, 3, 2, ...], [groups, n, 2, ...]
        p_g, x_g = np.moveaxis(parts, axis, 0), np.moveaxis(x, axis, 0)
    coef = []
    for p, t in zip(p_g, x_g):
        # [n * rest, 3]
        design = np.moveaxis(p, 1, -1).reshape(-1, 3).astype(np.float64)
        coef.append(np.linalg.lstsq(design, t.reshape(-1).astype(np.float64),
                                    rcond=None)[0])
    # [3, groups]
    return np.stack(coef, axis=1)


def adapt_linear(lam, encoder, x_train, x0_val, x_val, source_covariance=None,
                 mode="tap", shrinkage_grid=SHRINKAGE_GRID):
    # pylint: disable=line-too-long
    r"""Adapt to a target environment with linear SAMs, without training

    LASCO/E-LASCO ``a f_LAM + b g_P - c g_R`` where the reference SAM
    ``g_R`` is the LMMSE decoder of the source covariance and the proxy SAM
    ``g_P`` the LMMSE decoder of the target sample covariance (from
    ``x_train``) shrunk towards it, ``(1 - w) C_target + w C_source``. For
    every shrinkage weight ``w`` the coefficients are fitted by least
    squares on the validation split (``mode="lasco"`` keeps them at 1), and
    the ``w`` with the lowest validation error of the combination is kept.
    ``w = 1`` (proxy = reference, i.e. the LAM alone) is always a
    candidate, so the result is never worse than the LAM on the validation
    split (on which it is fitted and selected: ``val_nmse_db`` is
    optimistic, judge on held-out data). Both LMMSE decoders use the
    quantisation-noise variance measured on ``x_train`` (the feedback the
    target's users send), so the reference is the source-covariance LMMSE
    decoder *for the target's feedback*. The LAM is a black box: it is
    called once on the validation data and never differentiated.
    ``D = 2 num_ant num_taps``.

    Input
    -----
    lam : `callable`
        ``[batch, 2, num_ant, num_taps] -> [batch, 2, num_ant, num_taps]``

    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        The UE encoder of the feedback

    x_train : [num_train >= 2, 2, num_ant, num_taps], `np.float32`
        Target images the covariance is estimated from

    x0_val, x_val : [num_val, 2, num_ant, num_taps], `np.float32`
        Validation split: coarse inversions and true images

    source_covariance : [D, D] `np.ndarray` | `None` (default)
        Second-moment matrix of the source images; `None` loads the shipped
        one (:func:`~lasco_sionna.models.load_source_covariance`)

    mode : "lasco" | "scalar" | "tap" (default) | "antenna"
        Collaboration coefficients

    shrinkage_grid : `sequence` of `float` in [0, 1]
        Candidate weights ``w`` (1 is always added)

    Output
    ------
    result : :class:`LinearAdaptationResult`
    """
    check_instance("encoder", encoder, LinearProjectionEncoder)
    check_choice("mode", mode, ("lasco", "scalar", "tap", "antenna"))
    shape = (2, encoder.num_ant, encoder.num_taps)
    for name, a in (("x_train", x_train), ("x0_val", x0_val),
                    ("x_val", x_val)):
        if np.ndim(a) != 4 or np.shape(a)[1:] != shape or len(a) < 2:
            raise ValueError(f"`{name}` must have shape [n >= 2, {shape[0]}"
                             f", {shape[1]}, {shape[2]}], got "
                             f"{np.shape(a)}")
    if len(x0_val) != len(x_val):
        raise ValueError(f"`x0_val` ({len(x0_val)}) and `x_val` "
                         f"({len(x_val)}) must have the same length")
    grid = sorted({float(w) for w in shrinkage_grid} | {1.0})
    if grid[0] < 0.0 or grid[-1] > 1.0:
        raise ValueError(f"`shrinkage_grid` values must be in [0, 1], got "
                         f"{list(shrinkage_grid)}")
    dim = 2 * encoder.num_ant * encoder.num_taps
    if source_covariance is None:
        source_covariance, _ = load_source_covariance(encoder.num_ant,
                                                      encoder.num_taps)
    elif np.shape(source_covariance) != (dim, dim):
        raise ValueError(f"`source_covariance` must have shape [{dim}, {dim}]"
                         f" (D = 2 num_ant num_taps), got "
                         f"{np.shape(source_covariance)}")
    t_start = time.perf_counter()
    x_val = np.asarray(x_val, np.float32)
    y_lam = cached_outputs(lam, x0_val)
    err0 = image_mse(y_lam, x_val)

    # Target sample covariance, computed once for all shrinkage weights
    _, c_hat = lmmse_gain(encoder, x_train)

    def decoder(w):
        dec = LMMSEDecoder(encoder.get_config())
        dec.set_gain(lmmse_gain(encoder, x_train, shrinkage=w,
                                prior=source_covariance,
                                sample_covariance=c_hat)[0])
        return dec

    reference = decoder(1.0)
    y_ref = cached_outputs(reference, x0_val)
    groups = {"lasco": (3, 1, 1, 1), "scalar": (3, 1, 1, 1),
              "tap": (3, 1, 1, encoder.num_taps),
              "antenna": (3, 1, encoder.num_ant, 1)}[mode]
    best = None
    for w in grid:
        proxy = reference if w == 1.0 else decoder(w)
        # [num_val, 3, 2, num_ant, num_taps]
        parts = np.stack([y_lam, cached_outputs(proxy, x0_val), -y_ref],
                         axis=1)
        coef = np.ones((3, 1)) if mode == "lasco" else \
            _least_squares(parts, x_val, mode)
        # [3, 1, num_ant | 1, num_taps | 1]
        coef = coef.reshape(groups)
        # [num_val, 2, num_ant, num_taps]
        y = np.sum(parts * coef[np.newaxis], axis=1)
        err = image_mse(y, x_val)
        if best is None or err < best[0]:
            best = (err, w, proxy, coef)
    err, w, proxy, coef = best
    if err > err0:
        # Only reachable through rounding: fall back to the LAM alone
        # (proxy = reference, so LASCO's unit coefficients give the LAM)
        err, w, proxy = err0, 1.0, reference
        if mode != "lasco":
            coef = np.zeros(groups)
            coef[0] = 1.0
    combiner = CollaborationCombiner(mode, encoder.num_ant, encoder.num_taps)
    combiner([y_lam[:1]] * 3)
    combiner.coefficients.assign(coef.astype(np.float32))
    p = float(np.mean(np.sum(x_val ** 2, axis=(1, 2, 3))))
    return LinearAdaptationResult(
        proxy=proxy, reference=reference, combiner=combiner, shrinkage=w,
        val_nmse_db=float(10 * np.log10(err / p)),
        zero_shot_val_nmse_db=float(10 * np.log10(err0 / p)),
        num_trainable=0 if mode == "lasco" else int(coef.size),
        wall_time_s=time.perf_counter() - t_start)
