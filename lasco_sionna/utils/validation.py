#
# SPDX-License-Identifier: Apache-2.0
#
"""Input validation with error messages that name the value and what is allowed"""

import numbers
import sys

import numpy as np


#: Seeds are integers in ``[0, MAX_SEED]`` (what NumPy's legacy seeding accepts)
MAX_SEED = 2 ** 32 - 1


def as_scalar(value):
    """A 0-d array or eager tensor (e.g. Sionna's ``AntennaArray.num_ant``) as a NumPy/Python scalar; anything else unchanged"""
    if getattr(value, "shape", None) == () and not isinstance(
            value, (numbers.Number, np.generic)):
        if hasattr(value, "numpy"):
            value = value.numpy()
        if isinstance(value, np.ndarray):
            value = value.item()
    return value


def _article(word):
    """`str` : ``"an"`` before a word starting with a vowel, ``"a"`` otherwise"""
    return "an" if word[0].lower() in "aeiou" else "a"


def _check_number_type(name, value, integer):
    kind = "integer" if integer else "number"
    article = _article(kind)
    ok_type = (isinstance(value, numbers.Integral) if integer
               else isinstance(value, numbers.Real))
    if isinstance(value, bool) or not ok_type:
        raise ValueError(f"`{name}` must be {article} {kind}, got {value!r} "
                         f"({type(value).__name__})")
    return kind


def check_positive(name, value, integer=False, allow_zero=False):
    """Raise `ValueError` unless ``value`` is a positive (or non-negative) number

    Input
    -----
    name : `str`
        Name of the parameter, used in the message

    value : any
        Value to check

    integer : `bool`, (default `False`)
        Require an integer

    allow_zero : `bool`, (default `False`)
        Accept zero

    Output
    ------
    value : `int` | `float`
        The value, unchanged (a 0-d array or eager tensor as a scalar)
    """
    value = as_scalar(value)
    kind = _check_number_type(name, value, integer)
    bound = ">= 0" if allow_zero else "> 0"
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"`{name}` must be a finite {kind} {bound}, "
                         f"got {value!r}")
    return value


def check_number(name, value, integer=False, low=None, high=None):
    """Raise `ValueError` unless ``value`` is a finite number in ``[low, high]``

    Input
    -----
    name, value, integer :
        See :func:`check_positive`

    low, high : `None` (default) | `float`
        Inclusive bounds (`None` = unbounded)

    Output
    ------
    value : `int` | `float`
        The value, unchanged (a 0-d array or eager tensor as a scalar)
    """
    value = as_scalar(value)
    kind = _check_number_type(name, value, integer)
    if not np.isfinite(float(value)) or \
            (low is not None and value < low) or \
            (high is not None and value > high):
        allowed = f"a finite {kind}" + (
            "" if low is None and high is None else
            f" in [{'-inf' if low is None else low}, "
            f"{'inf' if high is None else high}]")
        raise ValueError(f"`{name}` must be {allowed}, got {value!r}")
    return value


def check_seed(name, value):
    """Raise `ValueError` unless ``value`` is an integer seed in ``[0, MAX_SEED]``"""
    return check_number(name, value, integer=True, low=0, high=MAX_SEED)


def check_instance(name, value, cls):
    """Raise `TypeError` unless ``value`` is an instance of ``cls``

    Input
    -----
    name, value :
        See :func:`check_positive`

    cls : `type`
        Required class

    Output
    ------
    value : same as input
        The value, unchanged
    """
    if not isinstance(value, cls):
        raise TypeError(f"`{name}` must be {_article(cls.__name__)} "
                        f"{cls.__name__}, got {type(value).__name__}")
    return value


def check_choice(name, value, allowed):
    """Raise `ValueError` unless ``value`` is one of ``allowed``"""
    if value not in allowed:
        raise ValueError(f"`{name}`={value!r} is not valid; allowed: "
                         + ", ".join(repr(a) for a in allowed))
    return value


