#
# SPDX-License-Identifier: Apache-2.0
#
"""Sionna RT in a persistent worker subprocess

Importing TensorFlow before Mitsuba/Dr.Jit and then ray tracing crashes the
process (LLVM clash: abort at exit or segfault in the path solver). The
parent process (yours, with TensorFlow) therefore never imports Mitsuba,
Dr.Jit or ``sionna.rt``: :class:`RTWorker` starts a child interpreter that
imports ``sionna.rt`` *first* and serves ray-tracing requests over a pipe,
returning NumPy arrays. The child never imports TensorFlow.

Protocol: length-prefixed pickles on the child's stdin/stdout. The child
moves its own fd 1 to stderr so that prints of Mitsuba or Sionna cannot
corrupt the protocol stream.
"""

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading

_HEADER = struct.Struct("<Q")


def _send(stream, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream):
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


class RTWorker:
    """Client of one ray-tracing worker subprocess

    The subprocess starts at the first :meth:`call` and lives until
    :meth:`close` (or interpreter exit). Calls are serialised by a lock.
    """

    def __init__(self):
        self._proc = None
        self._lock = threading.Lock()

    def _start(self):
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        # Run this file by path: importing the lasco_sionna.channels package
        # would pull in TensorFlow, which the worker does not need
        code = ("import sionna.rt, runpy; runpy.run_path("
                f"{os.path.abspath(__file__)!r}, run_name='__main__')")
        self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-c", code], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env)

    def call(self, function, **kwargs):
        """Run ``function`` of the worker with ``kwargs``; return its result

        Input
        -----
        function : `str`
            Name of a function in :data:`FUNCTIONS`

        kwargs :
            Its keyword arguments (picklable)

        Output
        ------
        result :
            Its return value (NumPy arrays, dicts, ...)
        """
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            try:
                _send(self._proc.stdin, (function, kwargs))
                reply = _recv(self._proc.stdout)
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None:
                code = self._proc.wait()
                self._proc = None
                raise RuntimeError(f"the ray-tracing worker died (exit code "
                                   f"{code}) during {function!r}; see its "
                                   "messages above on stderr")
            status, value = reply
            if status == "error":
                raise RuntimeError(f"ray tracing failed in the worker "
                                   f"({function}):\n{value}")
            return value

    def close(self):
        """Stop the worker subprocess"""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(timeout=30)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
            self._proc = None


_WORKER = None


def get_worker():
    """:class:`RTWorker` shared by the process (started lazily)"""
    global _WORKER  # pylint: disable=global-statement
    if _WORKER is None:
        _WORKER = RTWorker()
        atexit.register(_WORKER.close)
    return _WORKER


# ---------------------------------------------------------------------------
# Child side: everything below runs in the worker (sionna.rt imported first)
# ---------------------------------------------------------------------------

_SCENES = {}
_RADIO_MAPS = {}
_CONFIGURED = {}
_SOLVERS = {}


def _scene(name):
    import sionna.rt  # pylint: disable=import-outside-toplevel
    if name not in _SCENES:
        if not hasattr(sionna.rt.scene, name):
            raise ValueError(f"unknown Sionna RT scene {name!r}")
        _SCENES[name] = sionna.rt.load_scene(getattr(sionna.rt.scene, name),
                                             merge_shapes=True)
    return _SCENES[name]


def _configure(scene_name, bs, carrier_frequency):
    """Load a scene, set arrays and the BS ``"bs"`` at ``bs``'s site; remove all receivers

    Arrays and frequency are only reset when they change: that invalidates
    Dr.Jit's compiled kernels. Moving the BS to another site (position,
    orientation) does not, so the sites of a multi-site scene share kernels.
    """
    # pylint: disable=import-outside-toplevel
    import mitsuba as mi
    from sionna.rt import PlanarArray, Transmitter
    scene = _scene(scene_name)
    site = {"position": [float(v) for v in bs["position"]],
            "orientation": [float(v) for v in bs["orientation"]]}
    look_at = bs.get("look_at")
    arrays = {k: v for k, v in bs.items() if k not in site and k != "look_at"}
    key = (repr(sorted(arrays.items())), float(carrier_frequency))
    if _CONFIGURED.get(scene_name) != key:
        scene.frequency = float(carrier_frequency)
        scene.tx_array = PlanarArray(
            num_rows=bs["num_rows"], num_cols=bs["num_cols"],
            vertical_spacing=0.5, horizontal_spacing=0.5,
            pattern="tr38901" if bs["pattern"] == "38.901" else "iso",
            polarization="V" if bs["polarization"] == "single" else "cross")
        # UEs: a horizontal ULA of num_ue_ant isotropic V elements
        scene.rx_array = PlanarArray(num_rows=1,
                                     num_cols=int(bs.get("num_ue_ant", 1)),
                                     vertical_spacing=0.5,
                                     horizontal_spacing=0.5, pattern="iso",
                                     polarization="V")
        for name in list(scene.transmitters):
            scene.remove(name)
        scene.add(Transmitter("bs", **site))
        _CONFIGURED[scene_name] = key
    tx = scene.transmitters["bs"]
    tx.position = site["position"]
    if look_at is None:
        tx.orientation = site["orientation"]
    else:
        tx.look_at(mi.Point3f(*[float(v) for v in look_at]))
    for name in list(scene.receivers):
        scene.remove(name)
    return scene


