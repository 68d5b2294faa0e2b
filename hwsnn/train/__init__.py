"""Training: configs, losses, the pure train step, the loop, checkpoints and metrics."""

from hwsnn.train.builders import build_model
from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import (
    SECTIONS,
    DataConfig,
    EnergyConfig,
    HardwareConfig,
    ModelConfig,
    NeuronConfig,
    TrainConfig,
    TrainingConfig,
    config_from_dict,
    load_config,
)
from hwsnn.train.deploy import restore_run
from hwsnn.train.loop import train_and_evaluate
from hwsnn.train.losses import ce_count, ce_rate, firing_rate_loss, mse_count, predict
from hwsnn.train.metrics import read_jsonl
from hwsnn.train.parallel import data_mesh, replicate, shard_batch
from hwsnn.train.run import Run
from hwsnn.train.step import TrainState, init_state, make_eval_step, make_objective, make_train_step

__all__ = [
    "SECTIONS",
    "Checkpointer",
    "DataConfig",
    "EnergyConfig",
    "HardwareConfig",
    "ModelConfig",
    "NeuronConfig",
    "Run",
    "TrainConfig",
    "TrainState",
    "TrainingConfig",
    "build_model",
    "ce_count",
    "ce_rate",
    "config_from_dict",
    "data_mesh",
    "firing_rate_loss",
    "init_state",
    "load_config",
    "make_eval_step",
    "make_objective",
    "make_train_step",
    "mse_count",
    "predict",
    "read_jsonl",
    "replicate",
    "restore_run",
    "shard_batch",
    "train_and_evaluate",
]
