#
# SPDX-License-Identifier: Apache-2.0
#
"""Compute cost: forward FLOPs of a layer counted on its TensorFlow graph"""

import tensorflow as tf
from tensorflow.python.profiler import (  # pylint: disable=no-name-in-module
    model_analyzer, option_builder)


def forward_flops(layer, input_shape):
    """Floating-point operations of one forward pass

    The layer is traced once into a graph and TensorFlow's profiler counts
    the float operations of every op (a multiply-add counts as 2).

    Input
    -----
    layer : `callable`
        Keras layer or function of one `tf.float32` tensor

    input_shape : `tuple` of `int`
        Input shape including the batch dimension, e.g. ``(1, 2, 32, 32)``

    Output
    ------
    flops : `int`
        FLOPs of one call on an input of ``input_shape``
    """
    if not callable(layer):
        raise TypeError(f"`layer` must be callable, got {type(layer).__name__}")
    shape = tuple(input_shape)
    if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError("`input_shape` must be a tuple of positive integers, "
                         f"got {input_shape!r}")
    graph = tf.function(layer).get_concrete_function(
        tf.TensorSpec(shape, tf.float32)).graph
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return int(model_analyzer.profile(graph, options=opts).total_float_ops)