def scene_info(scene):
    """Bounding box of a scene: ``{"min": [x, y, z], "max": [x, y, z]}``"""
    bbox = _scene(scene).mi_scene.bbox()
    return {"min": [float(v) for v in bbox.min],
            "max": [float(v) for v in bbox.max]}


def _surface_height(scene, x, y):
    """Height of the highest surface (roof or ground) below ``(x, y)`` [m]"""
    import mitsuba as mi  # pylint: disable=import-outside-toplevel
    top = scene_info(scene)["max"][2] + 10.0
    ray = mi.Ray3f(mi.Point3f(float(x), float(y), top),
                   mi.Vector3f(0.0, 0.0, -1.0))
    si = _scene(scene).mi_scene.ray_intersect(ray)
    return float((top - si.t)[0]) if bool(si.is_valid()[0]) else 0.0


def default_sites(scene, height, num_sites):
    """``num_sites`` BS sites ``height`` metres above the roof or ground below them

    Site 0 is above the scene centre; sites ``1..num_sites-1`` lie evenly
    spaced on a circle around it, of radius a quarter of the smaller
    horizontal extent of the scene (first one on the +x side).

    Output
    ------
    sites : [num_sites, 3], `list` of `float`
        Positions [m]
    """
    import numpy as np  # pylint: disable=import-outside-toplevel
    info = scene_info(scene)
    cx = 0.5 * (info["min"][0] + info["max"][0])
    cy = 0.5 * (info["min"][1] + info["max"][1])
    radius = 0.25 * min(info["max"][0] - info["min"][0],
                        info["max"][1] - info["min"][1])
    xy = [(cx, cy)]
    for k in range(int(num_sites) - 1):
        phi = 2 * np.pi * k / (int(num_sites) - 1)
        xy.append((cx + radius * np.cos(phi), cy + radius * np.sin(phi)))
    return [[float(x), float(y), _surface_height(scene, x, y) + float(height)]
            for x, y in xy]


def drop_ues(scene, bs, carrier_frequency, num_ues, seed, ue_height,
             min_gain_db, min_dist, max_dist, cell_size, samples_per_tx,
             max_depth):
    """UE positions ``[num_ues, 3]`` where a radio map shows coverage

    The coverage map (path gain from the BS on a horizontal plane at
    ``ue_height`` covering the scene, or on the terrain mesh of hilly scenes)
    is cached per configuration (and BS site); UEs are drawn in cells with
    path gain >= ``min_gain_db`` at distances in ``[min_dist, max_dist]``
    from the BS, at a *uniform random position within the cell* (not its
    centre), so that no two drops share a position.
    """
    # pylint: disable=import-outside-toplevel
    import numpy as np
    from sionna.rt import RadioMapSolver
    key = (scene, repr(bs), carrier_frequency, ue_height, cell_size,
           samples_per_tx, max_depth)
    if key not in _RADIO_MAPS:
        sc = _configure(scene, bs, carrier_frequency)
        if "radio_map_solver" not in _SOLVERS:
            _SOLVERS["radio_map_solver"] = RadioMapSolver()
        solver = _SOLVERS["radio_map_solver"]
        terrain = sc.objects.get("Terrain")
        if terrain is not None:
            # Hilly scene (san_francisco): coverage on the terrain mesh
            _RADIO_MAPS[key] = solver(
                sc, measurement_surface=terrain,
                samples_per_tx=samples_per_tx, max_depth=max_depth)
        else:
            info = scene_info(scene)
            center = [0.5 * (info["min"][0] + info["max"][0]),
                      0.5 * (info["min"][1] + info["max"][1]),
                      float(ue_height)]
            size = [info["max"][0] - info["min"][0],
                    info["max"][1] - info["min"][1]]
            _RADIO_MAPS[key] = solver(
                sc, center=center, orientation=[0.0, 0.0, 0.0], size=size,
                cell_size=[float(cell_size)] * 2,
                samples_per_tx=samples_per_tx, max_depth=max_depth)
    rm = _RADIO_MAPS[key]
    pos = np.zeros([0, 3])
    for attempt in range(8):
        # Oversample, then keep outdoor positions (the measurement plane
        # cuts through buildings, which refraction lets rays enter)
        cand, _ = rm.sample_positions(
            num_pos=3 * int(num_ues), metric="path_gain",
            min_val_db=min_gain_db, min_dist=min_dist, max_dist=max_dist,
            center_pos=False,
            seed=(int(seed) * 9973 + attempt) % 2 ** 31)
        cand = np.asarray(cand.numpy() if hasattr(cand, "numpy") else cand,
                          dtype=np.float64).reshape(-1, 3)
        cand = cand[np.all(np.isfinite(cand), axis=1)]
        # UEs ue_height above the ground (flat scenes: z = 0)
        cand[:, 2] = _ground_height(scene, cand) + ue_height
        pos = np.concatenate([pos, cand[_outdoor(scene, cand)]])
        if len(pos) >= num_ues:
            return pos[:num_ues]
    raise ValueError(f"no coverage: could not drop {num_ues} outdoor UEs "
                     f"with path gain >= {min_gain_db} dB at distances "
                     f"[{min_dist}, {max_dist}] m in {scene!r}")


