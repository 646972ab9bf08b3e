#
# SPDX-License-Identifier: Apache-2.0
#
"""The adaptation methods by name: one table for the CSI path, the benchmark and its report"""

from dataclasses import dataclass, field

from lasco_sionna.utils.validation import check_choice


@dataclass(frozen=True)
class AdaptationMethod:
    r"""How a named adaptation method adapts the LAM to a target

    Parameters
    ----------
    kind : "sam" | "linear" | "stacked" | "finetune"
        ``"sam"``: LASCO/E-LASCO with a trained proxy SAM
        (:func:`~lasco_sionna.collab.adapt`); ``"linear"``: with linear
        SAMs, nothing trained (:func:`~lasco_sionna.collab.adapt_linear`);
        ``"stacked"``: per-tap E-LASCO with a trained proxy SAM on top of
        the linear method ``base`` (which :func:`~lasco_sionna.collab.adapt`
        sees as the opaque LAM); ``"finetune"``: a fine-tuned LAM copy
        (:func:`~lasco_sionna.collab.finetune`)

    kwargs : `dict`
        Keyword arguments of that function (``mode``, ``variant``,
        ``learning_rate``)

    family : "collab" | "ablation" | "finetune"
        LASCO/E-LASCO proper, an ablation of it, or a white-box baseline

    base : `None` (default) | `str`
        The linear method a ``"stacked"`` method builds on
    """

    kind: str
    kwargs: dict = field(default_factory=dict)
    family: str = "collab"
    base: str = None


#: Every adaptation method by its one name. The fine-tuning learning rates
#: are those of ``sims/bench_lasco.py``.
ADAPTATION_METHODS = {
    "lasco": AdaptationMethod("sam", {"mode": "lasco"}),
    "elasco_scalar": AdaptationMethod("sam", {"mode": "scalar"}),
    "elasco_tap": AdaptationMethod("sam", {"mode": "tap"}),
    "elasco_antenna": AdaptationMethod("sam", {"mode": "antenna"}),
    "proxy_alone": AdaptationMethod(
        "sam", {"mode": "lasco", "variant": "proxy_alone"},
        family="ablation"),
    "lasco_linear": AdaptationMethod("linear", {"mode": "lasco"}),
    "elasco_linear": AdaptationMethod("linear", {"mode": "tap"}),
    "elasco_tap_on_lasco_linear": AdaptationMethod(
        "stacked", {"mode": "tap"}, base="lasco_linear"),
    "elasco_tap_on_elasco_linear": AdaptationMethod(
        "stacked", {"mode": "tap"}, base="elasco_linear"),
    "lam_full_ft": AdaptationMethod(
        "finetune", {"variant": "full", "learning_rate": 1e-4},
        family="finetune"),
    "lam_last_block_ft": AdaptationMethod(
        "finetune", {"variant": "last_blocks", "learning_rate": 3e-4},
        family="finetune"),
    "lam_lora": AdaptationMethod(
        "finetune", {"variant": "lora", "learning_rate": 1e-3},
        family="finetune")}

#: Older names, still found in result tables written before the names were
#: unified: ``elasco_linear_ls`` was the benchmark's name of
#: ``elasco_linear``; ``elasco_tap_linear`` and ``elasco_tap_ls`` were the
#: trained per-tap E-LASCO stacked on ``lasco_linear`` and on
#: ``elasco_linear``
METHOD_ALIASES = {"elasco_linear_ls": "elasco_linear",
                  "elasco_tap_linear": "elasco_tap_on_lasco_linear",
                  "elasco_tap_ls": "elasco_tap_on_elasco_linear"}


def method_name(name):
    """The one name of a method (older names mapped, others unchanged)

    Input
    -----
    name : `str`
        A method name, possibly an older one (:data:`METHOD_ALIASES`)

    Output
    ------
    name : `str`
        Its current name
    """
    return METHOD_ALIASES.get(name, name)


def get_adaptation_method(name):
    """The :class:`AdaptationMethod` of a name (older names accepted)

    Input
    -----
    name : `str`
        A key of :data:`ADAPTATION_METHODS` or :data:`METHOD_ALIASES`

    Output
    ------
    method : :class:`AdaptationMethod`
    """
    check_choice("method", method_name(name), tuple(ADAPTATION_METHODS))
    return ADAPTATION_METHODS[method_name(name)]


def methods_of(*families):
    """`tuple` of `str` : Names of the methods of the given families"""
    return tuple(n for n, m in ADAPTATION_METHODS.items()
                 if m.family in families)
