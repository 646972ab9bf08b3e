"""Channel prediction: report sequences, baselines, the Wiener limit and trained predictors

Every predictor maps a history ``[..., L, num_bs_ant, fft_size]`` of CSI
reports (one per report period, oldest first) to the next ``horizon``
reports ``[..., H, num_bs_ant, fft_size]``.
"""
from lasco_sionna.prediction.base import ChannelPredictor, check_history
from lasco_sionna.prediction.data import (REPORT_PERIOD, entry_windows,
                                          environment_at_speed,
                                          noisy_reports, report_sequences,
                                          sliding_windows, speed_params)
from lasco_sionna.prediction.hold import SampleAndHold
from lasco_sionna.prediction.linear import (MODES, LinearPredictor,
                                            autocorrelation,
                                            least_squares_coefficients)
from lasco_sionna.prediction.ar import ARPredictor
from lasco_sionna.prediction.kalman import (KalmanPredictor,
                                            kalman_coefficients, yule_walker)
from lasco_sionna.prediction.prony import PronyPredictor
from lasco_sionna.prediction.wiener import (WienerPredictor,
                                            jakes_correlation,
                                            linear_predictor_nmse,
                                            wiener_coefficients, wiener_nmse)
from lasco_sionna.prediction.entrywise import EntrywisePredictor
from lasco_sionna.prediction.gru import GRUPredictor
from lasco_sionna.prediction.transformer import TransformerPredictor
from lasco_sionna.prediction.training import train_predictor
from lasco_sionna.prediction.evaluate import (distance_to_limit,
                                              evaluate_predictors,
                                              prediction_nmse)
from lasco_sionna.prediction.lookup import LookupPredictor
from lasco_sionna.prediction.pretrained import (list_predictors,
                                                load_predictor)
from lasco_sionna.prediction.registry import (PREDICTORS, get_predictor,
                                              predictor_needs_training)
from lasco_sionna.prediction.csi_path import (ORDERS, PredictedCSI,
                                              predicted_csi_feedback)