def check_channel_tensor(name, h, rank=None, last_dims=None):
    """Check a complex channel tensor: dtype, rank, trailing dimensions, finiteness

    Input
    -----
    name : `str`
        Name used in the message

    h : `tf.Tensor` | `np.ndarray`
        Complex channel tensor

    rank : `None` | `int`
        Required rank

    last_dims : `None` | `tuple` of `int` or `None`
        Required sizes of the trailing dimensions (`None` = any)

    Output
    ------
    h : same as input
        In a TensorFlow graph, ``h`` with a run-time finiteness assertion
        attached: use the returned tensor
    """
    dtype = np.dtype(getattr(h.dtype, "as_numpy_dtype", h.dtype))
    if not np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be complex (complex64/complex128), "
                        f"got dtype {dtype}")
    shape = tuple(h.shape)
    if rank is not None and len(shape) != rank:
        raise ValueError(f"`{name}` must have rank {rank}, got shape {shape}")
    if last_dims is not None:
        tail = shape[len(shape) - len(last_dims):]
        for want, got in zip(last_dims, tail):
            if want is not None and got is not None and want != got:
                raise ValueError(f"`{name}` must end in dimensions "
                                 f"{tuple(last_dims)}, got shape {shape}")
    return check_finite(name, h)


def check_finite(name, x):
    """Raise `ValueError` if ``x`` holds NaN or Inf

    NumPy arrays, numbers and eager tensors are checked at once. A
    symbolic tensor (inside a ``tf.function``) gets a run-time assertion
    that raises `tf.errors.InvalidArgumentError` with the same message.

    Input
    -----
    name : `str`
        Name used in the message

    x : `np.ndarray` | `float` | `tf.Tensor`
        Real or complex values

    Output
    ------
    x : same as input
        ``x``; in a graph, with the assertion attached (use the result)
    """
    tf = sys.modules.get("tensorflow")
    if tf is not None and tf.is_tensor(x):
        if tf.executing_eagerly():
            check_finite(name, x.numpy())
            return x
        parts = [tf.math.real(x), tf.math.imag(x)] if x.dtype.is_complex \
            else [x]
        if not x.dtype.is_floating and not x.dtype.is_complex:
            return x
        with tf.control_dependencies([
                tf.debugging.assert_all_finite(
                    p, f"`{name}` contains NaN/Inf entries") for p in parts]):
            return tf.identity(x)
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.floating)
            or np.issubdtype(arr.dtype, np.complexfloating)):
        return x
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"`{name}` contains {int(bad.sum())} NaN/Inf "
                         f"entries (first at index "
                         f"{tuple(int(i) for i in np.argwhere(bad)[0])})")
    return x


def split_spec(what, spec):
    """Name and parameters of a ``"name"`` or ``{"name": ..., **params}`` spec

    Input
    -----
    what : `str`
        What the spec describes (for the error message)

    spec : `str` | `dict`
        The spec

    Output
    ------
    name : `str`
        ``spec`` or ``spec["name"]``

    params : `dict`
        The other entries (a copy)
    """
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and "name" in spec:
        params = dict(spec)
        return params.pop("name"), params
    raise ValueError(f"{what} spec must be a name or a dict with 'name', "
                     f"got {spec!r}")


def check_finite_tensor(name, x):
    """Check that a tensor holds no NaN/Inf

    In eager execution a `ValueError` names the tensor and the first bad
    entry (:func:`check_finite`); inside a graph a
    ``tf.debugging.assert_all_finite`` raises `InvalidArgumentError` with the
    tensor's name when the graph runs.

    Input
    -----
    name : `str`
        Name used in the message

    x : `tf.Tensor` | `np.ndarray`
        Real or complex tensor

    Output
    ------
    x : `tf.Tensor`
        The tensor (with the check attached in graph mode)
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    x = tf.convert_to_tensor(x)
    if tf.executing_eagerly():
        check_finite(name, x.numpy())
        return x
    if x.dtype.is_complex:
        tf.debugging.assert_all_finite(tf.math.real(x), f"`{name}` contains NaN/Inf")
        tf.debugging.assert_all_finite(tf.math.imag(x), f"`{name}` contains NaN/Inf")
        return x
    return tf.debugging.assert_all_finite(x, f"`{name}` contains NaN/Inf")


def check_positive_tensor(name, x):
    """Check that every entry of a real tensor is finite and > 0

    Eager: `ValueError` naming the tensor and the first bad value; graph:
    ``tf.debugging`` assertions with the tensor's name.

    Input
    -----
    name : `str`
        Name used in the message

    x : `float` | `tf.Tensor` | `np.ndarray`
        Real tensor

    Output
    ------
    x : `tf.Tensor`
        The tensor
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    x = tf.convert_to_tensor(x)
    if tf.executing_eagerly():
        v = np.asarray(x.numpy())
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"`{name}` must be finite and > 0, got "
                             f"{v[idx].item() if v.ndim else v.item()!r}"
                             + (f" at index {idx}" if v.ndim else ""))
        return x
    tf.debugging.assert_all_finite(x, f"`{name}` contains NaN/Inf")
    tf.debugging.assert_positive(x, f"`{name}` must be > 0")
    return x
