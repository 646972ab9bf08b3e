#
# SPDX-License-Identifier: Apache-2.0
#
"""A shipped model (UE encoder and BS decoder) as a CSI path of the link"""

from lasco_sionna.csi.feedback import register_csi_feedback
from lasco_sionna.csi.learned import LearnedCSIFeedback
from lasco_sionna.models.pretrained import load_pretrained


def pretrained_csi_feedback(num_bs_ant, fft_size, precision=None, model=None,
                            norm_bits=8):
    # pylint: disable=line-too-long
    r"""CSI path of a shipped model, unadapted

    Registered as the CSI path ``"pretrained"``:
    ``{"name": "pretrained", "model": "lam-cr16"}``.

    Parameters
    ----------
    num_bs_ant, fft_size : `int`
        Link dimensions

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    model : `str`
        Shipped model (see :func:`~lasco_sionna.models.list_pretrained`)

    norm_bits : `int`, (default 8)
        Bits of the image norm

    Output
    ------
    csi : :class:`~lasco_sionna.csi.LearnedCSIFeedback`
        The model's encoder at the UE, the model at the BS
    """
    if model is None:
        raise ValueError("the 'pretrained' CSI path needs `model`, e.g. "
                         "{'name': 'pretrained', 'model': 'lam-cr16'}")
    encoder, decoder, _ = load_pretrained(model)
    return LearnedCSIFeedback(encoder, decoder, num_bs_ant, fft_size,
                              norm_bits=norm_bits, precision=precision)


register_csi_feedback("pretrained", pretrained_csi_feedback)