def _ground_height(scene, positions):
    """Height of the lowest surface below/above each (x, y) (the ground)"""
    # pylint: disable=import-outside-toplevel
    import mitsuba as mi
    import numpy as np
    if len(positions) == 0:
        return np.zeros([0])
    p = np.asarray(positions, np.float32)
    z0 = scene_info(scene)["min"][2] - 10.0
    ray = mi.Ray3f(mi.Point3f(p[:, 0], p[:, 1], np.full(len(p), z0,
                                                         np.float32)),
                   mi.Vector3f(0.0, 0.0, 1.0))
    si = _scene(scene).mi_scene.ray_intersect(ray)
    t = np.asarray(si.t, np.float64)
    return np.where(np.asarray(si.is_valid(), bool), z0 + t, 0.0)


def _outdoor(scene, positions):
    """`bool` mask of positions with open sky above (no surface hit upwards)"""
    # pylint: disable=import-outside-toplevel
    import mitsuba as mi
    import numpy as np
    if len(positions) == 0:
        return np.zeros([0], bool)
    p = np.asarray(positions, np.float32)
    ray = mi.Ray3f(mi.Point3f(p[:, 0], p[:, 1], p[:, 2]),
                   mi.Vector3f(0.0, 0.0, 1.0))
    hit = _scene(scene).mi_scene.ray_test(ray)
    return ~np.asarray(hit, bool)


def trajectories(scene, starts, velocities, times, ue_height):
    # pylint: disable=line-too-long
    r"""Straight trajectories at UE height over the ground, and whether a UE can walk them

    Point ``t`` of UE ``i`` lies at ``starts[i] + velocities[i] * times[t]``
    horizontally (the vertical velocity is ignored), ``ue_height`` above the
    ground below it (the lowest surface, as for UE drops; a constant height
    in flat scenes), except point 0, which is ``starts[i]`` itself. A
    trajectory is *clear* if all its points are outdoors (open sky above)
    and no surface lies between consecutive points (it does not walk
    through a wall).

    Input
    -----
    scene : `str`
        Sionna RT scene

    starts : [num_ues, 3], `float`
        Start positions [m]

    velocities : [num_ues, 3], `float`
        Velocities [m/s]

    times : [num_time_steps], `float`
        Times of the points [s], from 0

    ue_height : `float`
        UE height above the ground [m]

    Output
    ------
    positions : [num_ues, num_time_steps, 3], `np.float64`
        Trajectory points [m]

    clear : [num_ues], `np.bool_`
        Whether each trajectory stays outdoors and crosses no surface
    """
    # pylint: disable=import-outside-toplevel
    import mitsuba as mi
    import numpy as np
    starts = np.asarray(starts, np.float64).reshape(-1, 3)
    velocities = np.asarray(velocities, np.float64).reshape(-1, 3)
    times = np.asarray(times, np.float64).reshape(-1)
    num, num_steps = len(starts), len(times)
    # [num_ues, num_time_steps, 2]
    xy = starts[:, None, :2] + velocities[:, None, :2] * times[None, :, None]
    # [num_ues * num_time_steps, 3]
    flat = np.concatenate([xy.reshape(-1, 2), np.zeros([num * num_steps, 1])],
                          axis=1)
    flat[:, 2] = _ground_height(scene, flat) + float(ue_height)
    # [num_ues, num_time_steps, 3]
    pos = flat.reshape(num, num_steps, 3)
    pos[:, 0] = starts
    # [num_ues, num_time_steps]
    clear = _outdoor(scene, pos.reshape(-1, 3)).reshape(num, num_steps)
    clear = np.all(clear, axis=1)
    if num_steps > 1 and num > 0:
        # Segments between consecutive points: [num_ues * (T - 1), 3]
        origin = pos[:, :-1].reshape(-1, 3)
        step = (pos[:, 1:] - pos[:, :-1]).reshape(-1, 3)
        length = np.linalg.norm(step, axis=1)
        direction = step / np.maximum(length, 1e-12)[:, None]
        o, d = origin.astype(np.float32), direction.astype(np.float32)
        ray = mi.Ray3f(mi.Point3f(o[:, 0], o[:, 1], o[:, 2]),
                       mi.Vector3f(d[:, 0], d[:, 1], d[:, 2]))
        ray = mi.Ray3f(ray, mi.Float(length.astype(np.float32)))
        hit = np.asarray(_scene(scene).mi_scene.ray_test(ray), bool)
        # A zero-length step crosses nothing
        hit &= length > 0
        clear &= ~np.any(hit.reshape(num, num_steps - 1), axis=1)
    return pos, clear


