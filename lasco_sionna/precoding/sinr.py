#
# SPDX-License-Identifier: Apache-2.0
#
"""Per-user downlink SINR of a linear precoder on single-antenna receivers"""

import tensorflow as tf


def downlink_sinr(h, g, no):
    # pylint: disable=line-too-long
    r"""Per-user SINR ``|h_k g_k|^2 / (sum_{j != k} |h_k g_j|^2 + no)``

    User ``k`` receives ``y_k = h_k G x + n_k`` (``h_k``: row ``k`` of ``h``,
    unit-power symbols ``x``, noise variance ``no``); with perfect receiver
    knowledge of its effective channel this is the SINR of any linear
    single-stream receiver (matched filter = LMMSE), i.e. what
    :class:`~sionna.phy.ofdm.LMMSEPostEqualizationSINR` gives for
    single-antenna UEs. Column norms of ``g`` are the stream powers.

    Input
    -----
    h : [..., num_users, num_tx_ant], `tf.complex`
        Channel (the *actual* channel when judging a precoder)

    g : [..., num_tx_ant, num_users], `tf.complex`
        Precoding matrix

    no : `float` | [...] (broadcastable to the leading dims of ``h``), `tf.float`
        Noise variance

    Output
    ------
    sinr : [..., num_users], `tf.float`
        Linear SINR per user
    """
    # [..., num_users (rx), num_users (stream)]
    gain = tf.abs(tf.matmul(h, g)) ** 2
    signal = tf.linalg.diag_part(gain)
    interference = tf.reduce_sum(gain, axis=-1) - signal
    no = tf.cast(no, signal.dtype)
    no = tf.reshape(no, tf.concat([tf.shape(no),
                                   tf.ones([1], tf.int32)], 0))
    return signal / (interference + no)
