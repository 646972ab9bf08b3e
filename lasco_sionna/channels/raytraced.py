#
# SPDX-License-Identifier: Apache-2.0
#
"""Ray-traced environments: Sionna RT scenes with fixed BS sites and UEs dropped at continuous positions where paths exist

All ray tracing runs in the worker subprocess of
:mod:`lasco_sionna.channels.rt_worker`; this module never imports Mitsuba,
Dr.Jit or ``sionna.rt``, so it is safe after ``import tensorflow``.
"""

import numpy as np

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.environment import Environment, register_environment
from lasco_sionna.channels.rt_worker import get_worker
from lasco_sionna.utils.validation import (check_choice, check_number,
                                           check_positive, check_seed)

#: Batch size of the replacement drops for UEs without paths
_SPARE_BATCH = 16

#: Seed of the path solver unless ``solver_seed`` says otherwise (the value
#: every cached ray-traced dataset was traced with)
DEFAULT_SOLVER_SEED = 42

#: Directions drawn for a UE whose re-traced trajectory is blocked (a wall,
#: an overhang) before the UE is replaced by a fresh drop
_DIRECTION_DRAWS = 8

#: How snapshots ``num_time_steps > 1`` evolve (see ``time_model``)
TIME_MODELS = ("doppler", "retrace")

#: Scenes shipped with ``sionna-rt`` that are registered as environments
SCENES = ("munich", "etoile", "florence", "san_francisco",
          "simple_street_canyon", "simple_street_canyon_with_cars")


