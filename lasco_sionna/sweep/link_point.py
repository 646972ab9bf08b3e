#
# SPDX-License-Identifier: Apache-2.0
#
"""Older name of :mod:`lasco_sionna.link.point`, the link's sweep evaluator

Sweep configs (and the results they identify) name the evaluator
``lasco_sionna.sweep.link_point:evaluate_point``; this module keeps that
name working. :mod:`lasco_sionna.sweep` itself never imports it, so the
sweep package stays free of Sionna and TensorFlow.
"""
# pylint: disable=unused-import
from lasco_sionna.link.point import DEFAULTS, evaluate_point  # noqa: F401