def trace(scene, bs, carrier_frequency, ue_positions, ue_velocities,
          frequencies, num_time_steps, sampling_frequency, max_depth,
          samples_per_src, batch_size, seed, cir_paths=0,
          first_delay=False):
    """OFDM channels ``[num_ues, (num_ue_ant,) num_bs_ant, num_time_steps, fft_size]``

    The ``num_ue_ant`` axis (``bs["num_ue_ant"]`` UE antennas) is there only
    if ``num_ue_ant > 1``; the same holds for ``a`` below.

    Paths are computed for ``batch_size`` receivers at a time
    (:class:`~sionna.rt.PathSolver`, synthetic array) and converted with
    :meth:`~sionna.rt.Paths.cfr` (delays normalised per link). UEs without
    any path get an all-zero channel.

    With ``cir_paths > 0``, also returns the baseband channel impulse
    response of :meth:`~sionna.rt.Paths.cir` (same delay normalisation),
    keeping the ``cir_paths`` strongest paths of every UE (energy summed over
    antennas and time steps), strongest first; unused entries have ``a = 0``
    and ``tau = 0``: ``(h, a [num_ues, num_bs_ant, cir_paths,
    num_time_steps] complex64, tau [num_ues, cir_paths] float32)``.

    With ``first_delay``, also returns (last) the absolute delay of every
    UE's first path, ``[num_ues]`` float64 [s] (`inf` without paths): the
    delay normalisation also removes its carrier phase
    ``exp(-j 2 pi f_c tau_min)`` from the channel (Sionna
    computes the baseband phase from the normalised delays), which matters
    when channels traced at different positions are put in sequence.
    """
    # pylint: disable=import-outside-toplevel
    import numpy as np
    from sionna.rt import PathSolver, Receiver
    sc = _configure(scene, bs, carrier_frequency)
    if "path_solver" not in _SOLVERS:
        _SOLVERS["path_solver"] = PathSolver()
    solver = _SOLVERS["path_solver"]
    pos = np.asarray(ue_positions, np.float64)
    vel = None if ue_velocities is None else \
        np.asarray(ue_velocities, np.float64)
    out, cirs, firsts = [], [], []
    for start in range(0, len(pos), batch_size):
        names = []
        for i in range(start, min(start + batch_size, len(pos))):
            names.append(f"ue{i}")
            kwargs = {} if vel is None else \
                {"velocity": [float(v) for v in vel[i]]}
            sc.add(Receiver(names[-1], position=[float(v) for v in pos[i]],
                            **kwargs))
        paths = solver(sc, max_depth=max_depth,
                       samples_per_src=int(samples_per_src),
                       synthetic_array=True, seed=seed)
        h = paths.cfr(frequencies=np.asarray(frequencies, np.float32),
                      sampling_frequency=float(sampling_frequency),
                      num_time_steps=int(num_time_steps),
                      normalize_delays=True, out_type="numpy")
        # [num_rx, num_rx_ant, num_tx, num_tx_ant, num_time_steps, fft_size]
        h = np.asarray(h).astype(np.complex64)
        # [num_rx, num_rx_ant, num_tx_ant, num_time_steps, fft_size]
        h = h[:, :, 0]
        num_rx, num_ue_ant = h.shape[:2]
        # [num_rx, (num_rx_ant,) num_tx_ant, num_time_steps, fft_size]
        out.append(h[:, 0] if num_ue_ant == 1 else h)
        if first_delay:
            # [num_rx, num_paths] (synthetic array: one delay per link)
            tau = np.asarray(paths.tau, np.float64).reshape(num_rx, -1)
            tau = np.where(tau < 0, np.inf, tau)
            # [num_rx]
            firsts.append(np.min(tau, axis=1, initial=np.inf))
        if cir_paths:
            a, tau = paths.cir(sampling_frequency=float(sampling_frequency),
                               num_time_steps=int(num_time_steps),
                               normalize_delays=True, out_type="numpy")
            # [num_rx, num_rx_ant, num_tx_ant, num_paths, num_time_steps]
            a = np.asarray(a)[:, :, 0].astype(np.complex64)
            shape = a.shape
            # [num_rx, num_rx_ant * num_tx_ant, num_paths, num_time_steps]
            a = a.reshape((num_rx, -1) + shape[-2:])
            # [num_rx, num_paths] (synthetic array: one delay per link)
            tau = np.asarray(tau, np.float32).reshape(len(names), -1)
            a, tau = _strongest_paths(a, tau, int(cir_paths))
            # [num_rx, num_rx_ant, num_tx_ant, cir_paths, num_time_steps]
            a = a.reshape(shape[:3] + a.shape[-2:])
            # [num_rx, (num_rx_ant,) num_tx_ant, cir_paths, num_time_steps]
            cirs.append((a[:, 0] if num_ue_ant == 1 else a, tau))
        for name in names:
            sc.remove(name)
    result = [np.concatenate(out, axis=0)]
    if cir_paths:
        result += [np.concatenate([c[0] for c in cirs]),
                   np.concatenate([c[1] for c in cirs])]
    if first_delay:
        result.append(np.concatenate(firsts))
    return result[0] if len(result) == 1 else tuple(result)


