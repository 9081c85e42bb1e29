"""Setting up and running one downstream experiment: train (or resume) and evaluate.

The heavy lifting lives elsewhere: ``training`` (the loop), ``evaluation`` (metrics on a
split), ``results`` (results.json, the layer-weight chart).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from aalbert import distributed as dist
from aalbert import rng
from aalbert.atomic import remove_stale_temp_files
from aalbert.checkpoint_file import CheckpointError, load_checkpoint_file
from aalbert.config import ConfigError, save_config
from aalbert.errors import UsageError
from aalbert.experiment import read_record, write_record
from aalbert.training_log import TENSORBOARD_DIR
from aalbert.training_loop import TrainingState
from aalbert.upstream.sizes import UpstreamSizes

from .config import DataConfig, ExperimentConfig
from .data import UtteranceDataset, load_corpus
from .data.splits import SplitError, write_split_files
from .evaluation import evaluate, split_loader
from .experiment_config import CONFIG_FILE
from .expert import TaskContext
from .feature_cache import FeatureCache, cache_manifest, fill_cache
from .featurizer import Featurizer
from .layer_weights_figure import plot_layer_weights
from .model import DownstreamModel
from .registry import Task, UnknownTaskError, load_task
from .results import LAYER_WEIGHTS_PNG, read_results, results_record, write_results
from .task_checks import check_declarations, check_first_batch
from .training import BEST, PREVIOUS_BEST, best_checkpoint, epoch_loader, latest_state, train_loop

log = logging.getLogger(__name__)
SPLITS_DIR = "splits"  # the utterance lists a run used (train/dev/test.txt)


def load_upstream_by_name(name: str, ckpt: str | None) -> nn.Module:
    from aalbert.hub import load_upstream  # late: the hub imports every upstream family

    return load_upstream(name, ckpt)


def load_task_of_experiment(name: str, expdir: Path) -> Task:
    """The task ``name``; for an experiment whose plugin is gone, the error names its package."""
    try:
        return load_task(name)
    except UnknownTaskError as err:
        package = read_results(expdir).get("task_package") or {}
        if not package.get("name") or package["name"] == "aalbert":
            raise
        raise UnknownTaskError(
            f"{expdir} was trained with task {name!r} of package {package['name']} "
            f"{package.get('version', '')}, which is not installed: pip install "
            f"{package['name']}=={package.get('version', '')}".rstrip("=")
        ) from err


class Runner:
    def __init__(
        self,
        config: ExperimentConfig,
        expdir: str | Path,
        upstream: nn.Module | None = None,
        record: dict | None = None,
        device: str | None = None,
        progress: bool = True,
    ):
        """``upstream`` may be passed in (tests, notebooks); otherwise it comes from the hub by name.
        ``record``: written to the experiment folder when training starts (see aalbert.experiment).
        ``device``: cpu, cuda or auto (None: cuda when available). ``progress``: draw progress bars (rank 0)."""
        self.config = config
        self.progress = progress and dist.is_main()
        self.expdir = Path(expdir)
        self.record = record
        self.task: Task = load_task_of_experiment(config.task, self.expdir)
        check_declarations(config.task, self.task.expert_class, config.labels)
        rng.seed_everything(config.seed)
        if upstream is None:
            upstream = load_upstream_by_name(config.upstream, config.upstream_ckpt)
        self.upstream: nn.Module = upstream
        self.device = dist.resolve_device(device)
        if config.precision != "fp32":
            from aalbert.upstream.precision import apply_precision

            apply_precision(upstream, config.precision, self.device)
        self.corpus = load_corpus(self._data_config(), self.task.expert_class.task_data(config.task, config.labels))
        if dist.is_main() and record is not None:
            write_record(self.expdir, record)  # the folder's first file: what made it (see aalbert.experiment)
        if dist.is_main() and not (self.expdir / SPLITS_DIR).is_dir():
            write_split_files(self.corpus.split_ids, self.expdir / SPLITS_DIR)  # to repeat the run exactly
        fcfg = config.featurizer
        sizes = UpstreamSizes.of(upstream)
        featurizer = Featurizer(sizes.num_hidden_states, fcfg.mode, fcfg.layer, fcfg.layer_norm, fcfg.cmvn)
        context = TaskContext(sizes.hidden_size, sizes.downsample_rate, self.corpus, config.task, tuple(config.labels))
        expert = self.task.expert_class(context, config.model)
        self.model = DownstreamModel(upstream, featurizer, expert, config.finetune).to(self.device)
        cache = config.runner.feature_cache
        if cache != "none":
            if config.finetune:
                raise ConfigError(
                    "runner.feature_cache needs a frozen upstream: a fine-tuned one (-f) changes its "
                    "features every step"
                )
            on_disk = cache != "memory"  # a memory cache keeps float32 (see runner.feature_cache_dtype)
            dtype = config.runner.feature_cache_dtype if on_disk else "float32"
            self.model.feature_cache = FeatureCache(sizes.num_hidden_states, cache if on_disk else None, dtype)

    def _data_config(self) -> DataConfig:
        """The data section; a resumed or evaluated experiment reads the split it was trained on."""
        data = self.config.data
        if data.splits is None and (self.expdir / SPLITS_DIR).is_dir():
            log.info("using the split of %s", self.expdir / SPLITS_DIR)
            return dataclasses.replace(data, splits=str(self.expdir / SPLITS_DIR))
        return data

    def cache_features(self, splits: tuple[str, ...]) -> None:
        """Run the frozen upstream once over ``splits`` (the utterances not cached yet)."""
        cache = self.model.feature_cache
        if cache is None:
            return
        utterances = [u for split in splits for u in self.corpus.splits[split]]
        # the seed is what a randomly initialised hub upstream was built from (see __init__)
        manifest = cache_manifest(
            self.config.upstream,
            self.config.upstream_ckpt,
            self.config.seed,
            "none",
            cache.dtype,
            self.config.precision,
        )

        def fill() -> None:
            fill_cache(
                self.upstream,
                utterances,
                cache,
                manifest,
                batch_size=self.config.runner.eval_batch_size,
                device=self.device,
                progress=self.progress,
                check=self.config.runner.feature_cache_check,
            )

        if cache.directory is None or dist.world_size() == 1:
            fill()  # in memory every rank keeps its own
        else:
            # one shared folder: rank 0 fills it, then the other ranks find it complete
            if dist.is_main():
                fill()
            dist.barrier()
            if not dist.is_main():
                fill()

    # ----------------------------------------------------------------------------- data
    def loader(self, split: str) -> DataLoader:
        """An evaluation loader (in corpus order; draws nothing from the global RNG)."""
        dataset = UtteranceDataset(self.corpus.splits[split], self.corpus, with_audio=self.model.feature_cache is None)
        rc = self.config.runner
        return split_loader(dataset, rc.eval_batch_size, self.config.seed, rc.num_workers)

    def train_loader(self, epoch: int, position: int = 0) -> DataLoader:
        """Epoch ``epoch``'s training batches from batch ``position`` on; the order depends only on
        (seed, epoch), so a resumed run continues with the batches a straight run would see."""
        dataset = UtteranceDataset(
            self.corpus.splits["train"], self.corpus, with_audio=self.model.feature_cache is None
        )
        rc = self.config.runner
        return epoch_loader(dataset, rc.batch_size, self.config.seed, epoch, position, rc.num_workers)

    def optimizer(self) -> torch.optim.Optimizer:
        oc = self.config.optimizer
        groups = [
            {
                "params": [
                    p
                    for p in list(self.model.featurizer.parameters()) + list(self.model.expert.parameters())
                    if p.requires_grad
                ],
                "lr": oc.lr,
            }
        ]
        if self.config.finetune:
            groups.append({"params": [p for p in self.upstream.parameters() if p.requires_grad], "lr": oc.upstream_lr})
        return torch.optim.AdamW(groups, lr=oc.lr, weight_decay=oc.weight_decay)

    # ----------------------------------------------------------------------------- modes
    def train(self, continuing: bool = False) -> dict:
        """Train (resuming from the folder's latest states-STEP.ckpt when present), then test the best checkpoint.

        ``continuing`` (``-e``): the run must have steps left to train; a total at or below the step
        the latest state reached is an error rather than a silent re-evaluation."""
        self.expdir.mkdir(parents=True, exist_ok=True)
        optimizer = self.optimizer()
        state, rng_state = TrainingState(), None
        latest = latest_state(self.expdir)
        if latest is not None:
            ckpt = load_checkpoint_file(latest)
            try:
                self.model.load_trainable_state(ckpt["model"])
                optimizer.load_state_dict(ckpt["optimizer"])
                state = TrainingState(**ckpt["state"])
            except (KeyError, RuntimeError, TypeError, ValueError) as err:
                raise CheckpointError(latest, f"does not fit this experiment's model ({err})") from err
            rng_state = ckpt.get("rng")
            if continuing and state.step >= self.config.runner.total_steps:
                raise ConfigError(
                    f"{latest} is at step {state.step} and runner.total_steps is "
                    f"{self.config.runner.total_steps}: nothing to train. To continue, give a larger total, e.g. "
                    f"-o runner.total_steps={2 * state.step}"
                )
            log.info("resuming %s from step %d", self.expdir, state.step)
        elif self.config.init_ckpt:  # s3prl's -i: a new run starts from another run's trained weights
            self._load_weights(Path(self.config.init_ckpt), upstream_optional=True)
            log.info("starting from the weights of %s", self.config.init_ckpt)
        if dist.is_main():
            for stale in remove_stale_temp_files(self.expdir):
                log.info("removed %s, left by an interrupted checkpoint write", stale.name)
            if self.record is not None:
                write_record(self.expdir, self.record)
            save_config(self.config, self.expdir / CONFIG_FILE)
        self.cache_features(("train", "dev", "test"))
        if not self.corpus.splits["train"]:
            raise SplitError("the train split has no utterances")
        dev_loader = self.loader("dev")
        check_first_batch(self.config.task, self.model, dev_loader)  # a wrong declaration fails before step 1
        train_model: nn.Module = self.model
        if dist.world_size() > 1:
            train_model = DistributedDataParallel(self.model)
        if rng_state is not None:
            rng.restore(rng_state)  # last: everything above may draw from the RNGs, in both runs alike
        state = train_loop(
            self.model,
            train_model,
            optimizer,
            self.train_loader,
            self.config.runner,
            state,
            self.expdir,
            lambda: evaluate(self.model, dev_loader, "dev", self.progress),
            self.expdir / TENSORBOARD_DIR,
            desc=self.config.task,
            progress=self.progress,
        )
        return self.evaluate(state)

    def _load_weights(self, path: Path, upstream_optional: bool = False) -> dict:
        """The trained weights of the checkpoint at ``path`` into the model; the checkpoint."""
        ckpt = load_checkpoint_file(path)
        try:
            self.model.load_trainable_state(ckpt["model"], upstream_optional=upstream_optional)
        except (KeyError, RuntimeError, TypeError) as err:
            raise CheckpointError(path, f"does not fit this experiment's model ({err})") from err
        return ckpt

    def evaluate(self, state: TrainingState | None = None, checkpoint: Path | None = None, split: str = "test") -> dict:
        """Load the best dev checkpoint (or ``checkpoint``: the file s3prl's ``-e FILE`` / ``-i FILE`` names),
        report the metrics of ``split`` (s3prl's ``-t``), write results.json (rank 0)."""
        if split not in self.corpus.splits:
            raise UsageError(f"-t {split}: this experiment's splits are {', '.join(self.corpus.splits)}")
        path = Path(checkpoint) if checkpoint is not None else best_checkpoint(self.expdir)
        ckpt = self._load_weights(path)
        if path.name not in (BEST, PREVIOUS_BEST):
            log.info("evaluating %s (not the best dev checkpoint %s)", path, BEST)
        state = state or TrainingState(**ckpt["state"])
        results: dict = {}
        self.cache_features((split,))  # every rank: a shared folder is filled behind a barrier
        if dist.is_main():
            from aalbert.hub import upstream_label  # late: the hub imports every upstream family

            scores = evaluate(self.model, self.loader(split), split, self.progress)
            previous = read_results(self.expdir)
            label = upstream_label(self.config.upstream, self.config.upstream_ckpt, self.config.seed)
            results = results_record(
                self.config, self.task, self.upstream, self.model, self.corpus, state, scores, previous, label
            )
            if split != "test":  # results_record files them as test scores: keep the test scores the folder has
                metrics = results["metrics"]
                metrics.pop("test")
                results["metrics"] = {**previous.get("metrics", {}), **metrics, split: scores}
            # which weights the metrics are of: dev-best.ckpt, or the file -e / -i named (its path if elsewhere)
            inside = path.resolve().parent == self.expdir.resolve()
            step = int(ckpt["state"]["step"])
            results["evaluated_checkpoint"] = {"file": path.name if inside else str(path), "step": step, "split": split}
            asked = (read_record(self.expdir) or {}).get("asked")
            if asked:  # the task's name as the command gave it (s3prl's)
                results["asked"] = asked
            write_results(self.expdir, results)
            plot_layer_weights(results, self.expdir / LAYER_WEIGHTS_PNG)
        dist.barrier()
        return results