class RayTracedEnvironment(Environment):
    # pylint: disable=line-too-long
    r"""Downlink channels of a Sionna RT scene

    A BS (a ``bs_array`` planar array, synthetic array model) at one of
    ``num_sites`` fixed sites serves single-antenna (isotropic,
    V-polarised) UEs at ``ue_height``. Sample ``i`` of a draw belongs to
    site ``i % num_sites`` (recorded in the extra ``site``), so a scene holds
    links from several BS positions. UEs are dropped at uniformly random,
    continuous outdoor positions (a random point of a coverage-map cell, not
    its centre) where the coverage map of their site shows a path gain of
    at least ``min_gain_db`` (a fixed, seeded draw per chunk); paths are
    computed by
    :class:`~sionna.rt.PathSolver` for ``batch_size`` UEs at a time and
    converted to the OFDM subcarriers of ``numerology`` (delays normalised
    per UE, so tap 0 is the first arrival). The rare UE for which the path
    solver finds no path is replaced by a fresh drop (ordered after the
    first-pass UEs, so sample ``i`` is reproducible for a given seed).

    With ``ue_speed > 0`` every UE moves horizontally in a random (seeded)
    direction; ``num_time_steps > 1`` snapshots then follow from the Doppler
    shifts of the paths over *frozen geometry* (``time_model="doppler"``,
    valid over a few wavelengths), or from re-tracing the scene at every
    snapshot along the UE's straight trajectory (``time_model="retrace"``:
    paths appear, vanish and change delay and angle as the UE moves).
    :meth:`generate_trajectory` re-traces one given trajectory.

    Parameters
    ----------
    name : `str`, (default "rt")
        Registry name

    scene : `str`, (default "munich")
        One of :data:`SCENES`

    numerology : :class:`~lasco_sionna.channels.Numerology`, (default `Numerology()`)
        OFDM numerology (carrier frequency and subcarriers)

    bs_array : :class:`~lasco_sionna.channels.BSArray`, (default `BSArray()`)
        BS array (32-element ULA by default)

    seed : `int`, (default 0)
        Default seed of :meth:`generate`

    normalize : `bool`, (default `True`)
        Normalise each UE channel to unit mean energy per element

    num_sites : `int`, (default 1)
        Number of BS sites; the registered city scenes use 3

    bs_position : `None` (default) | [3] | [num_sites, 3], `float`
        BS site(s) [m]; `None` places them ``bs_height`` above whatever
        surface (ground or roof) lies below: site 0 above the centre of the
        scene, the others evenly on a circle around it of radius a quarter
        of the scene's smaller extent

    bs_height : `float`, (default 25.0)
        Mast height used when ``bs_position`` is `None` [m]

    bs_orientation : `None` (default) | [3] | [num_sites, 3], `float`
        BS array orientation (yaw, pitch, roll) [rad], Sionna RT convention,
        for all sites or per site; `None`: (0, 0, 0) for site 0 (or a given
        single site) and, for the other default sites, facing the scene
        centre

    bs_look_at : `None` (default) | [3] | [num_sites, 3], `float`
        Point the BS array looks at [m] (Sionna RT's ``look_at``), for all
        sites or per site; instead of ``bs_orientation``

    ue_height : `float`, (default 1.5)
        UE antenna height above the ground plane z = 0 [m]

    ue_speed : `float`, (default 0.0)
        UE speed [m/s] for time-varying channels

    min_gain_db : `float`, (default -130.0)
        Minimum path gain of a UE drop [dB] (coverage of a 44 dBm BS above
        a 7.68 MHz, 7 dB noise-figure receiver's noise floor; -110 covered
        only a few hundred metres around each site in the city scenes)

    min_ue_distance : `float`, (default 10.0)
        Minimum BS-UE distance [m]

    max_ue_distance : `None` (default) | `float`
        Maximum BS-UE distance [m]

    max_depth : `int`, (default 3)
        Maximum number of interactions of a path

    samples_per_src : `int`, (default 100000)
        Rays shot by the path solver (Sionna's default is 1e6: raise it on
        a GPU for completeness of weak paths)

    batch_size : `int`, (default 100)
        UEs traced per path-solver call

    cell_size : `float`, (default 5.0)
        Cell size of the coverage map used for UE drops [m]

    spare_fraction : `float`, (default 0.0)
        Extra UEs dropped and traced with the first pass of every chunk to
        replace UEs for which the path solver finds no path (a few percent
        in city scenes); the remaining replacements are traced in batches
        of 16. Measured on 2 CPU cores, 0 (the default) was fastest

    num_ue_ant : `int`, (default 1)
        UE antennas: a horizontal uniform linear array (half-wavelength
        spacing, isotropic, V-polarised). With ``num_ue_ant > 1``, ``h`` is
        ``[num_samples, 1, num_ue_ant, 1, num_bs_ant, T, F]`` and ``cir_a``
        ``[num_samples, num_ue_ant, num_bs_ant, cir_paths, T]``

    cir_paths : `None` (default) | `int`
        Paths of the channel impulse response stored with every sample
        (the strongest; 0 stores none): extras ``cir_a``
        [num_samples, num_bs_ant, cir_paths, num_time_steps] complex64
        (scaled like ``h``) and ``cir_tau`` [num_samples, cir_paths]
        float32 [s] (first arrival at 0; unused paths have ``a = 0``).
        `None`: 32 with ``time_model="doppler"``, 0 with ``"retrace"``
        (whose path delays change between snapshots, which one delay per
        path cannot hold; a positive value is refused there)

    solver_seed : `int`, (default 42)
        Seed of :class:`~sionna.rt.PathSolver`'s ray launching (the same
        for every path-solver call, so a UE's channel does not depend on the
        draw it belongs to); enters the dataset cache key only when changed

    time_model : "doppler" (default) | "retrace"
        How the ``num_time_steps`` snapshots of a UE evolve. "doppler": the
        paths traced at the UE's position, their phases rotated by their
        Doppler shifts (frozen geometry; one path-solver pass per UE).
        "retrace" (needs ``ue_speed > 0``): snapshot ``t`` is traced anew at
        ``ue_position + ue_velocity * t / sampling_frequency`` (horizontally,
        ``ue_height`` above the ground), i.e. ``num_time_steps`` path-solver
        passes per UE. UEs start from the same drops and directions as with
        "doppler"; a UE whose straight trajectory would leave the open air
        (walk through a wall or under an overhang) gets a new random
        direction (up to 8 draws; then it is replaced by a fresh drop, as
        is a UE without paths at some snapshot). The extra ``ue_trajectory``
        [num_samples, num_time_steps, 3] float64 holds the traced
        positions [m]. Splits go by ``ue_position`` (the start): the guard
        around training blocks (5 m by default) keeps test trajectories
        shorter than it out of training places. Enters the dataset cache
        key only when "retrace"
    """

    kind = "raytraced"

    def __init__(self, name="rt", scene="munich", numerology=Numerology(),
                 bs_array=BSArray(), seed=0, normalize=True,
                 num_sites=1, bs_position=None, bs_height=25.0,
                 bs_orientation=None, ue_height=1.5,
                 ue_speed=0.0, min_gain_db=-130.0, min_ue_distance=10.0,
                 max_ue_distance=None, max_depth=3, samples_per_src=100000,
                 batch_size=100, cell_size=5.0, spare_fraction=0.0,
                 cir_paths=None, bs_look_at=None, num_ue_ant=1,
                 solver_seed=DEFAULT_SOLVER_SEED, time_model="doppler"):
        super().__init__(name, numerology, bs_array, seed, normalize,
                         num_ue_ant)
        check_choice("scene", scene, SCENES)
        self.scene = scene
        self.num_sites = int(check_positive("num_sites", num_sites,
                                            integer=True))
        self.bs_position = _per_site("bs_position", bs_position,
                                     self.num_sites)
        self.bs_height = float(check_positive("bs_height", bs_height))
        self.bs_orientation = _per_site("bs_orientation", bs_orientation,
                                        self.num_sites)
        self.bs_look_at = _per_site("bs_look_at", bs_look_at, self.num_sites)
        if bs_look_at is not None and bs_orientation is not None:
            raise ValueError("give `bs_orientation` or `bs_look_at`, not both")
        self.ue_height = float(check_positive("ue_height", ue_height))
        self.ue_speed = float(check_positive("ue_speed", ue_speed,
                                             allow_zero=True))
        self.min_gain_db = float(check_number("min_gain_db", min_gain_db))
        self.min_ue_distance = float(check_positive(
            "min_ue_distance", min_ue_distance, allow_zero=True))
        self.max_ue_distance = None if max_ue_distance is None else float(
            check_positive("max_ue_distance", max_ue_distance))
        self.max_depth = int(check_positive("max_depth", max_depth,
                                            integer=True, allow_zero=True))
        self.samples_per_src = int(check_positive(
            "samples_per_src", samples_per_src, integer=True))
        self.batch_size = int(check_positive("batch_size", batch_size,
                                             integer=True))
        self.cell_size = float(check_positive("cell_size", cell_size))
        self.spare_fraction = float(check_positive(
            "spare_fraction", spare_fraction, allow_zero=True))
        self.time_model = check_choice("time_model", time_model, TIME_MODELS)
        retrace = time_model == "retrace"
        if retrace and self.ue_speed == 0:
            raise ValueError("`time_model`='retrace' needs a UE speed: "
                             f"`ue_speed` must be > 0, got {ue_speed!r}")
        if cir_paths is None:
            cir_paths = 0 if retrace else 32
        self.cir_paths = int(check_positive("cir_paths", cir_paths,
                                            integer=True, allow_zero=True))
        if retrace and self.cir_paths:
            raise ValueError("`time_model`='retrace' stores no impulse "
                             "response (path delays change between "
                             "snapshots): `cir_paths` must be 0 or None, "
                             f"got {cir_paths!r}")
        self.solver_seed = int(check_seed("solver_seed", solver_seed))
        self.last_traced_positions = None
        self._sites = None

    def _params(self):
        return {"scene": self.scene, "num_sites": self.num_sites,
                "bs_position": self.bs_position,
                "bs_height": self.bs_height,
                "bs_orientation": self.bs_orientation,
                "ue_height": self.ue_height, "ue_speed": self.ue_speed,
                "min_gain_db": self.min_gain_db,
                "min_ue_distance": self.min_ue_distance,
                "max_ue_distance": self.max_ue_distance,
                "max_depth": self.max_depth,
                "samples_per_src": self.samples_per_src,
                "batch_size": self.batch_size, "cell_size": self.cell_size,
                "spare_fraction": self.spare_fraction,
                "cir_paths": self.cir_paths,
                # Only when set: default datasets keep their cache keys
                **({} if self.bs_look_at is None else
                   {"bs_look_at": self.bs_look_at}),
                **({} if self.solver_seed == DEFAULT_SOLVER_SEED else
                   {"solver_seed": self.solver_seed}),
                **({} if self.time_model == "doppler" else
                   {"time_model": self.time_model})}

    @property
    def split_key(self):
        """`str` : ``"rt-<scene>"``: every dataset of a scene shares its location split"""
        return f"rt-{self.scene}"

    @property
    def sites(self):
        """[num_sites, 3], `float` : BS positions [m]"""
        if self._sites is None:
            self._sites = self.bs_position or get_worker().call(
                "default_sites", scene=self.scene, height=self.bs_height,
                num_sites=self.num_sites)
        return [list(p) for p in self._sites]

    @property
    def site_orientations(self):
        """[num_sites, 3], `float` : BS array orientations (yaw, pitch, roll) [rad]"""
        if self.bs_orientation is not None:
            return [list(o) for o in self.bs_orientation]
        if self.bs_position is not None:
            return [[0.0, 0.0, 0.0] for _ in range(self.num_sites)]
        # Default sites: site 0 at the centre with yaw 0, the others face it
        (cx, cy, _), *others = self.sites
        return [[0.0, 0.0, 0.0]] + [
            [float(np.arctan2(cy - y, cx - x)), 0.0, 0.0]
            for x, y, _ in others]

    def _bs(self, site=0):
        bs = {**self.bs_array.to_dict(), "position": self.sites[site],
              "orientation": self.site_orientations[site]}
        if self.bs_look_at is not None:
            bs["look_at"] = self.bs_look_at[site]
        if self.num_ue_ant != 1:
            bs["num_ue_ant"] = self.num_ue_ant
        return bs

    def drop_ues(self, num_ues, seed, site=0):
        """UE positions ``[num_ues, 3]`` [m] (seeded, continuous, outdoor, in coverage of ``site``)"""
        check_positive("num_ues", num_ues, integer=True)
        return get_worker().call(
            "drop_ues", scene=self.scene, bs=self._bs(site),
            carrier_frequency=self.numerology.carrier_frequency,
            num_ues=int(num_ues), seed=int(seed), ue_height=self.ue_height,
            min_gain_db=self.min_gain_db, min_dist=self.min_ue_distance,
            max_dist=self.max_ue_distance, cell_size=self.cell_size,
            samples_per_tx=1000000, max_depth=self.max_depth)

    def trace(self, positions, velocities=None, num_time_steps=1,
              sampling_frequency=1.0, batch_size=None, site=0, cir=False,
              first_delay=False):
        # pylint: disable=line-too-long
        r"""Raw (unnormalised) channels of UEs at given positions

        Input
        -----
        positions : [num_ues, 3], `float`
            UE positions [m]

        velocities : `None` (default) | [num_ues, 3], `float`
            UE velocities [m/s]

        num_time_steps : `int`, (default 1)
            Snapshots (Doppler over frozen geometry)

        sampling_frequency : `float`, (default 1.0)
            Snapshot rate [Hz]

        batch_size : `None` (default) | `int`
            UEs per path-solver call (the environment's if `None`)

        site : `int`, (default 0)
            BS site (index into :attr:`sites`)

        cir : `bool`, (default `False`)
            Also return the channel impulse responses (``cir_paths``
            strongest paths)

        first_delay : `bool`, (default `False`)
            Also return the absolute delay of every UE's first path (the
            delay normalisation of ``h`` removes its carrier phase; see
            :meth:`generate_trajectory`)

        Output
        ------
        h : [num_ues, (num_ue_ant,) num_bs_ant, num_time_steps, fft_size], `np.complex64`
            Channels; all-zero for UEs without any path. The
            ``num_ue_ant`` axis only if ``num_ue_ant > 1``

        a : [num_ues, (num_ue_ant,) num_bs_ant, cir_paths, num_time_steps], `np.complex64`
            Path coefficients (only if ``cir``)

        tau : [num_ues, cir_paths], `np.float32`
            Path delays [s], first arrival at 0 (only if ``cir``)

        tau_min : [num_ues], `np.float64`
            Absolute delay of the first path [s], `inf` for UEs without
            any path (only if ``first_delay``)
        """
        if cir and not self.cir_paths:
            raise ValueError("`cir=True` needs `cir_paths` > 0, got 0")
        positions = np.asarray(positions, np.float64)
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError("`positions` must have shape [num_ues, 3], got "
                             f"{positions.shape}")
        return get_worker().call(
            "trace", scene=self.scene, bs=self._bs(site),
            carrier_frequency=self.numerology.carrier_frequency,
            ue_positions=positions, ue_velocities=velocities,
            frequencies=self.numerology.frequencies,
            num_time_steps=int(num_time_steps),
            sampling_frequency=float(sampling_frequency),
            max_depth=self.max_depth, samples_per_src=self.samples_per_src,
            batch_size=int(batch_size or self.batch_size),
            seed=self.solver_seed, cir_paths=self.cir_paths if cir else 0,
            **({"first_delay": True} if first_delay else {}))

    def _velocities(self, num, rng):
        phi = rng.uniform(0.0, 2 * np.pi, num)
        return self.ue_speed * np.stack([np.cos(phi), np.sin(phi),
                                         np.zeros(num)], axis=1)

    def _generate(self, num_samples, seed, num_time_steps, sampling_frequency):
        counts = [len(range(k, num_samples, self.num_sites))
                  for k in range(self.num_sites)]
        parts = [self._generate_site(n, seed, k, num_time_steps,
                                     sampling_frequency)
                 for k, n in enumerate(counts) if n > 0]
        # Sample i belongs to site i % num_sites
        order = np.argsort(np.concatenate(
            [np.arange(k, num_samples, self.num_sites)
             for k, n in enumerate(counts) if n > 0]), kind="stable")
        h = np.concatenate([p[0] for p in parts])[order]
        extras = {k: np.concatenate([p[1][k] for p in parts])[order]
                  for k in parts[0][1]}
        #: All positions traced by the last call (incl. UEs without paths)
        self.last_traced_positions = np.concatenate([p[2] for p in parts])
        # [num_samples, num_ue_ant, num_bs_ant, num_time_steps, fft_size]
        h = h.reshape((num_samples, self.num_ue_ant) + h.shape[-3:])
        # [num_samples, 1, num_ue_ant, 1, num_bs_ant, num_time_steps, fft_size]
        h = h[:, np.newaxis, :, np.newaxis]
        return h, extras

    def _generate_site(self, num_samples, seed, site, num_time_steps,
                       sampling_frequency):
        """Channels of ``num_samples`` UEs of one site: ``(h, extras, traced)``"""
        rng = np.random.default_rng([seed, 0xD0, site])
        positions = np.zeros([0, 3])
        ue_ant = () if self.num_ue_ant == 1 else (self.num_ue_ant,)
        h = np.zeros((0,) + ue_ant + (self.num_bs_ant, num_time_steps,
                                      self.numerology.fft_size), np.complex64)
        velocities = np.zeros([0, 3])
        trajectories = np.zeros([0, num_time_steps, 3])
        retrace = self.time_model == "retrace"
        cir_a = np.zeros((0,) + ue_ant + (self.num_bs_ant, self.cir_paths,
                                          num_time_steps), np.complex64)
        cir_tau = np.zeros([0, self.cir_paths], np.float32)
        traced = []
        for attempt in range(10):
            need = num_samples - len(h)
            if need == 0:
                break
            # Spare UEs for the few without paths ride in the same
            # path-solver calls (a call has a large fixed cost). Batch shapes
            # depend only on the chunk size, because Dr.Jit compiles kernels
            # per shape; leftovers go in batches of a fixed small size.
            batch = self.batch_size if attempt == 0 else _SPARE_BATCH
            calls = -(-need // batch)
            per_call = batch if attempt else \
                -(-int(np.ceil(need * (1 + self.spare_fraction))) // calls)
            num = per_call * calls
            pos = self.drop_ues(num, seed=(seed * 7919 + attempt * 31 + site)
                                % 2 ** 31, site=site)
            vel = self._velocities(num, rng)
            if retrace:
                walk = np.random.default_rng([seed, 0xD1, site, attempt])
                traj, vel, clear = self._walk(pos, vel, num_time_steps,
                                              sampling_frequency, walk)
                hh = self._retrace(traj, per_call, site)
                traced.append(traj.reshape(-1, 3))
                # Paths at every snapshot, along a clear trajectory
                energy = np.sum(np.abs(hh) ** 2, axis=tuple(
                    a for a in range(1, hh.ndim) if a != hh.ndim - 2))
                ok = np.flatnonzero(clear & np.all(energy > 0, axis=1))
                trajectories = np.concatenate([trajectories,
                                               traj[ok[:need]]])
            else:
                out = self.trace(pos, vel if self.ue_speed > 0 else None,
                                 num_time_steps, sampling_frequency,
                                 batch_size=per_call, site=site,
                                 cir=self.cir_paths > 0)
                hh = out[0] if self.cir_paths else out
                traced.append(pos)
                ok = np.flatnonzero(np.sum(np.abs(hh) ** 2,
                                           axis=tuple(range(1, hh.ndim))) > 0)
            ok = ok[:need]
            positions = np.concatenate([positions, pos[ok]])
            velocities = np.concatenate([velocities, vel[ok]])
            h = np.concatenate([h, hh[ok]])
            if self.cir_paths:
                cir_a = np.concatenate([cir_a, out[1][ok]])
                cir_tau = np.concatenate([cir_tau, out[2][ok]])
        if len(h) < num_samples:
            length = self.ue_speed * (num_time_steps - 1) / \
                sampling_frequency
            walk = "" if not retrace else (
                f" and a clear trajectory of {length:g} m (shorten it: fewer "
                "snapshots, a lower speed or a shorter period)")
            raise RuntimeError(f"{self.name}: only {len(h)} of {num_samples} "
                               f"UEs dropped for site {site} have paths"
                               f"{walk}; lower `min_gain_db` or raise "
                               "`samples_per_src`")
        extras = {"ue_position": positions.astype(np.float32),
                  "ue_velocity": velocities.astype(np.float32),
                  "site": np.full([num_samples], site, np.int32)}
        if self.cir_paths:
            extras.update(cir_a=cir_a, cir_tau=cir_tau)
        if retrace:
            extras["ue_trajectory"] = trajectories
        return h, extras, np.concatenate(traced)

    def _walk(self, positions, velocities, num_time_steps,
              sampling_frequency, rng):
        # pylint: disable=line-too-long
        r"""Straight trajectories from ``positions``; blocked ones get new random directions

        Input
        -----
        positions : [num_ues, 3], `float`
            Start positions [m]

        velocities : [num_ues, 3], `float`
            Velocities [m/s], kept where the trajectory is clear

        num_time_steps : `int`
            Points per trajectory

        sampling_frequency : `float`
            Point rate [Hz]

        rng : `np.random.Generator`
            Draws the new directions

        Output
        ------
        trajectories : [num_ues, num_time_steps, 3], `np.float64`
            Points [m]

        velocities : [num_ues, 3], `np.float64`
            Velocities of the trajectories [m/s]

        clear : [num_ues], `np.bool_`
            Whether the trajectory is clear (`False`: still blocked after
            :data:`_DIRECTION_DRAWS` new directions)
        """
        velocities = np.array(velocities, np.float64)
        times = np.arange(num_time_steps) / sampling_frequency
        todo = np.arange(len(positions))
        traj = np.zeros([len(positions), num_time_steps, 3])
        clear = np.zeros([len(positions)], bool)
        for draw in range(_DIRECTION_DRAWS + 1):
            if draw:
                velocities[todo] = self._velocities(len(todo), rng)
            traj[todo], clear[todo] = get_worker().call(
                "trajectories", scene=self.scene, starts=positions[todo],
                velocities=velocities[todo], times=times,
                ue_height=self.ue_height)
            todo = todo[~clear[todo]]
            if not len(todo):
                break
        return traj, velocities, clear

    def _retrace(self, trajectories, batch_size, site):
        # pylint: disable=line-too-long
        r"""Raw channels along trajectories, every point traced as a static UE

        Every snapshot has its delays normalised (first arrival at 0, as a
        UE's timing tracks it) but keeps the carrier phase of the path
        lengths: Sionna's delay normalisation removes
        :math:`e^{-j2\pi f_c\tau_\text{min}(t)}` at every point, so snapshot
        :math:`t` is multiplied by
        :math:`e^{-j2\pi f_c(\tau_\text{min}(t)-\tau_\text{min}(0))}`
        (without it a UE's channel would not rotate with the first path's
        length: no Doppler of the first path). Snapshot 0 is the static
        channel at the start, as with Doppler over frozen geometry.

        Input
        -----
        trajectories : [num_ues, num_time_steps, 3], `float`
            Points [m]

        batch_size : `int`
            UEs per path-solver call (one call traces one time step of
            ``batch_size`` UEs: every call has the same shape)

        site : `int`
            BS site

        Output
        ------
        h : [num_ues, (num_ue_ant,) num_bs_ant, num_time_steps, fft_size], `np.complex64`
            Channels; all-zero at points without any path
        """
        num, num_steps = trajectories.shape[:2]
        # Time-major: [num_time_steps * num_ues, 3]
        points = np.swapaxes(trajectories, 0, 1).reshape(-1, 3)
        # [num_time_steps * num_ues, (num_ue_ant,) num_bs_ant, 1, fft_size]
        # and [num_time_steps * num_ues]
        h, tau = self.trace(points, batch_size=batch_size, site=site,
                            first_delay=True)
        # [num_time_steps, num_ues]
        tau = tau.reshape(num_steps, num)
        # Each UE's phase reference: its first snapshot with a path
        # [num_ues]
        ref = tau[np.argmax(np.isfinite(tau), axis=0), np.arange(num)]
        with np.errstate(invalid="ignore"):
            shift = tau - ref
        # Points without paths: h is zero there, no rotation
        shift = np.where(np.isfinite(shift), shift, 0.0)
        rotation = np.exp(-2j * np.pi * self.numerology.carrier_frequency
                          * shift)
        # [num_time_steps, num_ues, (num_ue_ant,) num_bs_ant, fft_size]
        h = h.reshape((num_steps, num) + h.shape[1:-2] + h.shape[-1:])
        h = h * rotation.reshape(rotation.shape + (1,) * (h.ndim - 2))
        # [num_ues, (num_ue_ant,) num_bs_ant, num_time_steps, fft_size]
        return np.moveaxis(h, 0, -2).astype(np.complex64)

    def generate_trajectory(self, start, velocity, num_steps, step_duration,
                            site=0):
        # pylint: disable=line-too-long
        r"""Re-traced channels along a straight trajectory

        Every point ``start + velocity * t`` (``t = i * step_duration``) is
        traced (one receiver per point, in batches), so the geometry evolves,
        unlike Doppler over frozen geometry. Delays are normalised per point
        (first arrival at 0) and the carrier phase follows the first path's
        length, as with ``time_model="retrace"``. Unlike that time model,
        the point is not moved to ``ue_height`` above the ground nor
        checked for walls.

        Input
        -----
        start : [3], `float`
            Start position [m]

        velocity : [3], `float`
            Velocity [m/s]

        num_steps : `int`
            Number of points

        step_duration : `float`
            Time between points [s]

        site : `int`, (default 0)
            BS site

        Output
        ------
        h : [num_steps, 1, num_ue_ant, 1, num_bs_ant, 1, fft_size], `np.complex64`
            Channels, normalised jointly (unit mean energy per element over
            the trajectory) if the environment normalises
        """
        check_positive("num_steps", num_steps, integer=True)
        check_positive("step_duration", step_duration)
        start = np.asarray(start, np.float64).reshape(3)
        velocity = np.asarray(velocity, np.float64).reshape(3)
        t = np.arange(num_steps)[:, None] * step_duration
        # [1, num_steps, 3]
        points = (start + velocity * t)[np.newaxis]
        # [1, (num_ue_ant,) num_bs_ant, num_steps, fft_size]
        h = self._retrace(points, self.batch_size, site)
        if self.normalize:
            energy = np.mean(np.abs(h) ** 2)
            if energy <= 0:
                raise ValueError("no path along the trajectory")
            h = h / np.sqrt(energy)
        # [num_steps, (num_ue_ant,) num_bs_ant, fft_size]
        h = np.moveaxis(h[0], -2, 0)
        # [num_steps, num_ue_ant, num_bs_ant, 1, fft_size]
        h = h.reshape((num_steps, self.num_ue_ant) + h.shape[-2:])[
            :, :, :, np.newaxis]
        # [num_steps, 1, num_ue_ant, 1, num_bs_ant, 1, fft_size]
        return h[:, None, :, None].astype(np.complex64)


def _per_site(name, value, num_sites):
    """``None``, or ``value`` ([3] or [num_sites, 3] finite) as ``num_sites`` lists of 3 floats"""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (3,):
        arr = np.tile(arr, (num_sites, 1))
    if arr.shape != (num_sites, 3) or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be 3 finite values or {num_sites} "
                         f"(`num_sites`) rows of 3, got {value!r}")
    return arr.tolist()


def _register_builtin():
    descriptions = {
        "munich": "Sionna RT Munich old town (urban macro, 1.5 x 1.2 km)",
        "etoile": "Sionna RT Paris Etoile (radial avenues, 0.85 x 0.7 km)",
        "florence": "Sionna RT Florence centre (dense old town, 1 x 1.1 km)",
        "san_francisco": "Sionna RT San Francisco (high-rise, 1.2 x 0.9 km)",
        "simple_street_canyon": "Sionna RT street canyon (190 x 120 m)",
        "simple_street_canyon_with_cars":
            "Sionna RT street canyon with parked cars (190 x 120 m)",
    }
    for scene, desc in descriptions.items():
        sites = 1 if scene.startswith("simple_street_canyon") else 3
        def factory(name, _scene=scene, _sites=sites, **kwargs):
            # One given BS position means one site, unless num_sites says so
            if np.shape(kwargs.get("bs_position")) == (3,):
                _sites = 1
            return RayTracedEnvironment(name=name, scene=_scene,
                                        **{"num_sites": _sites, **kwargs})
        where = ("BS 25 m above the scene centre" if sites == 1 else
                 f"{sites} BS sites 25 m above roof or ground (centre and a "
                 "ring around it)")
        register_environment(f"rt-{scene}", factory, "raytraced",
                             f"{desc}; {where}", fixed={"scene": scene})


_register_builtin()