def _strongest_paths(a, tau, num_paths):
    """The ``num_paths`` strongest paths per UE, zero-padded: ``(a, tau)``

    Input: a [num_ues, num_ant, P, T] complex, tau [num_ues, P] (invalid
    paths: a = 0, tau = -1). Output: a [num_ues, num_ant, num_paths, T]
    complex64, tau [num_ues, num_paths] float32 (unused: a = 0, tau = 0).
    """
    import numpy as np  # pylint: disable=import-outside-toplevel
    num_ues, num_ant, p, t = a.shape
    tau = np.where(tau < 0, 0.0, tau)
    # [num_ues, P]
    energy = np.sum(np.abs(a) ** 2, axis=(1, 3))
    order = np.argsort(-energy, axis=1, kind="stable")[:, :num_paths]
    out_a = np.zeros([num_ues, num_ant, num_paths, t], np.complex64)
    out_tau = np.zeros([num_ues, num_paths], np.float32)
    k = order.shape[1]
    rows = np.arange(num_ues)[:, None]
    # [num_ues, num_ant, k, T]
    out_a[:, :, :k] = np.transpose(a[rows, :, order], (0, 2, 1, 3))
    out_tau[:, :k] = tau[rows, order]
    return out_a, out_tau


def ping():
    """Health check: the worker's Mitsuba variant and whether TF is loaded"""
    import mitsuba as mi  # pylint: disable=import-outside-toplevel
    return {"variant": mi.variant(), "tensorflow": "tensorflow" in sys.modules}


def fail(message):
    """Raise in the worker (used by tests of error propagation)"""
    raise ValueError(message)


#: Functions served by the worker
FUNCTIONS = {f.__name__: f for f in (scene_info, default_sites, drop_ues,
                                     trajectories, trace, ping, fail)}


def _serve():
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    proto_in = sys.stdin.buffer
    import traceback  # pylint: disable=import-outside-toplevel
    while True:
        msg = _recv(proto_in)
        if msg is None:
            break
        name, kwargs = msg
        try:
            if name not in FUNCTIONS:
                raise ValueError(f"unknown worker function {name!r}; valid: "
                                 + ", ".join(sorted(FUNCTIONS)))
            reply = ("ok", FUNCTIONS[name](**kwargs))
        except Exception:  # pylint: disable=broad-except
            reply = ("error", traceback.format_exc())
        _send(proto_out, reply)


if __name__ == "__main__":
    _serve()
