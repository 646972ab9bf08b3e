#
# SPDX-License-Identifier: Apache-2.0
#
"""The images of a model's pretraining source environments"""

import numpy as np

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.dataset import build_dataset
from lasco_sionna.channels.environment import get_environment
from lasco_sionna.models.front_end import channel_images


def source_datasets(config, executor=None, progress=True):
    # pylint: disable=line-too-long
    r"""The cached datasets of a pretraining config's source environments

    Source ``i`` of ``config["sources"]`` is the dataset of its environment
    (``environment``, optional ``params``, the config's ``numerology`` and
    ``bs_array``) with ``num_samples`` draws and seed ``config["seed"] + i``
    (the seeds every shipped model was pretrained with: cached datasets and
    shipped weights depend on them, so they are not derived otherwise).

    Parameters
    ----------
    config : `dict`
        Pretraining config (``sources``, ``seed``, optional ``numerology``,
        ``bs_array``)

    executor : `None` (default) | "ray"
        Where missing dataset chunks are generated (same files)

    progress : `bool`, (default `True`)
        Show the dataset progress bars

    Output
    ------
    datasets : generator of (`str`, `dict`, :class:`~lasco_sionna.channels.ChannelDataset`)
        ``(label, source entry, dataset)`` per source, in config order, each
        built when it is reached (one source in memory at a time); the label
        is the source's ``label`` or its environment name
    """
    num = Numerology(**config.get("numerology", {}))
    arr = BSArray(**config.get("bs_array", {}))
    for i, src in enumerate(config["sources"]):
        env = get_environment(src["environment"], numerology=num,
                              bs_array=arr, **dict(src.get("params", {})))
        ds = build_dataset(env, src["num_samples"], seed=config["seed"] + i,
                           executor=executor, progress=progress)
        yield src.get("label", src["environment"]), src, ds


def load_source_images(config, executor=None, test=False, verbose=True):
    # pylint: disable=line-too-long
    r"""Source datasets of a pretraining config -> their images per split

    The sources are :func:`source_datasets`. A source's optional
    ``validation_from: k`` keeps only validation (and test) draws with index
    ``>= k``: draws ``0 .. k-1`` are an earlier phase's dataset (the same
    seeded chunks), which trained on most of them.

    Parameters
    ----------
    config : `dict`
        Pretraining config (``sources``, ``seed``, ``num_taps``, optional
        ``numerology``, ``bs_array``, ``max_validation`` (default 500));
        a shipped model's is ``load_pretrained(name)[2]["config"]``

    executor : `None` (default) | "ray"
        Where missing dataset chunks are generated (same files)

    test : `bool`, (default `False`)
        Also return the test images (at most ``max_validation``)

    verbose : `bool`, (default `True`)
        Print the split sizes and dataset progress

    Output
    ------
    images : `dict`
        ``label -> (train, validation[, test])``, each
        ``[n, 2, num_ant, num_taps]``, `np.float32`
    """
    out = {}
    for label, src, ds in source_datasets(config, executor, verbose):
        first = int(src.get("validation_from", 0))
        if not 0 <= first < src["num_samples"]:
            raise ValueError(f"{label}: `validation_from`={first!r} must be "
                             f"in [0, num_samples={src['num_samples']})")
        held_out = config.get("max_validation", 500)
        idx = {"train": ds.splits["train"],
               "validation": ds.splits["validation"][
                   ds.splits["validation"] >= first][:held_out]}
        if test:
            idx["test"] = ds.splits["test"][ds.splits["test"] >= first][
                :held_out]
        parts = tuple(channel_images(ds.subset(which).as_matrix(),
                                     config["num_taps"], batch_size=1024)[0]
                      .astype(np.float32) for which in idx.values())
        out[label] = parts
        if verbose:
            print(f"{label}: " + " / ".join(f"{len(p)} {k}" for k, p in
                                            zip(idx, parts)), flush=True)
    return out
