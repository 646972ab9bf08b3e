"""Models: the UE encoder, the LAM, the SAMs and training-free decoders (Keras 3 layers)"""
from lasco_sionna.models.encoder import LinearProjectionEncoder
from lasco_sionna.models.lam import TransformerBlock, TransformerLAM
from lasco_sionna.models.sam import MixerSAM
from lasco_sionna.models.lmmse import LMMSEDecoder, lmmse_gain
from lasco_sionna.models.lookup import LookupDecoder
from lasco_sionna.models.pretrained import (list_pretrained, load_pretrained,
                                            load_source_covariance,
                                            save_compact_weights,
                                            save_source_covariance,
                                            stamp_weights_sha256,
                                            write_pretrained_record)
from lasco_sionna.models.baselines import ConvAutoencoder
from lasco_sionna.models.training import (TrainingStopped, fit, nmse_loss,
                                          squared_error_loss, train_step_fn,
                                          training_loop)
from lasco_sionna.models.front_end import (apply_batched, channel_images,
                                           image_front_end)
from lasco_sionna.models.sources import load_source_images, source_datasets
